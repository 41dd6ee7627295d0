/**
 * One viewer load: ramp `count` viewers, sample the server every second, report a row per second,
 * stop after `durationMs` whatever happens, and summarize. Shared by `npm run stress` and the
 * media benchmark's ladder steps.
 */
import { performance } from 'node:perf_hooks';
import { ViewerPool, type ViewerSpec } from './viewers/viewer-pool.js';
import { summarizeViewers, type ViewerSummary } from './report/viewer-summary.js';
import { quantiles, type Quantiles } from './report/percentile.js';
import { usageBetween, type UsageFigures, type UsageSample, type UsageSource } from './report/server-usage.js';

export interface LoadOptions {
  count: number;
  rampPerSec: number;
  durationMs: number;
  settleMs: number;
  stallMs: number;
  specFor(i: number): ViewerSpec;
  expectedBytesPerSec: number;
  usage?: UsageSource;
  /** Called once a second with the live figures. */
  onTick?(tick: LoadTick): void;
}

export interface LoadTick {
  elapsedS: number;
  started: number;
  connected: number;
  playing: number;
  failed: number;
  mbps: number;
  latencyP50Ms: number | undefined;
  cpuPercent: number | undefined;
  rssMB: number | undefined;
}

export interface LoadResult {
  summary: ViewerSummary;
  latencyMs: Quantiles;
  /** Server usage over the measurement part of the run (after every viewer settled). */
  server: UsageFigures | undefined;
  windowS: number;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const pool = new ViewerPool({ stallMs: o.stallMs, settleMs: o.settleMs });
  const t0 = performance.now();
  const endAt = t0 + o.durationMs;
  const allSamples: UsageSample[] = [];
  let lastBytes = 0;
  let lastAt = t0;
  let lastLatencySeen = 0;
  let prevUsage: UsageSample | undefined;
  let tickBusy = false;

  const sampleUsage = async (): Promise<UsageSample | undefined> => {
    const s = await o.usage?.sample();
    if (s) allSamples.push(s);
    return s;
  };
  await sampleUsage();

  const sweeper = setInterval(() => pool.sweep(), 250);
  const ticker = setInterval(() => {
    if (tickBusy) return;
    tickBusy = true;
    void (async () => {
      const now = performance.now();
      let bytes = 0;
      let connected = 0;
      let playing = 0;
      let failed = 0;
      for (const v of pool.viewers) {
        bytes += v.bytes;
        if (v.firstByteAt !== undefined) connected++;
        if (v.firstFrameAt !== undefined && v.error === undefined) playing++;
        if (v.error !== undefined) failed++;
      }
      const mbps = ((bytes - lastBytes) * 8) / 1e6 / ((now - lastAt) / 1000);
      lastBytes = bytes;
      lastAt = now;
      const recent = pool.latency.values.slice(lastLatencySeen);
      lastLatencySeen = pool.latency.values.length;
      const u = await sampleUsage();
      let cpu: number | undefined;
      if (u && prevUsage) cpu = ((u.cpuSeconds - prevUsage.cpuSeconds) / ((u.at - prevUsage.at) / 1000)) * 100;
      if (u) prevUsage = u;
      o.onTick?.({
        elapsedS: Math.round((now - t0) / 1000),
        started: pool.viewers.length,
        connected,
        playing,
        failed,
        mbps,
        latencyP50Ms: quantiles(recent).p50,
        cpuPercent: cpu,
        rssMB: u ? u.rssBytes / 1e6 : undefined,
      });
    })()
      .catch(() => undefined) // a failed usage sample only costs this second's row
      .finally(() => {
        tickBusy = false;
      });
  }, 1000);

  try {
    await pool.ramp(o.count, o.rampPerSec, o.specFor, endAt);
    const remaining = endAt - performance.now();
    if (remaining > 0) await new Promise((r) => setTimeout(r, remaining));
  } finally {
    clearInterval(sweeper);
    clearInterval(ticker);
  }
  pool.sweep();
  const end = performance.now();
  await sampleUsage();
  pool.closeAll();

  // Server usage over the part of the run where every viewer was settled, when that part exists.
  const settledFrom = (pool.viewers.at(-1)?.startedAt ?? t0) + o.settleMs;
  const settled = allSamples.filter((s) => s.at >= settledFrom - 1);
  const server = usageBetween(settled.length >= 2 ? settled : allSamples, o.usage?.label ?? '');
  const summary = summarizeViewers({ viewers: pool.viewers, expectedBytesPerSec: o.expectedBytesPerSec, endAt: end });
  return { summary, latencyMs: quantiles(pool.latency.values), server, windowS: Math.max(0, (end - settledFrom) / 1000) };
}
