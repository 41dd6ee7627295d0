import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../../core/logging/logger.js';
import { FLV_HEADER, FLV_TAG_AUDIO } from '../../protocols/flv/flv-tag.js';
import type { MediaPacket } from '../../stream/media-packet.js';
import type { LiveStreamView } from '../../stream/stream-view.js';
import type { StreamReader } from '../../stream/stream-reader.js';

/** One Opus RTP packet from the transcoder: payload and its 48 kHz timestamp. */
export type OpusListener = (payload: Buffer, timestamp: number, marker: boolean) => void;

/** ffmpeg's stdin may hold this much FLV before audio is dropped (ffmpeg stalled). */
const STDIN_CAP = 512 * 1024;

/** ffmpeg: FLV (AAC) on stdin -> Opus 48 kHz stereo, 20 ms frames, as RTP to our UDP socket. */
export function opusArgs(port: number): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-fflags', 'nobuffer', '-probesize', '32', '-analyzeduration', '0', '-f', 'flv', '-i', 'pipe:0',
    '-vn', '-c:a', 'libopus', '-b:a', '64k', '-ar', '48000', '-ac', '2', '-application', 'lowdelay', '-frame_duration', '20',
    '-flush_packets', '1', '-f', 'rtp', `rtp://127.0.0.1:${port}?pkt_size=1200`,
  ];
}

/**
 * AAC -> Opus for the WebRTC viewers of one stream: one ffmpeg, fed the stream's audio as FLV (an
 * internal reader, so it is not counted as a viewer), sending Opus RTP to a loopback UDP socket;
 * every packet goes to every listener. Started by the first listener, stopped with the last one
 * or when the stream ends.
 */
class OpusFeed implements StreamReader {
  readonly id: string;
  readonly kind = 'internal' as const;
  private readonly listeners = new Set<OpusListener>();
  private child: ChildProcessByStdio<Writable, null, Readable> | undefined;
  private udp: UdpSocket | undefined;
  private stopped = false;
  private stderr = '';
  dropped = 0;
  private replaying = false;

  constructor(
    private readonly stream: LiveStreamView,
    private readonly ffmpegPath: string,
    private readonly log: Logger,
    private readonly onStop: (feed: OpusFeed) => void,
  ) {
    this.id = `opus:${stream.name}:${Date.now().toString(36)}`;
  }

  async start(): Promise<void> {
    const udp = createSocket('udp4');
    this.udp = udp;
    udp.on('message', (msg) => this.onRtp(msg));
    udp.on('error', (err) => this.log.warn({ err }, 'opus feed socket failed'));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    if (this.stopped) return this.stop();
    const child = spawn(this.ffmpegPath, opusArgs(udp.address().port), { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (t: string) => void (this.stderr = (this.stderr + t).slice(-1024)));
    child.stdin.on('error', () => {}); // ffmpeg gone: the exit handler reports it
    child.once('error', (err) => this.log.warn({ err }, 'opus transcoder did not start'));
    child.once('exit', (code, signal) => {
      if (!this.stopped) this.log.warn({ code, signal, stderr: this.stderr }, 'opus transcoder exited');
      this.stop();
    });
    child.stdin.write(FLV_HEADER(true, false));
    // The start-up replay (sequence header, then the GOP's audio) is synchronous: only the header
    // is taken from it, so Opus starts at live audio instead of a burst of the last seconds.
    this.replaying = true;
    this.stream.addReader(this);
    this.replaying = false;
  }

  private onRtp(msg: Buffer): void {
    if (msg.length < 12 || (msg[0]! >> 6) !== 2) return;
    const pt = msg[1]! & 0x7f;
    if (pt >= 72 && pt <= 76) return; // RTCP sent to the same port
    let off = 12 + (msg[0]! & 0x0f) * 4;
    if (msg[0]! & 0x10) {
      if (off + 4 > msg.length) return;
      off += 4 + msg.readUInt16BE(off + 2) * 4;
    }
    if (off >= msg.length) return;
    const payload = msg.subarray(off);
    const ts = msg.readUInt32BE(4);
    const marker = (msg[1]! & 0x80) !== 0;
    for (const l of this.listeners) l(payload, ts, marker);
  }

  onPacket(p: MediaPacket): void {
    if (p.type !== FLV_TAG_AUDIO || !this.child || this.stopped) return;
    if (this.replaying && !p.isSequenceHeader) return;
    if (this.child.stdin.writableLength > STDIN_CAP) {
      this.dropped++;
      return;
    }
    this.child.stdin.write(p.flvTag());
  }

  onStreamEnd(): void {
    this.stop();
  }

  add(l: OpusListener): void {
    this.listeners.add(l);
  }

  /** Removes a listener; the feed stops with its last one. */
  remove(l: OpusListener): void {
    this.listeners.delete(l);
    if (this.listeners.size === 0) this.stop();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stream.removeReader(this);
    this.listeners.clear();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    }
    try {
      this.udp?.close();
    } catch {
      /* already closed */
    }
    this.onStop(this);
  }
}

/**
 * The Opus feeds of all streams, one per stream with WebRTC viewers. A viewer carried over to a
 * republish of its stream subscribes again (the feed ended with the old stream).
 */
export class OpusFeeds {
  private readonly feeds = new Map<LiveStreamView, OpusFeed>();

  constructor(
    private readonly ffmpegPath: string,
    private readonly log: Logger,
  ) {}

  /** Subscribes to the stream's Opus; returns the unsubscribe function. */
  subscribe(stream: LiveStreamView, listener: OpusListener): () => void {
    let feed = this.feeds.get(stream);
    if (!feed || feed.isStopped) {
      const created = new OpusFeed(stream, this.ffmpegPath, this.log.child({ stream: stream.name }), (f) => {
        if (this.feeds.get(stream) === f) this.feeds.delete(stream);
      });
      feed = created;
      this.feeds.set(stream, created);
      created.start().catch((err) => {
        this.log.warn({ err }, 'opus feed failed to start');
        created.stop();
      });
    }
    const f = feed;
    f.add(listener);
    return () => f.remove(listener);
  }

  /** Running transcoders (metrics, tests). */
  get size(): number {
    return this.feeds.size;
  }

  closeAll(): void {
    for (const f of [...this.feeds.values()]) f.stop();
  }
}
