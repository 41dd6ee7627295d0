import { randomUUID } from 'node:crypto';
import type { MediaEvents } from '../../../core/media/media-contract.js';
import type { AddressSlots } from '../../stream/players-per-address.js';

/**
 * HLS has no connection per viewer, so viewers are approximated: one viewer per (stream, token,
 * client IP). The first authorized request starts it (play.started); it ends (play.ended) when it
 * has made no request for `idleMs`, or when the stream ends. The map is capped so a flood of
 * distinct tokens cannot grow memory: past the cap, new viewers are served but not tracked.
 *
 * With `slots`, each viewer holds a place of its client address for its stream
 * (ONAIR_MEDIA_PLAYERS_PER_ADDRESS, as HTTP-FLV's players): full() says a new one would exceed it.
 * Before, one address with a new anonymous play token every second counted as that many viewers.
 */
interface HlsViewer {
  viewerId: string;
  streamName: string;
  clientIp: string;
  startedAt: number;
  lastSeen: number;
  bytesOut: number;
  /** Gives the address's place back (AddressSlots). */
  release(): void;
}

export type EmitMediaEvent = <K extends keyof MediaEvents>(name: K, payload: MediaEvents[K]) => void;

export class HlsViewerTracker {
  private readonly viewers = new Map<string, HlsViewer>();
  private readonly timer: NodeJS.Timeout;
  /** When full() last swept out expired viewers (at most once a second: a sweep walks every viewer). */
  private sweptAt = 0;

  constructor(
    private readonly emit: EmitMediaEvent,
    private readonly idleMs: number,
    private readonly maxViewers = 20_000,
    /** Told the new count of a stream's HLS viewers whenever it changes. */
    private readonly onCount: (streamName: string, count: number) => void = () => {},
    /** Places per client address and stream; undefined: no cap. */
    private readonly slots?: AddressSlots,
  ) {
    this.timer = setInterval(() => this.sweep(Date.now()), Math.max(250, Math.floor(idleMs / 2)));
    this.timer.unref();
  }

  /** Records an authorized request; `bytes` is what it was sent. */
  touch(streamName: string, token: string, clientIp: string, viewerId: string | undefined, bytes: number): void {
    const key = `${streamName}\n${token}\n${clientIp}`;
    const now = Date.now();
    let viewer = this.viewers.get(key);
    if (!viewer) {
      if (this.viewers.size >= this.maxViewers) return;
      const release = this.slots?.take(clientIp, streamName) ?? (() => {});
      viewer = { viewerId: viewerId ?? `hls-${randomUUID()}`, streamName, clientIp, startedAt: now, lastSeen: now, bytesOut: 0, release };
      this.viewers.set(key, viewer);
      this.emit('play.started', { streamName, viewerId: viewer.viewerId, protocol: 'hls', clientIp, at: now });
      this.onCount(streamName, this.count(streamName));
    }
    viewer.lastSeen = now;
    viewer.bytesOut += bytes;
  }

  /** Whether this (stream, token, address) is a viewer already counted. */
  has(streamName: string, token: string, clientIp: string): boolean {
    return this.viewers.has(`${streamName}\n${token}\n${clientIp}`);
  }

  /**
   * True when `clientIp` already has ONAIR_MEDIA_PLAYERS_PER_ADDRESS viewers of the stream that have
   * not timed out. A viewer idle for `idleMs` no longer counts even before the periodic sweep ends it
   * (swept here, at most once a second), so a player that reloads with a new token is not held back
   * by its own earlier sessions longer than their idle time.
   */
  full(streamName: string, clientIp: string): boolean {
    if (!this.slots?.full(clientIp, streamName)) return false;
    const now = Date.now();
    if (now - this.sweptAt < 1000) return true;
    this.sweptAt = now;
    this.sweep(now);
    return this.slots.full(clientIp, streamName);
  }

  /** Viewers of a stream currently counted. */
  count(streamName: string): number {
    let n = 0;
    for (const v of this.viewers.values()) if (v.streamName === streamName) n++;
    return n;
  }

  /** Ends every viewer of a stream that stopped. */
  endStream(streamName: string): void {
    const now = Date.now();
    for (const [key, v] of this.viewers) if (v.streamName === streamName) this.end(key, v, 'stream-ended', now);
  }

  sweep(now: number): void {
    for (const [key, v] of this.viewers) if (now - v.lastSeen >= this.idleMs) this.end(key, v, 'closed', v.lastSeen);
  }

  close(): void {
    clearInterval(this.timer);
    const now = Date.now();
    for (const [key, v] of this.viewers) this.end(key, v, 'closed', now);
  }

  private end(key: string, v: HlsViewer, reason: 'closed' | 'stream-ended', at: number): void {
    this.viewers.delete(key);
    v.release();
    this.emit('play.ended', {
      streamName: v.streamName, viewerId: v.viewerId, protocol: 'hls', clientIp: v.clientIp,
      at, reason, bytesOut: v.bytesOut, durationMs: Math.max(0, at - v.startedAt),
    });
    this.onCount(v.streamName, this.count(v.streamName));
  }
}
