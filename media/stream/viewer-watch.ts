import type { Socket } from 'node:net';
import type { Logger } from '../../core/logging/logger.js';
import { readSendQueues, socketKey } from './socket-backlog.js';
import type { ViewerSession, WatchClock } from './viewer-session.js';

/** What the watch remembers of one viewer's TCP connection. */
interface SocketTrack {
  key: string;
  v6: boolean;
  socket: Socket;
  /** Bytes written to the socket (socket.bytesWritten) at each of the last ticks (ring indexed by tick). */
  handed: Float64Array;
  ticks: Int32Array;
}

/**
 * Makes eviction follow viewerQueueTime whatever the kernel hides. Every tick (a fifth of the queue
 * time, 100 ms to 1 s) it:
 * - asks each viewer whether a batch has waited the queue time for the kernel (checkStalled), and
 * - on Linux, reads how many bytes each viewer's connection still holds unacknowledged in the
 *   kernel (socket-backlog.ts). When a byte written a queue time ago is still not acknowledged by
 *   the peer, the viewer has read nothing for that long and is evicted ('slow').
 * Only the peer's own receive buffer (about 128 kB for a client that never read) stays unseen.
 *
 * One timer for all viewers, running only while there are viewers; the packet path pays nothing.
 * The /proc read costs the kernel about 5 µs per TCP connection on the machine, off the main thread.
 */
export class ViewerWatch {
  readonly clock: WatchClock;
  private readonly sessions = new Set<ViewerSession>();
  private readonly tracks = new Map<ViewerSession, SocketTrack>();
  /** Tracks by /proc key, for the scan. */
  private readonly byKey = new Map<string, SocketTrack>();
  private readonly lookback: number;
  private readonly ring: number;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private probeUsable = process.platform === 'linux';
  private v6Tracks = 0;

  constructor(private readonly queueTimeMs: number, private readonly log: Logger) {
    const tickMs = Math.min(1000, Math.max(100, Math.round(queueTimeMs / 5)));
    this.clock = { tick: 0, tickMs };
    this.lookback = Math.ceil(queueTimeMs / tickMs);
    this.ring = this.lookback + 2;
  }

  add(session: ViewerSession, socket: Socket | undefined): void {
    this.sessions.add(session);
    if (socket && this.probeUsable) {
      const k = socketKey(socket);
      if (k) {
        const track: SocketTrack = { key: k.key, v6: k.v6, socket, handed: new Float64Array(this.ring), ticks: new Int32Array(this.ring).fill(-1) };
        this.tracks.set(session, track);
        this.byKey.set(k.key, track);
        if (k.v6) this.v6Tracks++;
      }
    }
    this.timer ??= setInterval(this.tick, this.clock.tickMs).unref();
  }

  remove(session: ViewerSession): void {
    this.sessions.delete(session);
    const track = this.tracks.get(session);
    if (track) {
      this.tracks.delete(session);
      this.byKey.delete(track.key);
      if (track.v6) this.v6Tracks--;
    }
    if (this.sessions.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private readonly tick = (): void => {
    const tick = ++this.clock.tick;
    for (const s of this.sessions) s.checkStalled();
    if (this.tracks.size > 0 && !this.probing && this.probeUsable) {
      this.probing = true;
      readSendQueues(this.byKey, this.v6Tracks > 0).then(
        (queues) => this.judge(tick, queues),
        (err: unknown) => this.log.warn({ err }, 'reading socket send queues failed'),
      ).finally(() => (this.probing = false));
    }
  };

  private judge(tick: number, queues: Map<string, number> | undefined): void {
    if (!queues) {
      this.probeUsable = false;
      this.log.debug('/proc/net/tcp is not readable: slow viewers are seen only once the kernel buffers are full');
      return;
    }
    const back = tick - this.lookback;
    for (const [session, track] of this.tracks) {
      const unacked = queues.get(track.key);
      if (unacked === undefined) continue; // closed meanwhile
      // Everything written so far, in Node's buffers or the kernel's: a write the kernel took only
      // part of still counts whole in writableLength, so "written" is the measure both sides share.
      const writtenNow = track.socket.bytesWritten;
      const slot = tick % this.ring;
      track.ticks[slot] = tick;
      track.handed[slot] = writtenNow;
      // The peer has acknowledged everything before writtenNow - unacked (at least: bytes still in
      // Node's buffers make the estimate later, never earlier). If a byte written `lookback` ticks
      // ago is still not acknowledged, the viewer took nothing for the queue time.
      const oldestUnacked = writtenNow - unacked;
      for (let j = 0; j < this.ring; j++) {
        const t = track.ticks[j]!;
        if (t >= 0 && t <= back && track.handed[j]! > oldestUnacked) {
          session.evict();
          break;
        }
      }
    }
  }
}
