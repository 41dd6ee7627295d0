import { rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../core/logging/logger.js';
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO } from '../../protocols/flv/flv-tag.js';
import { HLS_PLAYLIST } from '../../protocols/hls/ffmpeg-hls-args.js';
import { LivePlaylist } from '../../protocols/hls/live-playlist.js';
import { ByteSink } from '../../protocols/mpegts/byte-sink.js';
import { TsMuxer } from '../../protocols/mpegts/ts-muxer.js';
import type { MediaPacket } from '../../stream/media-packet.js';
import type { StreamReader } from '../../stream/stream-reader.js';

export interface TsSegmenterOptions {
  id: string;
  /** The stream's folder (exists; the owner removes it). */
  dir: string;
  /** Target segment length: a segment is cut at the first video keyframe this long after its start. */
  segmentMs: number;
  listSize: number;
  log: Logger;
  /** Finished segments waiting for the disk before new ones are dropped (default 3). */
  maxPendingWrites?: number;
}

/** A timestamp step (ms) past which the timeline is taken as broken: the next segment is a discontinuity. */
const TIMELINE_JUMP_MS = 10_000;
/** First capacity of a segment buffer (about 2 s of a 2 Mb/s stream); it grows and is reused. */
const SEGMENT_BUFFER_BYTES = 768 * 1024;
/**
 * A segment is cut only at a keyframe, so one held this large has gone without one for far longer
 * than any encoder's keyframe interval (25 MiB is 4 s at 50 Mb/s): it is dropped, and HLS resumes at
 * the next keyframe, rather than growing in memory for as long as the publisher sends none.
 */
export const MAX_SEGMENT_BYTES = 32 * 1024 * 1024;

/**
 * In-process HLS for one live stream (the default segmenter, ONAIR_HLS_SEGMENTER=inprocess): a
 * StreamReader that muxes the hub's packets (H.264 + AAC) into MPEG-TS in memory, cuts a segment
 * at the first keyframe past the target duration, writes it with one file write, then rewrites
 * the live playlist (temporary file + rename, so a reader never sees half of it) and deletes the
 * segments that left the window. Disk work runs in order on one promise chain per stream; the
 * packet path only appends to a reused buffer. Never throws into the hub.
 *
 * Other codecs (HEVC, MP3, ...) are not muxed: their packets are ignored (logged once), so such a
 * stream gets HLS of the tracks it can carry, or none; the ffmpeg segmenter remains for those.
 */
export class TsSegmenter implements StreamReader {
  readonly kind = 'internal' as const;
  readonly id: string;
  segmentsWritten = 0;
  segmentsDropped = 0;
  private readonly muxer = new TsMuxer();
  private readonly playlist: LivePlaylist;
  private readonly pool: ByteSink[] = [];
  private current: ByteSink | undefined;
  private startMs = 0;
  private lastMs = 0;
  private currentDiscontinuity = false;
  private nextDiscontinuity = false;
  /** Cut at the next keyframe whatever the duration (new decoder configuration, timeline jump). */
  private cutSoon = false;
  private sequence = 0;
  private pending = 0;
  private io: Promise<void> = Promise.resolve();
  private closed = false;
  private warned = false;
  private warnedOversized = false;
  private latestPlaylist: string | undefined;

  constructor(private readonly o: TsSegmenterOptions) {
    this.id = o.id;
    this.playlist = new LivePlaylist(o.listSize, o.segmentMs / 1000);
  }

  /** Bytes of the segment being built (held in memory until its cut). */
  get bufferedBytes(): number {
    return this.current?.length ?? 0;
  }

  /** The playlist as last written to disk (undefined before the first segment). */
  get playlistText(): string | undefined {
    return this.latestPlaylist;
  }

  onPacket(p: MediaPacket): void {
    if (this.closed) return;
    try {
      if (p.type === FLV_TAG_VIDEO) this.onVideo(p);
      else if (p.type === FLV_TAG_AUDIO) this.onAudio(p);
    } catch (err) {
      // A malformed frame must not take the publisher down: drop it, start clean at the next keyframe.
      this.o.log.warn({ err }, 'HLS segmenter dropped a frame it could not mux');
      this.current = this.release(this.current);
      this.nextDiscontinuity = true;
    }
  }

  onStreamEnd(): void {
    this.closed = true;
  }

  /** Stops taking packets and waits for the disk writes under way. */
  async close(): Promise<void> {
    this.closed = true;
    this.current = this.release(this.current);
    await this.io;
  }

  private onVideo(p: MediaPacket): void {
    if (p.isSequenceHeader) {
      const changed = this.muxer.hasVideo && !this.muxer.sameVideoConfig(p.body);
      const hadVideo = this.muxer.hasVideo;
      if (!this.muxer.setVideoConfig(p.body)) return this.unsupported('video');
      // A new configuration starts a new segment; video appearing in an audio-only stream too (PMT).
      if (changed || (!hadVideo && this.current)) {
        this.cutSoon = true;
        if (changed) this.nextDiscontinuity = true;
      }
      return;
    }
    if (!this.muxer.hasVideo) return;
    const ts = p.timestamp;
    this.checkTimeline(ts);
    if (p.isKeyframe) {
      if (!this.current) this.open(ts);
      else if (this.cutSoon || elapsed(this.startMs, ts) >= this.o.segmentMs) {
        this.cut(this.cutSoon && this.nextDiscontinuity ? this.lastMs + 1 : ts);
        this.open(ts);
      }
    }
    if (!this.current) return; // waiting for the first keyframe
    if (this.current.length + p.body.length > MAX_SEGMENT_BYTES) return this.dropOversized();
    this.muxer.writeVideo(this.current, p.body, ts, p.isKeyframe);
    this.lastMs = ts;
  }

  private onAudio(p: MediaPacket): void {
    if (p.isSequenceHeader) {
      if (!this.muxer.setAudioConfig(p.body)) this.unsupported('audio');
      return;
    }
    if (!this.muxer.hasAudio) return;
    const ts = p.timestamp;
    if (!this.muxer.hasVideo) {
      // Audio only: every AAC frame is a random access point, so cut on time alone.
      this.checkTimeline(ts);
      if (!this.current) this.open(ts);
      else if (this.cutSoon || elapsed(this.startMs, ts) >= this.o.segmentMs) {
        this.cut(ts);
        this.open(ts);
      }
      this.lastMs = ts;
    }
    if (!this.current) return; // video stream: audio before the first keyframe is dropped
    if (this.current.length + p.body.length > MAX_SEGMENT_BYTES) return this.dropOversized(); // video stopped, audio goes on
    this.muxer.writeAudio(this.current, p.body, ts);
  }

  /** No keyframe for MAX_SEGMENT_BYTES: the segment is dropped (its buffer too) and HLS resumes at the next keyframe. */
  private dropOversized(): void {
    this.current = undefined; // not pooled: a buffer this large is not kept for the stream's life
    this.segmentsDropped++;
    this.nextDiscontinuity = true;
    if (!this.warnedOversized) {
      this.warnedOversized = true;
      this.o.log.warn({ maxBytes: MAX_SEGMENT_BYTES }, 'HLS segment dropped: no keyframe for too long; HLS resumes at the next keyframe');
    }
  }

  /** A jump in the timeline (publisher-side reset, wrap) ends the segment at the next cut with a discontinuity. */
  private checkTimeline(ts: number): void {
    if (!this.current) return;
    const step = (ts - this.lastMs) | 0;
    if (step < -1000 || step > TIMELINE_JUMP_MS) {
      this.cutSoon = true;
      this.nextDiscontinuity = true;
    }
  }

  private open(ts: number): void {
    const sink = this.pool.pop() ?? new ByteSink(SEGMENT_BUFFER_BYTES);
    sink.reset();
    this.muxer.writeTables(sink);
    this.current = sink;
    this.startMs = ts;
    this.lastMs = ts;
    this.currentDiscontinuity = this.nextDiscontinuity;
    this.nextDiscontinuity = false;
    this.cutSoon = false;
  }

  /** Finishes the current segment at `endMs` and queues its write; the next one opens right after. */
  private cut(endMs: number): void {
    const sink = this.current!;
    this.current = undefined;
    const durationMs = Math.max(1, elapsed(this.startMs, endMs));
    if (this.pending >= (this.o.maxPendingWrites ?? 3)) {
      // The disk is behind: drop this segment rather than queue memory without bound.
      this.segmentsDropped++;
      this.nextDiscontinuity = true;
      this.release(sink);
      this.o.log.warn({ pending: this.pending }, 'HLS segment dropped: disk writes behind');
      return;
    }
    const sequence = this.sequence++;
    const name = `seg-${sequence}.ts`;
    const discontinuity = this.currentDiscontinuity;
    this.pending++;
    this.io = this.io
      .then(async () => {
        await writeFile(join(this.o.dir, name), sink.view());
        this.release(sink);
        const gone = this.playlist.add({ sequence, name, durationMs, discontinuity });
        const text = this.playlist.render();
        const tmp = join(this.o.dir, `${HLS_PLAYLIST}.tmp`);
        await writeFile(tmp, text);
        await rename(tmp, join(this.o.dir, HLS_PLAYLIST));
        this.latestPlaylist = text;
        this.segmentsWritten++;
        await Promise.all(gone.map((g) => unlink(join(this.o.dir, g)).catch(() => {})));
      })
      .catch((err: unknown) => {
        this.release(sink);
        // After close the folder is being removed: failures then are expected.
        if (!this.closed) this.o.log.error({ err }, 'HLS segment write failed');
      })
      .finally(() => {
        this.pending--;
      });
  }

  private release(sink: ByteSink | undefined): undefined {
    if (sink && !this.pool.includes(sink) && this.pool.length < 4) this.pool.push(sink);
    return undefined;
  }

  private unsupported(track: string): void {
    if (this.warned) return;
    this.warned = true;
    this.o.log.warn({ track }, 'HLS (in-process) carries H.264 and AAC only; this track is left out');
  }
}

/** Milliseconds from `from` to `to` on FLV's 32-bit clock (0 when `to` is before `from`). */
function elapsed(from: number, to: number): number {
  const d = (to - from) | 0;
  return d > 0 ? d : 0;
}
