/**
 * Turns viewer states into the figures of the report (pure: the inputs carry their own times).
 * Healthy: the viewer received at least `healthyRatio` of the bytes the stream carried during its
 * measurement window (window = from the viewer's settle point to the end of the run).
 */
import { quantiles, type Quantiles } from './percentile.js';

export interface ViewerFigures {
  protocol: string;
  startedAt: number;
  firstByteAt?: number;
  firstFrameAt?: number;
  bytes: number;
  baselineBytes?: number;
  baselineAt?: number;
  stalls: number;
  error?: string;
}

export interface ViewerSummary {
  viewers: number;
  /** Viewers that received any byte. */
  connected: number;
  /** Viewers whose window was long enough to judge (>= minWindowMs). */
  judged: number;
  healthy: number;
  /** healthy / viewers (a viewer that never connected counts as unhealthy). */
  healthyShare: number;
  /** Aggregate throughput over the common window, Mb/s. */
  mbps: number;
  ttfbMs: Quantiles;
  /** Viewers whose first byte (media or a refusal) came SLOW_FIRST_BYTE_MS or more after they started: a dropped SYN retried (accept queue full), or a server that took that long to answer. */
  slowFirstByte: number;
  ttffMs: Quantiles;
  stalledViewers: number;
  stalls: number;
  errors: Record<string, number>;
  byProtocol: Record<string, number>;
}

export interface SummaryInput {
  viewers: readonly ViewerFigures[];
  /** The stream's rate in bytes per second (what a viewer should receive). */
  expectedBytesPerSec: number;
  /** End of the run, same clock as the viewers' times (ms). */
  endAt: number;
  healthyRatio?: number;
  minWindowMs?: number;
}

/** A first byte this late means at least one SYN retransmit (Linux's first retry is at 1 s) or a server that long to answer. */
export const SLOW_FIRST_BYTE_MS = 1000;

export function summarizeViewers(input: SummaryInput): ViewerSummary {
  const ratio = input.healthyRatio ?? 0.9;
  const minWindow = input.minWindowMs ?? 2000;
  const ttfb: number[] = [];
  const ttff: number[] = [];
  const errors: Record<string, number> = {};
  const byProtocol: Record<string, number> = {};
  let connected = 0;
  let slowFirstByte = 0;
  let judged = 0;
  let healthy = 0;
  let stalledViewers = 0;
  let stalls = 0;
  let windowBytes = 0;
  let windowStart = Infinity;
  for (const v of input.viewers) {
    byProtocol[v.protocol] = (byProtocol[v.protocol] ?? 0) + 1;
    if (v.firstByteAt !== undefined) {
      connected++;
      ttfb.push(v.firstByteAt - v.startedAt);
      if (v.firstByteAt - v.startedAt >= SLOW_FIRST_BYTE_MS) slowFirstByte++;
    }
    if (v.firstFrameAt !== undefined) ttff.push(v.firstFrameAt - v.startedAt);
    if (v.error !== undefined) errors[v.error] = (errors[v.error] ?? 0) + 1;
    if (v.stalls > 0) stalledViewers++;
    stalls += v.stalls;
    if (v.baselineAt === undefined || v.baselineBytes === undefined) continue;
    const windowMs = input.endAt - v.baselineAt;
    const got = v.bytes - v.baselineBytes;
    windowBytes += got;
    windowStart = Math.min(windowStart, v.baselineAt);
    if (windowMs < minWindow) continue;
    judged++;
    if (got >= ratio * input.expectedBytesPerSec * (windowMs / 1000)) healthy++;
  }
  const spanMs = input.endAt - windowStart;
  return {
    viewers: input.viewers.length,
    connected,
    judged,
    healthy,
    healthyShare: input.viewers.length === 0 ? 0 : healthy / input.viewers.length,
    mbps: spanMs > 0 && Number.isFinite(spanMs) ? (windowBytes * 8) / 1e6 / (spanMs / 1000) : 0,
    ttfbMs: quantiles(ttfb),
    slowFirstByte,
    ttffMs: quantiles(ttff),
    stalledViewers,
    stalls,
    errors,
    byProtocol,
  };
}
