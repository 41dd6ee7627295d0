/**
 * Starts viewers at a set rate, keeps their states, opens each viewer's measurement window once it
 * has settled (past the start-up burst of a GOP cache, or the wait for a keyframe without one), and
 * closes them all at the end. One shared read buffer serves every raw-socket viewer.
 */
import { performance } from 'node:perf_hooks';
import { startHlsViewer } from './hls-viewer.js';
import { startHttpFlvViewer } from './http-flv-viewer.js';
import { startRtmpViewer } from './rtmp-viewer.js';
import { startWsFlvViewer } from './ws-flv-viewer.js';
import { SampleSink, ViewerState, type Protocol, type ViewerContext } from './viewer-state.js';
import type { ViewerConn } from './viewer.js';

export interface ViewerSpec {
  url: URL;
  protocol: Protocol;
}

export interface ViewerPoolOptions {
  stallMs: number;
  /** Time after a viewer starts before its window opens. */
  settleMs: number;
}

/** HLS delivers in segments, so a gap of a segment or two between downloads is normal. */
const HLS_MIN_STALL_MS = 4000;
const READ_BUFFER_BYTES = 256 * 1024;

export function protocolOf(url: URL): Protocol {
  if (url.protocol === 'rtmp:') return 'rtmp';
  if (url.protocol === 'ws:' || url.protocol === 'wss:') return 'ws-flv';
  if (url.pathname.endsWith('.m3u8')) return 'hls';
  return 'http-flv';
}

export class ViewerPool {
  readonly viewers: ViewerState[] = [];
  readonly latency = new SampleSink();
  private readonly conns: ViewerConn[] = [];
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private readonly ctx: ViewerContext;
  private readonly hlsCtx: ViewerContext;
  private closed = false;

  constructor(private readonly options: ViewerPoolOptions) {
    this.ctx = { stallMs: options.stallMs, latency: this.latency };
    this.hlsCtx = { stallMs: Math.max(options.stallMs, HLS_MIN_STALL_MS), latency: this.latency };
  }

  startOne(spec: ViewerSpec): ViewerState {
    const state = new ViewerState(spec.protocol, spec.protocol === 'hls' ? this.hlsCtx : this.ctx);
    this.viewers.push(state);
    try {
      this.conns.push(this.connect(spec, state));
    } catch (err) {
      state.fail(err instanceof Error ? `start-${err.name}` : 'start-error');
      state.end();
    }
    return state;
  }

  /**
   * Starts `count` viewers at `perSecond`, in small batches every 50 ms. Resolves when all have
   * started or when `deadline` (performance.now() ms) passes.
   */
  async ramp(count: number, perSecond: number, specFor: (i: number) => ViewerSpec, deadline: number): Promise<number> {
    const t0 = performance.now();
    let started = 0;
    while (started < count && !this.closed && performance.now() < deadline) {
      const due = Math.min(count, Math.ceil(((performance.now() - t0) / 1000) * perSecond) + 1);
      for (; started < due; started++) this.startOne(specFor(started));
      await new Promise((r) => setTimeout(r, 50));
    }
    return started;
  }

  /** Opens the window of every viewer that has settled. Call about every 250 ms. */
  sweep(now = performance.now()): void {
    for (const v of this.viewers) {
      if (v.baselineAt === undefined && now - v.startedAt >= this.options.settleMs) {
        v.baselineAt = now;
        v.baselineBytes = v.bytes;
      }
    }
  }

  /** Closes every viewer; their states stay for the report. */
  closeAll(): void {
    this.closed = true;
    const now = performance.now();
    for (const v of this.viewers) v.end(now);
    for (const c of this.conns) c.close();
  }

  private connect(spec: ViewerSpec, state: ViewerState): ViewerConn {
    switch (spec.protocol) {
      case 'http-flv':
        return startHttpFlvViewer(spec.url, state, this.readBuffer);
      case 'ws-flv':
        return startWsFlvViewer(spec.url, state);
      case 'rtmp':
        return startRtmpViewer(spec.url, state, this.readBuffer);
      case 'hls':
        return startHlsViewer(spec.url, state);
    }
  }
}
