/**
 * What one load-test viewer measures, protocol-independent. Protocol adapters call onBytes() for
 * every read and onTag() for every FLV tag / RTMP media message (head bytes only).
 */
import { performance } from 'node:perf_hooks';
import { isVideoKeyframe, readClock } from '../flv/clock-sei.js';
import type { FlvTag } from '../flv/flv-tag-scanner.js';

/** Time after the first frame during which clock readings are ignored (the start-up burst). */
export const BURST_MS = 500;

export type Protocol = 'http-flv' | 'ws-flv' | 'rtmp' | 'hls';
export const PROTOCOLS: readonly Protocol[] = ['http-flv', 'ws-flv', 'rtmp', 'hls'];

/** Latency samples shared by all viewers, bounded (reservoir) so memory stays flat on long runs. */
export class SampleSink {
  readonly values: number[] = [];
  seen = 0;
  constructor(private readonly cap = 100_000) {}
  add(v: number): void {
    this.seen++;
    if (this.values.length < this.cap) this.values.push(v);
    else {
      const i = Math.floor(Math.random() * this.seen);
      if (i < this.cap) this.values[i] = v;
    }
  }
}

export interface ViewerContext {
  /** A gap in media longer than this (ms) after the first frame counts as a stall. */
  stallMs: number;
  latency: SampleSink;
}

export class ViewerState {
  readonly startedAt = performance.now();
  firstByteAt: number | undefined;
  firstFrameAt: number | undefined;
  lastDataAt = 0;
  bytes = 0;
  stalls = 0;
  stalledMs = 0;
  /** Byte count and time when this viewer's measurement window opened (see ViewerPool.sweep). */
  baselineBytes: number | undefined;
  baselineAt: number | undefined;
  error: string | undefined;
  ended = false;

  constructor(
    readonly protocol: Protocol,
    private readonly ctx: ViewerContext,
  ) {}

  onBytes(n: number): void {
    const now = performance.now();
    if (this.firstByteAt === undefined) this.firstByteAt = now;
    else if (this.firstFrameAt !== undefined) this.checkGap(now);
    this.lastDataAt = now;
    this.bytes += n;
  }

  onTag(tag: FlvTag, head: Buffer): void {
    if (tag.type !== 9) return;
    if (this.firstFrameAt === undefined && isVideoKeyframe(9, head)) this.firstFrameAt = performance.now();
    const clock = readClock(head);
    // The start-up burst replays the cached GOP, whose clocks are up to a GOP old: they measure
    // the cache, not the delivery. Clocks count once the viewer has played for BURST_MS.
    if (clock !== undefined && this.firstFrameAt !== undefined && performance.now() - this.firstFrameAt >= BURST_MS) this.ctx.latency.add(Date.now() - clock);
  }

  /** A media segment (HLS) arrived whole: the first one counts as the first frame. */
  onSegment(): void {
    if (this.firstFrameAt === undefined) this.firstFrameAt = performance.now();
  }

  /** Record the first failure only: later ones are consequences. */
  fail(kind: string): void {
    if (this.error === undefined && !this.ended) this.error = kind;
  }

  /** Closes the accounting: a trailing silence counts as a stall too. */
  end(now = performance.now()): void {
    if (this.ended) return;
    if (this.firstFrameAt !== undefined && this.error === undefined) this.checkGap(now);
    this.ended = true;
  }

  private checkGap(now: number): void {
    const gap = now - this.lastDataAt;
    if (gap > this.ctx.stallMs) {
      this.stalls++;
      this.stalledMs += gap;
    }
  }
}
