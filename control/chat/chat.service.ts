import type { WebSocket } from 'ws';
import type { Cache } from '../../core/cache/cache.port.js';
import { audienceKeys } from '../../core/cache/keys.js';
import { chatCloseCodes, type ClientMessage, type ServerMessage } from '../../core/chat/chat-protocol.js';
import type { OnairConfig } from '../../core/config/schema.js';
import type { Logger } from '../../core/logging/logger.js';
import type { PubSub } from '../../core/pubsub/pubsub.port.js';
import { parseKeptId, roomChannel } from '../../core/pubsub/wire.js';
import type { RateCounter, RateLimits } from '../../core/rate-limit/rate-limit.port.js';
import { RateLimitedError, ValidationError } from '../../core/errors.js';
import type { Presence } from '../audience/presence.js';
import { Announcer } from './announcer.js';
import { ChatConn, type ChatConnHost, type ChatPrincipal } from './chat-conn.js';
import type { MessageStore } from './message.store.js';
import { RoomFanout, type Envelope } from './room-fanout.js';
import { WordFilter } from './word-filter.js';
import type { ChatMetrics } from './chat-metrics.js';
import { countChatPost } from './chat-rate.js';

export interface ChatServiceDeps {
  pubsub: PubSub;
  cache: Cache;
  rateLimits: RateLimits;
  presence: Presence;
  messages: MessageStore;
  config: OnairConfig['chat'];
  log: Logger;
  /** Likes from sockets, summed per room and second (the show's counters: control/discovery). */
  likes?: (roomId: string, count: number) => Promise<unknown>;
  /** ONAIR_RATE_LIKES per user and room (control/discovery/like-budget.ts): throws RateLimitedError past it. */
  likeBudget?: { take(roomId: string, userId: string, count: number): Promise<void> };
  /** Post results and dropped sockets, for /metrics (control/chat/chat-metrics.ts). */
  metrics?: ChatMetrics;
  /** The rules shown after `welcome` (control/chat/conventions.ts); ONAIR_CHAT_CONVENTIONS alone when absent. */
  conventions?: (roomId: string) => Promise<{ platform: string | null; room: string | null }>;
  /** A user's socket counted them into the room (they had not entered through /enter): record the enter. */
  onJoined?(roomId: string, sessionId: string | null, userId: string, online: number): void;
  /**
   * Why `userId` may no longer be in the room ('kicked', 'blacklisted'), or null: re-checked for
   * every user socket of this node when its pub/sub connection comes back (a kick published
   * while it was down never reached this node). The room-entry funnel's checkAccess.
   */
  accessRevoked?(roomId: string, userId: string): Promise<string | null>;
  /**
   * When the moderation pause of the room's anchor ends now (their active publishing ban; Infinity
   * for a permanent one), null when none runs: a pause extended by a later ban is announced at its
   * new end, not the old one.
   */
  pausedUntil?(roomId: string): Promise<number | null>;
  /** A member whose presence expired was removed by this node (heartbeat timeout): record the exit. */
  onTimedOut?(roomId: string, member: string, enteredAt: number | null, online: number): Promise<void>;
}

export interface OpenChat {
  roomId: string;
  sessionId: string | null;
  principal: ChatPrincipal;
  /** Resume: the last history id the client saw (it gets what it missed); the latest few when absent. */
  after?: string;
  /** The client's address key (core/http/client-address.ts): anonymous sockets are capped per address and room. */
  address?: string;
  /**
   * When the room's live show began (ms). A new socket's greeting (no `after`) replays only what was
   * said since: the room's history spans its shows, and a second show's chat opened with the first
   * show's last lines and its "the show has ended" notice. A resume (`after`) is not cut.
   */
  showSince?: number;
}

/** Sockets pinged at once by a heartbeat round, and the pause between two slices (chatService.heartbeatRound). */
const PING_SLICE = 500;
const PING_SLICE_PAUSE_MS = 10;

/** How often every node looks for moderation pauses that ended (the worst-case delay of their `stream_resumed`). */
export const PAUSE_SWEEP_MS = 1000;
/** A socket's `resume` frames are at least this far apart (the first one always passes). */
const RESUME_INTERVAL_MS = 5000;
/** Messages a new socket gets from history when it does not resume. */
const GREETING_HISTORY = 20;
/**
 * C0 control characters and DEL, except tab and line breaks: nothing a person types, and a NUL cut
 * SQLite's batch INSERT short, which lost every other line of that batch from the record.
 */
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
let anonymousSeq = 0;

/**
 * Live chat on this node: opens sockets into their room's fan-out, posts (limits, filter, history,
 * the messages table), heartbeats (pings, presence refresh, the sweeper that exits viewers whose
 * sockets are gone on any node), and the aggregated audience announcements.
 */
export class ChatService implements ChatConnHost {
  readonly fanout: RoomFanout;
  readonly announcer: Announcer;
  private readonly conns = new Set<ChatConn>();
  /** Open anonymous sockets per "room\naddress" (config.anonymousPerAddress); each socket keeps its key (ChatConn.addressKey). */
  private readonly anonymousByAddress = new Map<string, number>();
  private readonly rate: RateCounter | null;
  private readonly filter: WordFilter;
  private readonly nodeKey = Math.random().toString(36).slice(2, 8);
  private pingTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;
  private pausing: Promise<unknown> = Promise.resolve();
  private sweeping: Promise<unknown> = Promise.resolve();
  private heartbeating = false;
  private stopResubscribed: (() => void) | undefined;
  private rechecking: Promise<number> | undefined;

  constructor(private readonly deps: ChatServiceDeps) {
    this.fanout = new RoomFanout(deps.pubsub, deps.log);
    this.announcer = new Announcer(deps.pubsub, deps.log, 1000, deps.likes);
    this.rate = deps.config.rate ? deps.rateLimits.counter('chat-post', deps.config.rate) : null;
    this.filter = new WordFilter(deps.config.words);
  }

  get maxBufferedBytes(): number {
    return this.deps.config.maxBufferedBytes;
  }

  get socketCount(): number {
    return this.conns.size;
  }

  start(): void {
    const { pingInterval, heartbeatTimeout } = this.deps.config;
    this.pingTimer = setInterval(() => void this.heartbeat(), pingInterval);
    this.pingTimer.unref();
    this.sweepTimer = setInterval(() => {
      this.sweeping = this.sweep().catch((err: unknown) => this.deps.log.warn({ err }, 'audience sweep failed'));
    }, Math.max(1000, Math.floor(heartbeatTimeout / 2)));
    this.sweepTimer.unref();
    this.pauseTimer = setInterval(() => {
      this.pausing = this.announceEndedPauses().catch((err: unknown) => this.deps.log.warn({ err }, 'announcing ended moderation pauses failed'));
    }, PAUSE_SWEEP_MS);
    this.pauseTimer.unref();
    this.stopResubscribed = this.deps.pubsub.onResubscribed(() => {
      this.rechecking = this.recheckAccess().catch((err: unknown) => {
        this.deps.log.warn({ err }, 're-checking the kicks after a pub/sub reconnect failed');
        return 0;
      });
    });
  }

  /**
   * Closes the sockets of users who may no longer be in their room (kicked or blacklisted while
   * this node's pub/sub connection was down, so the `kicked` message never reached it). Runs
   * when the connection is back; `concurrency` checks at a time. Returns how many sockets closed.
   */
  async recheckAccess(concurrency = 32): Promise<number> {
    const check = this.deps.accessRevoked;
    if (!check) return 0;
    const pairs: Array<[string, string]> = [];
    for (const roomId of this.fanout.roomIds()) for (const userId of this.fanout.usersOf(roomId)) pairs.push([roomId, userId]);
    let closed = 0;
    let next = 0;
    const worker = async () => {
      while (next < pairs.length) {
        const [roomId, userId] = pairs[next++]!;
        const reason = await check(roomId, userId);
        if (reason === null) continue;
        for (const socket of this.fanout.socketsOfUser(roomId, userId)) {
          socket.close(chatCloseCodes.kicked, reason);
          closed++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, pairs.length) }, worker));
    if (closed > 0) this.deps.log.info({ closed }, 'closed the sockets of users kicked while pub/sub was down');
    return closed;
  }

  /** Anonymous sockets `address` holds in the room on this node. */
  anonymousSocketsFrom(roomId: string, address: string): number {
    return this.anonymousByAddress.get(`${roomId}\n${address}`) ?? 0;
  }

  /** Runs on an accepted upgrade. */
  open(ws: WebSocket, ctx: OpenChat): ChatConn {
    const member = ctx.principal.user?.id ?? `anon:${this.nodeKey}:${++anonymousSeq}`;
    const conn = new ChatConn(ws, ctx.roomId, ctx.sessionId, ctx.principal, member, this, this.deps.log);
    this.conns.add(conn);
    if (ctx.principal.user === null && ctx.address !== undefined && this.deps.config.anonymousPerAddress > 0) {
      const key = `${ctx.roomId}\n${ctx.address}`;
      const held = this.anonymousByAddress.get(key) ?? 0;
      // The upgrade checked it (429); upgrades that raced past the check are closed here.
      if (held >= this.deps.config.anonymousPerAddress) {
        conn.close(1008, 'too many anonymous connections from this address');
        return conn;
      }
      this.anonymousByAddress.set(key, held + 1);
      conn.addressKey = key;
    }
    conn.startResume();
    void (async () => {
      await this.fanout.add(ctx.roomId, conn);
      // One socket per viewer per room: the user's older sockets here and on every other node close (4005).
      if (ctx.principal.user) {
        await this.deps.pubsub.publish(roomChannel(ctx.roomId), { v: 1, type: 'replaced', user_id: ctx.principal.user.id, socket: conn.socketKey, opened_at: conn.openedAt })
          .catch((err: unknown) => this.deps.log.warn({ err, roomId: ctx.roomId }, 'announcing a replacing socket failed'));
      }
      const joined = await this.deps.presence.join(ctx.roomId, member);
      if (conn.closed) return;
      conn.send({
        v: 1, type: 'welcome', room_id: ctx.roomId, session_id: ctx.sessionId, user: ctx.principal.user, can_post: ctx.principal.canPost,
        online: joined.online, heartbeat_ms: this.deps.config.pingInterval,
      });
      const fallback = { platform: this.deps.config.conventions ?? null, room: null };
      // The rules are a courtesy: a database hiccup while reading them costs the notice, not the socket.
      const rules = this.deps.conventions
        ? await this.deps.conventions(ctx.roomId).catch((err: unknown) => {
          this.deps.log.warn({ err, roomId: ctx.roomId }, 'reading the conventions failed');
          return fallback;
        })
        : fallback;
      if (conn.closed) return;
      if (rules.platform !== null || rules.room !== null) {
        // One notice: `text` for simple clients (the platform's conventions, then the room's rules), both parts apart.
        const text = [rules.platform, rules.room].filter((t) => t !== null).join('\n\n');
        conn.send({ v: 1, type: 'notice', code: 'conventions', text, platform: rules.platform, room: rules.room });
      }
      await this.catchUp(conn, ctx.after, ctx.showSince);
      if (joined.changed) {
        this.announcer.joined(ctx.roomId, ctx.principal.user, joined.online);
        if (ctx.principal.user) this.deps.onJoined?.(ctx.roomId, ctx.sessionId, ctx.principal.user.id, joined.online);
      }
    })().catch((err: unknown) => {
      this.deps.log.error({ err, roomId: ctx.roomId }, 'opening a chat socket failed');
      conn.close(1011, 'internal error');
    });
    return conn;
  }

  /** Sends what the socket missed since `after` (or the latest few), then lets live messages through. */
  private async catchUp(conn: ChatConn, after: string | undefined, showSince?: number): Promise<void> {
    let page;
    try {
      page = await this.deps.pubsub.recent(roomChannel(conn.roomId), after ? { after } : { limit: GREETING_HISTORY });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      conn.send({ v: 1, type: 'error', code: 'invalid_resume_id', message: 'not a message id' });
      page = { entries: [], gap: true };
    }
    // Kept ids begin with the millisecond they were kept at (Redis stream ids; the memory ring alike).
    const entries = after === undefined && showSince !== undefined ? page.entries.filter((e) => Number(parseKeptId(e.id)[0]) >= showSince) : page.entries;
    const missed = entries.flatMap((e) => (typeof e.message === 'object' && e.message !== null && !Array.isArray(e.message)
      ? [{ ...(e.message as Record<string, unknown>), id: e.id } as Envelope] : []));
    if (after) conn.send({ v: 1, type: 'resumed', after, count: missed.length, gap: page.gap });
    conn.finishResume(missed);
  }

  async handle(conn: ChatConn, message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'ping':
        return conn.send({ v: 1, type: 'pong', ...(message.t === undefined ? {} : { t: message.t }) });
      case 'like':
        if (!conn.principal.user) return;
        try {
          await this.deps.likeBudget?.take(conn.roomId, conn.principal.user.id, message.count);
        } catch (err) {
          if (!(err instanceof RateLimitedError)) throw err;
          return conn.send({ v: 1, type: 'error', code: err.code, message: err.message, retry_after_ms: err.retryAfterMs });
        }
        this.announcer.liked(conn.roomId, message.count);
        return;
      case 'resume': {
        // One small frame replays up to the whole kept history: spaced, or a client sending 50 a
        // second made this node encode 50 histories a second for it.
        const now = Date.now();
        const wait = conn.lastResumeAt + RESUME_INTERVAL_MS - now;
        if (conn.lastResumeAt > 0 && wait > 0) {
          return conn.send({ v: 1, type: 'error', code: 'rate_limited', message: `one resume every ${RESUME_INTERVAL_MS / 1000} s`, retry_after_ms: wait });
        }
        conn.lastResumeAt = now;
        conn.startResume();
        return this.catchUp(conn, message.after);
      }
      case 'chat':
      case 'danmaku':
        return this.post(conn, message);
    }
  }

  private async post(conn: ChatConn, m: Extract<ClientMessage, { type: 'chat' | 'danmaku' }>): Promise<void> {
    const refuse = (code: string, text: string, retryAfterMs?: number) => {
      this.deps.metrics?.posts.inc({ result: code });
      conn.send({ v: 1, type: 'error', code, message: text, client_id: m.client_id, ...(retryAfterMs ? { retry_after_ms: retryAfterMs } : {}) });
    };
    const user = conn.principal.user;
    if (!user || !conn.principal.canPost) return refuse('login_required', 'anonymous viewers can read the chat but not post');
    let text = m.text.trim();
    if (text.length === 0) return refuse('empty_message', 'the message is empty');
    if (CONTROL_CHARACTER.test(text)) return refuse('invalid_character', 'the message holds a control character (only line breaks and tabs are allowed)');
    if ([...text].length > this.deps.config.maxLength) return refuse('message_too_long', `at most ${this.deps.config.maxLength} characters`);
    const { cache } = this.deps;
    const muted = await cache.ttl(audienceKeys.mute(conn.roomId, user.id));
    if (muted !== -2) return refuse('muted', 'you are muted in this room', muted > 0 ? muted : undefined);
    if (this.rate) {
      const key = `${conn.roomId}:${user.id}`;
      const decision = await this.rate.consume(key);
      if (!decision.allowed) {
        // Past the limit: a short mute (the counter's block), told to the user with its length.
        if (decision.consumed === this.deps.config.rate!.points + 1) await this.rate.block(key, this.deps.config.rateMute);
        const wait = decision.consumed === this.deps.config.rate!.points + 1 ? this.deps.config.rateMute : decision.retryAfterMs;
        return refuse('rate_limited', `too many messages: muted for ${Math.ceil(wait / 1000)} s`, wait);
      }
    }
    const slow = Number((await cache.get(audienceKeys.slowMode(conn.roomId))) ?? 0);
    if (slow > 0 && !(await cache.setIfAbsent(audienceKeys.slowPost(conn.roomId, user.id), '1', slow * 1000))) {
      const left = await cache.ttl(audienceKeys.slowPost(conn.roomId, user.id));
      return refuse('slow_mode', `slow mode: one message every ${slow} s`, left > 0 ? left : slow * 1000);
    }
    if (this.filter.matches(text)) {
      if (this.deps.config.wordAction === 'refuse') return refuse('message_refused', 'the message contains a word this room does not allow');
      text = this.filter.mask(text);
    }
    const at = Date.now();
    const out: Record<string, string | number | ServerMessage['type'] | { id: string; name: string }> = { v: 1, type: m.type, room_id: conn.roomId, user, text, at };
    if (m.ts !== undefined) out.ts = m.ts;
    if (m.color !== undefined) out.color = m.color;
    if (m.position !== undefined) out.position = m.position;
    // The wall's chat rate is counted alongside the publish (no added wait); a cache failure there does not refuse the post.
    const [id] = await Promise.all([
      this.deps.pubsub.publishKept(roomChannel(conn.roomId), out as never),
      countChatPost(cache, conn.roomId, at).catch(() => undefined),
    ]);
    this.deps.messages.add({
      roomId: conn.roomId, sessionId: conn.sessionId, userId: user.id, type: m.type, content: text, keptId: id,
      videoTs: m.ts, color: m.color, position: m.position, at: new Date(at),
    });
    this.deps.metrics?.posts.inc({ result: 'ok' });
    conn.send({ v: 1, type: 'ack', id, ...(m.client_id === undefined ? {} : { client_id: m.client_id }) });
  }

  /** A socket over its send-queue bound (ChatConn closes it). */
  dropped(reason: 'slow_consumer'): void {
    this.deps.metrics?.dropped.inc({ reason });
  }

  closed(conn: ChatConn): void {
    this.conns.delete(conn);
    const { addressKey } = conn;
    if (addressKey !== undefined) {
      conn.addressKey = undefined;
      const held = (this.anonymousByAddress.get(addressKey) ?? 1) - 1;
      if (held > 0) this.anonymousByAddress.set(addressKey, held);
      else this.anonymousByAddress.delete(addressKey);
    }
    this.fanout.remove(conn.roomId, conn);
    // An anonymous socket is its own member and has no exit call: it leaves with the socket. A
    // user's presence outlives the socket by the heartbeat timeout (a reconnect keeps them in).
    if (conn.principal.user === null) {
      void this.deps.presence.leave(conn.roomId, conn.member).then((left) => {
        if (left.changed) this.announcer.left(conn.roomId, null, left.online);
      }).catch((err: unknown) => this.deps.log.warn({ err }, 'anonymous leave failed'));
    }
  }

  /**
   * The show ended: every client is told (a kept `notice` `live_ended`, so a resume sees it too),
   * then each node closes the room's sockets with 4004 (control/chat/room-fanout.ts). A show stopped
   * by a moderation pause (a timed publishing ban: an audit's medium verdict, an operator's timed
   * ban) gets its own notice, `stream_paused` with the pause's end, instead of `live_ended`.
   */
  async sessionEnded(roomId: string, sessionId: string, closeMethod: number | null, reason: string | null, pause: { until: number } | null = null): Promise<void> {
    if (pause) {
      // The end is announced by whichever node's sweeper claims it first (announceEndedPauses), so
      // it survives this node: recorded before the pause is told, so a told pause always ends.
      await this.deps.cache.hSet(audienceKeys.pausesDue(), { [`${roomId}|${pause.until}`]: roomId });
      await this.deps.pubsub.publishKept(roomChannel(roomId), {
        v: 1, type: 'notice', code: 'stream_paused', session_id: sessionId, close_method: closeMethod, reason, until: pause.until,
        text: `The stream is paused by moderation until ${new Date(pause.until).toISOString()}`,
      });
      return;
    }
    // close_method: 1 the anchor, 2 an operator or a moderation sanction (the reason says which), 3 the stream was cut.
    const text = closeMethod === 2 ? 'The live show was stopped by moderation' : closeMethod === 3 ? 'The stream was cut; the show has ended' : 'The live show has ended';
    await this.deps.pubsub.publishKept(roomChannel(roomId), {
      v: 1, type: 'notice', code: 'live_ended', session_id: sessionId, close_method: closeMethod, reason, text,
    });
  }

  /** A moderation pause was lifted early by an operator: the room may go live again (kept, so the next visitors see it). */
  async streamResumed(roomId: string): Promise<void> {
    // Lifted: its scheduled end must not be announced a second time.
    const due = Object.keys(await this.deps.cache.hGetAll(audienceKeys.pausesDue())).filter((f) => f.startsWith(`${roomId}|`));
    if (due.length > 0) await this.deps.cache.hDel(audienceKeys.pausesDue(), ...due);
    await this.publishResumed(roomId, 'lifted', null);
  }

  /**
   * Announces every moderation pause whose end has come (`stream_resumed`, reason `expired`), once
   * across the nodes: each node's sweeper (every PAUSE_SWEEP_MS) reads the due pauses, and only the
   * one whose HDEL removes a pause's field announces it. Returns how many this node announced.
   */
  async announceEndedPauses(now = Date.now()): Promise<number> {
    const due = await this.deps.cache.hGetAll(audienceKeys.pausesDue());
    let announced = 0;
    for (const [field, roomId] of Object.entries(due)) {
      const until = Number(field.slice(field.lastIndexOf('|') + 1));
      if (!(until <= now)) continue;
      if ((await this.deps.cache.hDel(audienceKeys.pausesDue(), field)) !== 1) continue; // another node took it
      try {
        // Extended meanwhile (a later ban): the same claim moves to the new end.
        const still = await this.deps.pausedUntil?.(roomId);
        if (typeof still === 'number' && still > now) {
          // A permanent ban (Infinity) has no end to announce; lifting it announces `lifted`.
          if (Number.isFinite(still)) await this.deps.cache.hSet(audienceKeys.pausesDue(), { [`${roomId}|${still}`]: roomId });
          continue;
        }
        await this.publishResumed(roomId, 'expired', until);
        announced++;
      } catch (err) {
        // Put it back for the next sweep (this node's or another's) rather than lose the announcement.
        await this.deps.cache.hSet(audienceKeys.pausesDue(), { [field]: roomId }).catch(() => undefined);
        throw err;
      }
    }
    return announced;
  }

  private async publishResumed(roomId: string, reason: 'lifted' | 'expired', until: number | null): Promise<void> {
    await this.deps.pubsub.publishKept(roomChannel(roomId), {
      v: 1, type: 'notice', code: 'stream_resumed', reason, ...(until === null ? {} : { until }),
      text: 'The moderation pause is over: the show may resume',
    });
  }

  /** An operator warned the room's anchor (control/moderation/operator-action.service.ts): a kept system notice, so the anchor sees it on their next visit too. */
  async moderationWarning(roomId: string, reason: string): Promise<void> {
    await this.deps.pubsub.publishKept(roomChannel(roomId), {
      v: 1, type: 'notice', code: 'moderation_warning', reason, text: `Warning from the platform's moderators: ${reason}`,
    });
  }

  /** The user exited: their sockets close (1000) on every node, through the room channel. */
  async userExited(roomId: string, userId: string): Promise<void> {
    await this.deps.pubsub.publish(roomChannel(roomId), { v: 1, type: 'exited', user_id: userId });
  }

  /** Closes the sockets of `userId` in the room on this node (exit; kicks reach other nodes through the channel). */
  closeUser(roomId: string, userId: string, code: number, reason: string): void {
    for (const socket of this.fanout.socketsOfUser(roomId, userId)) socket.close(code, reason);
  }

  /** Whether `userId` has a socket in the room on this node. */
  hasSocket(roomId: string, userId: string): boolean {
    return this.fanout.socketsOfUser(roomId, userId).length > 0;
  }

  private async heartbeat(): Promise<void> {
    if (this.heartbeating) return; // the previous round is still pinging (a very large or very slow node)
    this.heartbeating = true;
    try {
      await this.heartbeatRound();
    } finally {
      this.heartbeating = false;
    }
  }

  /**
   * Pings every socket and refreshes its member's presence. The pings go out PING_SLICE sockets at
   * a time with a short pause between slices: 5,000 pings at once are 5,000 socket writes (as long
   * as writing one chat frame to everyone) and bring 5,000 pongs back at once, and a chat frame due
   * meanwhile would wait for all of it; sliced, it waits for one slice at most.
   */
  private async heartbeatRound(): Promise<void> {
    const now = Date.now();
    const members = new Map<string, Set<string>>();
    let inSlice = 0;
    for (const conn of [...this.conns]) {
      if (inSlice === PING_SLICE) {
        inSlice = 0;
        await new Promise((resolve) => setTimeout(resolve, PING_SLICE_PAUSE_MS));
      }
      if (conn.closed) continue;
      inSlice++;
      if (now - conn.lastSeen > this.deps.config.heartbeatTimeout) {
        this.deps.metrics?.dropped.inc({ reason: 'heartbeat_timeout' });
        conn.close(chatCloseCodes.heartbeatTimeout, 'heartbeat timeout');
        conn.ws.terminate();
        continue;
      }
      try {
        conn.ws.ping();
      } catch { /* closing */ }
      let set = members.get(conn.roomId);
      if (!set) members.set(conn.roomId, (set = new Set()));
      set.add(conn.member);
    }
    for (const [roomId, set] of members) {
      await this.deps.presence.refresh(roomId, set).catch((err: unknown) => this.deps.log.warn({ err, roomId }, 'presence refresh failed'));
    }
  }

  /** Exits members whose presence expired (on any node): the count follows the live sockets. */
  async sweep(): Promise<number> {
    return this.deps.presence.sweep(async (roomId, member, online, enteredAt) => {
      this.announcer.left(roomId, null, online);
      await this.deps.onTimedOut?.(roomId, member, enteredAt, online);
    });
  }

  /** Closes every socket (1001: reconnect elsewhere and resume) and stops the timers; flushes the messages table. */
  async close(): Promise<void> {
    clearInterval(this.pingTimer);
    clearInterval(this.sweepTimer);
    clearInterval(this.pauseTimer);
    this.stopResubscribed?.();
    await this.sweeping;
    await this.pausing;
    await this.rechecking;
    for (const conn of this.conns) conn.close(chatCloseCodes.goingAway, 'server shutting down');
    this.announcer.close();
    await this.deps.messages.close();
  }
}
