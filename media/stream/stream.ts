import type { AudioInfo, PlayProtocol, PublishEndReason, VideoInfo } from '../../core/media/media-contract.js';
import { TypedEmitter } from '../../core/events/typed-emitter.js';
import type { Logger } from '../../core/logging/logger.js';
import type { LiveStreamView } from './stream-view.js';
import type { StreamReader } from './stream-reader.js';
import { TagType } from './media-packet.js';
import type { SharedPacket } from './packet.js';
import { SharedRun, type RunFollower } from './shared-run.js';
import { TimestampRebaser } from './ts-rebaser.js';
import { parseMetadata } from '../protocols/rtmp/messages.js';
import { audioInfoFromTag, fpsFromMetadata, videoCodecOf, videoInfoFromSequenceHeader } from '../protocols/codec/codec-info.js';

export interface StreamEvents {
  [name: string]: unknown[];
  /** The first audio or video packet (a sequence header counts): media flows. */
  media: [];
  /** Codec facts are known (or as known as they will get): time for publish.started. Never before 'media'. */
  ready: [];
  /** The publisher side should drop its connection (kickPublisher, replaced by a new publish). */
  kick: [PublishEndReason];
  /** The stream is over; readers were told. Emitted once. */
  close: [PublishEndReason];
  /** Observer events (metrics): a reader was added / removed. */
  newreader: [StreamReader];
  readerclose: [StreamReader];
}

export interface StreamOptions {
  name: string;
  app: string;
  publisherId: string;
  sessionId?: string;
  record: boolean;
  clientIp: string;
  /** Cap of the GOP cache in bytes; past it the cache is dropped until the next keyframe. */
  gopCacheBytes: number;
  log: Logger;
}

/** Ends after which viewers wait for the publisher to come back; after 'kicked' they do not. */
const PARKED_ON: ReadonlySet<PublishEndReason> = new Set(['closed', 'error', 'idle', 'unpublished', 'replaced']);

export const VIEWER_KINDS: readonly PlayProtocol[] = ['rtmp', 'http-flv', 'ws-flv', 'hls', 'webrtc'];
export const zeroViewers = (): Record<PlayProtocol, number> => ({ rtmp: 0, 'http-flv': 0, 'ws-flv': 0, hls: 0, webrtc: 0 });

/**
 * One live stream: one publisher, many readers. Holds the start-up cache (metadata, sequence
 * headers, the GOP from the latest keyframe) and fans every packet out to its readers
 * synchronously, as one shared object. Reads codec facts from the sequence headers and metadata.
 * Viewers in step with the stream are not called per packet: they follow its shared run
 * (SharedRun), to which each packet is appended once, and take its packets at their flush tick.
 */
export class Stream extends TypedEmitter<StreamEvents> implements LiveStreamView {
  readonly name: string;
  readonly app: string;
  readonly publisherId: string;
  readonly sessionId?: string;
  readonly record: boolean;
  readonly clientIp: string;
  readonly startedAt = Date.now();
  video?: VideoInfo;
  audio?: AudioInfo;
  metadata?: Record<string, unknown>;

  bytesIn = 0;
  videoFrames = 0;
  audioFrames = 0;
  /** Time between the last two keyframes (ms, stream timestamps); 0 until two have arrived. Studio warns when it is long. */
  keyframeIntervalMs = 0;
  private lastKeyframeTs = -1;
  readonly viewers = zeroViewers();
  private bytesOutClosed = 0;

  private readonly readers = new Map<string, StreamReader>();
  /** The readers given each packet (onPacket): all but the viewers following the shared run. */
  private readonly fanout = new Map<string, StreamReader>();
  /** The packets since the followers' last ticks, held once for all of them (see SharedRun). */
  readonly run = new SharedRun({
    detach: (f: RunFollower) => void this.fanout.delete(f.id),
    attach: (f: RunFollower) => {
      const r = this.readers.get(f.id);
      if (r !== undefined && r === (f as unknown as StreamReader)) this.fanout.set(f.id, r);
    },
  });
  private packetSeq = 0;
  private metaPacket?: SharedPacket;
  private videoHeader?: SharedPacket;
  private audioHeader?: SharedPacket;
  private gop: SharedPacket[] = [];
  private gopBytes = 0;
  private readonly gopCap: number;
  private isReady = false;
  private hasMedia = false;
  private closed = false;
  private firstVideoTs = -1;
  /** Added to every pushed timestamp: a republish continues the timeline its adopted viewers saw. */
  private tsOffset = 0;
  private timelineFrom: { lastTs: number; since: number } | undefined;
  /** The publisher's timestamps made monotonic across its resets, wraps and jumps (ts-rebaser.ts). */
  private readonly rebaser = new TimestampRebaser();
  /** Largest timestamp pushed (on this stream's timeline). */
  private lastTs = 0;
  /**
   * Set by the engine: takes this stream's viewers when its publisher drops (see PARKED_ON), so
   * they can wait for a reconnect instead of ending with the stream.
   */
  parkViewers: ((viewers: StreamReader[], lastTs: number) => void) | undefined;
  private videoTsSamples = 0;
  private readonly log: Logger;

  constructor(opts: StreamOptions) {
    super();
    this.name = opts.name;
    this.app = opts.app;
    this.publisherId = opts.publisherId;
    this.sessionId = opts.sessionId;
    this.record = opts.record;
    this.clientIp = opts.clientIp;
    this.gopCap = opts.gopCacheBytes;
    this.log = opts.log;
    this.emitterLog = opts.log;
    this.rebaser.onDiscontinuity = (d) => {
      // One line per discontinuity (a broken encoder doing it on every frame: the first 20, then every 1000th).
      const n = this.rebaser.count;
      if (n <= 20 || n % 1000 === 0) {
        this.log.warn({ stream: this.name, kind: d.kind, fromTs: d.fromTs, toTs: d.toTs, offsetMs: d.offsetMs, discontinuities: n }, 'publisher timestamps jumped: rebased to continue the stream\'s timeline');
      }
    };
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** Audio or video has arrived (metadata alone does not count). */
  get mediaFlowing(): boolean {
    return this.hasMedia;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get readerCount(): number {
    return this.readers.size;
  }

  /** Bytes sent to readers so far, including those that left. */
  get bytesOut(): number {
    let sum = this.bytesOutClosed;
    for (const r of this.readers.values()) sum += r.bytesOut ?? 0;
    return sum;
  }

  /** The publisher's data path: cache, then fan out. */
  push(packet: SharedPacket): void {
    if (this.closed) return;
    packet.timestamp = packet.type === TagType.Script || packet.isSequenceHeader ? this.rebaser.header() : this.rebaser.media(packet.type, packet.timestamp);
    if (this.timelineFrom !== undefined) this.startTimeline(packet.timestamp);
    if (this.tsOffset !== 0) packet.timestamp = (packet.timestamp + this.tsOffset) >>> 0;
    if (packet.timestamp > this.lastTs) this.lastTs = packet.timestamp;
    packet.seq = ++this.packetSeq;
    this.bytesIn += packet.body.length;
    if (!this.hasMedia && packet.type !== TagType.Script) {
      this.hasMedia = true;
      this.safeEmit('media');
    }
    this.cache(packet);
    for (const reader of this.fanout.values()) reader.onPacket(packet);
    this.run.append(packet);
  }

  /**
   * This stream carries on from viewers that last got `lastTs` at `since` (a reconnect): its
   * first packet is placed the wall-clock gap after it, and every later one shifted alike.
   */
  continueTimeline(lastTs: number, since: number): void {
    this.timelineFrom = { lastTs, since };
  }

  private startTimeline(firstTs: number): void {
    const { lastTs, since } = this.timelineFrom!;
    this.timelineFrom = undefined;
    this.tsOffset = (lastTs + Math.max(1, Date.now() - since) - firstTs) | 0;
  }

  private cache(p: SharedPacket): void {
    if (p.type === TagType.Script) {
      const meta = parseMetadata(p.body);
      if (meta) {
        this.metaPacket = p;
        this.metadata = meta;
        const fps = fpsFromMetadata(meta);
        if (this.video && fps) this.video.fps = fps;
      }
      this.checkReady(false);
      return;
    }
    if (p.isSequenceHeader) {
      if (p.type === TagType.Video) {
        this.videoHeader = p;
        const info = videoInfoFromSequenceHeader(p.body);
        if (info) this.video = { ...info, fps: this.video?.fps || fpsFromMetadata(this.metadata) };
      } else {
        this.audioHeader = p;
        this.audio = audioInfoFromTag(p.body) ?? this.audio;
      }
      this.checkReady(false);
      return;
    }
    if (p.type === TagType.Video) {
      this.videoFrames++;
      this.estimateFps(p.timestamp);
      if (!this.video) {
        const codec = videoCodecOf(p.body);
        if (codec) this.video = { codec, width: 0, height: 0, fps: fpsFromMetadata(this.metadata) };
      }
      if (p.isKeyframe) {
        if (this.lastKeyframeTs >= 0 && p.timestamp > this.lastKeyframeTs) this.keyframeIntervalMs = p.timestamp - this.lastKeyframeTs;
        this.lastKeyframeTs = p.timestamp;
        this.gop = [p];
        this.gopBytes = p.body.length;
      } else if (this.gop.length) {
        this.appendGop(p);
      }
    } else {
      this.audioFrames++;
      if (!this.audio) this.audio = audioInfoFromTag(p.body);
      if (this.gop.length) this.appendGop(p);
    }
    this.checkReady(true);
  }

  private appendGop(p: SharedPacket): void {
    this.gop.push(p);
    this.gopBytes += p.body.length;
    if (this.gopBytes > this.gopCap) {
      // A GOP this large is not worth holding: new viewers wait for the next keyframe instead.
      this.gop = [];
      this.gopBytes = 0;
    }
  }

  /** Frame rate from timestamps when metadata has none: the average over the first 60 frames. */
  private estimateFps(ts: number): void {
    if (this.video?.fps || this.videoTsSamples > 60) return;
    if (this.firstVideoTs < 0) this.firstVideoTs = ts;
    this.videoTsSamples++;
    const span = ts - this.firstVideoTs;
    if (this.videoTsSamples >= 30 && span > 0 && this.video) {
      this.video.fps = Math.round(((this.videoTsSamples - 1) * 1000 * 100) / span) / 100;
    }
  }

  /**
   * Ready when every track the metadata announces has its codec info, or at the first media frame
   * that is not a sequence header (encoders send all sequence headers before any frame).
   */
  private checkReady(mediaFrame: boolean): void {
    if (this.isReady) return;
    const m = this.metadata;
    const wantsVideo = m !== undefined && (m.videocodecid !== undefined || m.width !== undefined);
    const wantsAudio = m !== undefined && (m.audiocodecid !== undefined || m.audiosamplerate !== undefined);
    const byMetadata = m !== undefined && (!wantsVideo || this.video !== undefined) && (!wantsAudio || this.audio !== undefined) && (wantsVideo || wantsAudio);
    if (byMetadata || mediaFrame) this.markReady();
  }

  /** Emits 'ready' once media flows (also called by the engine a bounded wait after the first media). */
  markReady(): void {
    if (this.isReady || this.closed || !this.hasMedia) return;
    this.isReady = true;
    this.safeEmit('ready');
  }

  /** Attaches a reader: the start-up cache first, then live packets. */
  addReader(reader: StreamReader): void {
    if (this.closed) {
      reader.onStreamEnd();
      return;
    }
    if (this.metaPacket) reader.onPacket(this.metaPacket);
    if (this.videoHeader) reader.onPacket(this.videoHeader);
    if (this.audioHeader) reader.onPacket(this.audioHeader);
    for (const p of this.gop) reader.onPacket(p);
    this.readers.set(reader.id, reader);
    this.fanout.set(reader.id, reader);
    reader.attachRun?.(this.run);
    if (reader.kind !== 'internal') this.viewers[reader.kind]++;
    this.safeEmit('newreader', reader);
  }

  removeReader(reader: StreamReader): void {
    if (this.readers.get(reader.id) !== reader) return;
    this.readers.delete(reader.id);
    this.fanout.delete(reader.id);
    this.bytesOutClosed += reader.bytesOut ?? 0;
    if (reader.kind !== 'internal') this.viewers[reader.kind]--;
    this.safeEmit('readerclose', reader);
  }

  /** Asks the publisher side to drop (kickPublisher); closes at once if nobody owns the publish. */
  kick(reason: PublishEndReason): void {
    if (this.closed) return;
    if (this.listenerCount('kick') > 0) this.safeEmit('kick', reason);
    this.close(reason);
  }

  /**
   * Ends the stream: every reader is told, the cache is dropped. Idempotent. When the publisher
   * merely dropped (PARKED_ON) and the engine takes them, viewers are handed over instead of ended.
   */
  close(reason: PublishEndReason): void {
    if (this.closed) return;
    this.closed = true;
    // Followers of the run take their pending packets into their queues: parked viewers keep them,
    // ended ones send them before closing, as every viewer does with its queue.
    this.run.releaseAll(true);
    let readers = [...this.readers.values()];
    if (this.parkViewers && PARKED_ON.has(reason)) {
      const viewers = readers.filter((r) => r.kind !== 'internal');
      readers = readers.filter((r) => r.kind === 'internal');
      for (const v of viewers) this.removeReader(v);
      this.parkViewers(viewers, this.lastTs);
    }
    for (const r of readers) {
      try {
        r.onStreamEnd();
      } catch (err) {
        this.log.error({ err, reader: r.id }, 'reader threw on stream end');
      }
      this.removeReader(r);
    }
    this.gop = [];
    this.metaPacket = this.videoHeader = this.audioHeader = undefined;
    this.safeEmit('close', reason);
  }

  /** The newest timestamp pushed (the live edge; a WebRTC viewer's start-up burst is timed up to it). */
  get newestTimestamp(): number {
    return this.lastTs;
  }

  /** The current AVC/HEVC decoder configuration packet (WebRTC answers with its profile). */
  get videoSequenceHeader(): SharedPacket | undefined {
    return this.videoHeader;
  }

  /** Video-header and GOP bytes currently cached (for tests and metrics). */
  get cachedGopBytes(): number {
    return this.gopBytes;
  }
}
