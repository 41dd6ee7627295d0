import type { Cache } from '../../core/cache/cache.port.js';
import { cacheKeys } from '../../core/cache/keys.js';
import type { Logger } from '../../core/logging/logger.js';

export interface ReaperDeps {
  sessionStore: {
    listByStatus(status: 'live' | 'preparing', limit?: number): Promise<Array<{
      id: string; anchorId: string; roomId: string; startAt: Date | null; createdAt: Date; pushExpiresAt: Date | null;
    }>>;
  };
  sessions: { endSession(sessionId: string, closeMethod: 3, reason: string | null): Promise<unknown> };
  cache: Cache;
  /** config.live.heartbeatTimeout */
  heartbeatTimeoutMs: number;
  /** config.live.pushUrlTtl: a preparing session without push_expires_at expires this long after its creation. */
  pushUrlTtlMs?: number;
  /** How often to sweep (default: a third of the timeout, at least 1 s). */
  intervalMs?: number;
  log: Logger;
  now?: () => number;
}

/**
 * Ghost rooms (seed 000: the media heartbeat and a TTL are the final word). A live session whose
 * heartbeat (stream.stats -> temp:live:{session}.last_heartbeat, and the anchor status hash when it
 * names this session) has been silent for heartbeatTimeout is ended with close_method 3: its
 * publisher vanished without a close event (node crash, lost callback). The session's own hash is
 * read first, so a heartbeat of another session of the same anchor never decides about this one.
 * Both hashes carry TTLs, so a missing one counts as silence since the session's start.
 *
 * A preparing session whose anchor never published ends once its push URL expired
 * (push_expires_at, renewed by every /live/start): it would otherwise hold the room "preparing" for ever.
 * With several control nodes, one sweeps at a time (lock:reaper); endSession is idempotent either way.
 */
export class Reaper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<string[]>;
  private readonly now: () => number;

  constructor(private readonly deps: ReaperDeps) {
    this.now = deps.now ?? Date.now;
  }

  get intervalMs(): number {
    return this.deps.intervalMs ?? Math.max(1000, Math.floor(this.deps.heartbeatTimeoutMs / 3));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .catch((err: unknown) => { this.deps.log.error({ err }, 'reaper sweep failed'); return []; })
        .finally(() => { this.running = undefined; });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass: returns the ids of the sessions it ended. */
  async sweep(): Promise<string[]> {
    if (!(await this.deps.cache.setIfAbsent('lock:reaper', String(process.pid), Math.max(500, this.intervalMs - 100)))) return [];
    const now = this.now();
    const ended: string[] = [];
    for (const s of await this.deps.sessionStore.listByStatus('preparing', 10_000)) {
      const expiresAt = s.pushExpiresAt?.getTime() ?? s.createdAt.getTime() + (this.deps.pushUrlTtlMs ?? 86_400_000);
      if (now <= expiresAt) continue;
      this.deps.log.info({ sessionId: s.id, roomId: s.roomId }, 'preparing session never published before its push URL expired: ending it');
      await this.end(s.id, 'never published: push URL expired', ended);
    }
    for (const s of await this.deps.sessionStore.listByStatus('live', 10_000)) {
      const own = Number((await this.deps.cache.hGetAll(cacheKeys.liveTemp(s.id))).last_heartbeat);
      const status = await this.deps.cache.hGetAll(cacheKeys.anchorStatus(s.anchorId));
      const anchors = status.session_id === s.id && status.last_heartbeat ? Number(status.last_heartbeat) : NaN;
      const beat = Math.max(Number.isFinite(own) ? own : -Infinity, Number.isFinite(anchors) ? anchors : -Infinity);
      const since = Number.isFinite(beat) ? beat : (s.startAt ?? s.createdAt).getTime();
      if (now - since <= this.deps.heartbeatTimeoutMs) continue;
      this.deps.log.warn({ sessionId: s.id, roomId: s.roomId, silentMs: now - since }, 'heartbeat lost: ending session');
      await this.end(s.id, 'heartbeat lost', ended);
    }
    return ended;
  }

  private async end(sessionId: string, reason: string, ended: string[]): Promise<void> {
    try {
      await this.deps.sessions.endSession(sessionId, 3, reason);
      ended.push(sessionId);
    } catch (err) {
      this.deps.log.error({ err, sessionId }, 'reaper could not end session');
    }
  }
}
