import type { Socket } from 'node:net';
import type { Logger } from '../../core/logging/logger.js';
import type { PlayEnded, PlayProtocol, PlayStarted } from '../../core/media/media-contract.js';
import { TypedEmitter } from '../../core/events/typed-emitter.js';
import type { MediaPacket } from './media-packet.js';
import type { Stream } from './stream.js';
import { ViewerSession, type ViewerCounters, type ViewerEndReason, type ViewerLimits, type ViewerSink } from './viewer-session.js';
import type { FlushScheduler } from './flush-scheduler.js';
import { ViewerWatch } from './viewer-watch.js';
import { ParkedViewers } from './parked-viewers.js';

export interface ViewerRegistryEvents {
  [name: string]: unknown[];
  'play.started': [PlayStarted];
  'play.ended': [PlayEnded];
}

export interface StartViewer {
  stream: Stream;
  protocol: PlayProtocol;
  clientIp: string;
  /** From the play decision; generated when the hook gives none. */
  viewerId?: string;
  sink: ViewerSink;
  /** The TCP connection under the sink, for ViewerWatch's look at the kernel's send queue. */
  socket?: Socket;
  encode: (p: MediaPacket) => Buffer;
  /** Bytes that go before the media (FLV header, RTMP onStatus). */
  preamble?: Buffer[];
  /** Closes the transport; `graceful` when the stream ended (send what is queued, then close). */
  closeTransport: (reason: ViewerEndReason) => void;
}

let seq = 0;

/**
 * Every viewer of every protocol: starts a ViewerSession on a stream, reports play.started and
 * play.ended, and finds a viewer by id for kickViewer.
 */
export class ViewerRegistry extends TypedEmitter<ViewerRegistryEvents> {
  private readonly sessions = new Map<string, { session: ViewerSession; stream: Stream }>();
  readonly counters: ViewerCounters = { skips: 0, evictions: 0 };
  private readonly watch: ViewerWatch;
  private readonly parked: ParkedViewers;

  constructor(
    private readonly scheduler: FlushScheduler,
    private readonly limits: ViewerLimits,
    private readonly log: Logger,
    /** How long viewers wait for a publisher that dropped to come back (config.live.reconnectGrace). */
    reconnectGraceMs = 0,
  ) {
    super();
    this.emitterLog = log;
    this.watch = new ViewerWatch(limits.queueTimeMs, log);
    this.parked = new ParkedViewers(reconnectGraceMs);
  }

  get size(): number {
    return this.sessions.size;
  }

  start(opts: StartViewer): ViewerSession {
    let id = opts.viewerId ?? `v${Date.now().toString(36)}${(++seq).toString(36)}`;
    if (this.sessions.has(id)) id = `${id}.${(++seq).toString(36)}`;
    const started: PlayStarted = { streamName: opts.stream.name, viewerId: id, protocol: opts.protocol, clientIp: opts.clientIp, at: Date.now() };
    const entry = { session: undefined as unknown as ViewerSession, stream: opts.stream };
    const session = new ViewerSession(id, opts.protocol, opts.sink, opts.encode, this.scheduler, this.limits, this.counters, this.watch.clock, (reason) => {
      this.sessions.delete(id);
      this.watch.remove(session);
      this.parked.forget(session);
      entry.stream.removeReader(session);
      try {
        opts.closeTransport(reason);
      } catch (err) {
        this.log.warn({ err, viewer: id }, 'closing a viewer transport failed');
      }
      const now = Date.now();
      this.safeEmit('play.ended', { ...started, at: now, reason, bytesOut: session.bytesOut, durationMs: now - started.at });
    });
    entry.session = session;
    this.sessions.set(id, entry);
    this.watch.add(session, opts.socket);
    for (const b of opts.preamble ?? []) session.writeRaw(b);
    this.safeEmit('play.started', started);
    opts.stream.addReader(session);
    session.flushSoon();
    return session;
  }

  /**
   * Drops a viewer at once; false when there is no such viewer. A viewer id from a play token (the
   * user id) names every connection of that viewer: a second one runs as `{id}.{n}` and goes too,
   * so control's exit and kick drop all of a user's players.
   */
  kick(viewerId: string): boolean {
    const entry = this.sessions.get(viewerId);
    entry?.session.end('kicked');
    let kicked = entry !== undefined;
    const prefix = `${viewerId}.`;
    for (const [id, other] of [...this.sessions]) {
      if (!id.startsWith(prefix)) continue;
      other.session.end('kicked');
      kicked = true;
    }
    return kicked;
  }

  /**
   * The publisher of `stream` dropped: its viewers (already detached from it) wait for a publish of
   * the same name, up to the reconnect grace.
   */
  park(stream: Stream, viewers: ViewerSession[], lastTs: number): void {
    this.parked.park(stream.name, viewers.filter((v) => !v.isEnded), lastTs);
  }

  /**
   * A new publish: the viewers waiting for its name join it and continue on their connections.
   * Its timeline continues theirs (Stream.continueTimeline), so they never see time go back.
   */
  adopt(stream: Stream): void {
    const parking = this.parked.take(stream.name);
    if (!parking) return;
    stream.continueTimeline(parking.lastTs, parking.since);
    for (const session of parking.sessions) {
      const entry = this.sessions.get(session.id);
      if (!entry || session.isEnded) continue;
      entry.stream = stream;
      session.rejoin();
      stream.addReader(session);
      session.flushSoon();
    }
    this.log.info({ stream: stream.name, viewers: parking.sessions.size }, 'publisher back: viewers carried over');
  }

  /** Ends the viewers waiting for a publisher of `name` (control ended the show). */
  endParked(name: string): void {
    this.parked.endAll(name);
  }

  /**
   * Closes the `count` most recently admitted viewers (reason 'shed'), newest first: the engine
   * sheds load past its ceiling (ShedPolicy). Only viewers are here: never a publisher, never an
   * internal reader (recording, HLS). Returns how many went, by protocol.
   */
  shedNewest(count: number): Partial<Record<PlayProtocol, number>> {
    const shed: Partial<Record<PlayProtocol, number>> = {};
    if (count <= 0) return shed;
    const entries = [...this.sessions.values()];
    for (let i = entries.length - 1; i >= 0 && count > 0; i--) {
      const { session } = entries[i]!;
      if (session.isEnded) continue;
      session.end('shed');
      shed[session.kind] = (shed[session.kind] ?? 0) + 1;
      count--;
    }
    return shed;
  }

  closeAll(): void {
    this.parked.clear();
    for (const { session } of [...this.sessions.values()]) session.end('closed');
    this.watch.stop();
  }
}
