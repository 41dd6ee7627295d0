/**
 * `npm run bench:media`: the same load against onair, node-media-server 4.4.3 and nginx-rtmp, each
 * pinned to core 0, the load pinned to core 1, N on a ladder until fewer than 95 % of the admitted
 * viewers are healthy or the load core saturates (bench/lib/ladder-limit.ts). Prints a row per step as
 * it goes, and the whole table and where each ladder stopped at the end, also when a step fails or
 * the run is interrupted. Each step is bounded in time. See MEDIA_HELP.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ensureSample } from '../stress/publish/sample.js';
import { readFlvFile } from '../stress/flv/flv-file.js';
import { runLoad } from '../stress/load.js';
import { ProcUsage } from '../stress/report/server-usage.js';
import { LiveTable, fixed, formatTable } from '../stress/report/table.js';
import { protocolOf, ViewerPool } from '../stress/viewers/viewer-pool.js';
import { OptionsError } from '../stress/options.js';
import type { Protocol } from '../stress/viewers/viewer-state.js';
import { MEDIA_HELP, MEDIA_SAMPLE, parseMediaBenchArgs, stepsOf } from './lib/media-options.js';
import { startTarget, targetUnavailable, type RunningTarget } from './lib/media-targets.js';
import { startClockPublisher } from './lib/clock-publisher.js';
import { percentile } from '../stress/report/percentile.js';
import { pinSelf, setSelfPriority } from './lib/child.js';
import { machineBusySeconds, machineCoreBusySeconds } from './lib/machine-cpu.js';
import { judgeStep } from './lib/ladder-limit.js';
import { withDeadline } from './lib/deadline.js';

const SAMPLE = MEDIA_SAMPLE;
const SERVER_CPU = '0';
const LOAD_CPU = '1';

interface StepResult {
  target: string;
  protocol: Protocol;
  viewers: number;
  healthyShare: number;
  serverCpuPercent: number | undefined;
  /** Busy share of the server's pinned core from /proc/stat (user+nice+system+irq+softirq+steal, any process): kernel time on that core included. */
  serverCorePercent: number;
  /** Viewers whose first byte (media or refusal) came >= 1 s after they started (stress SLOW_FIRST_BYTE_MS): SYN retransmits when the accept queue overflowed. */
  slowFirstByte: number;
  cpuPer100: number | undefined;
  rssMB: number | undefined;
  ttffP50: number | undefined;
  ttffP95: number | undefined;
  /** Median TTFF of single viewers joining one after another once the step runs (no connect storm). */
  joinTtffP50: number | undefined;
  /** Latency the server adds (publisher's clock SEI to the viewer's read), of probe viewers spread over the step. */
  latencyP50: number | undefined;
  latencyP95: number | undefined;
  mbps: number;
  loadCpuPercent: number;
  /** CPU used meanwhile by everything else on the machine (% of one core). */
  otherCpuPercent: number;
  /** New viewers the server refused (HTTP 503 / RTMP NetStream.Play.Failed, seen by the load). */
  refused: number;
  /** Viewers the server shed (its own counter, onair only; '-' where the server has none). */
  shed: number | undefined;
  /** healthy / (N - refused). */
  admittedHealthyShare: number;
  /** healthy / (N - refused - shed): the audience the server kept. */
  keptHealthyShare: number;
  /** Limits met at this step: server core, load core, admission, other work (bench/lib/ladder-limit.ts). */
  limits: string[];
  /** Why the ladder stops after this step (undefined: it goes on). */
  stop: string | undefined;
  errors: Record<string, number>;
}

const HEADERS = ['target', 'proto', 'N', 'healthy%', 'adm healthy%', 'kept healthy%', 'refused', 'shed', 'srv cpu%', 'core0%', 'cpu/100', 'RSS MB', 'lat p50', 'lat p95', 'TTFF p50', 'TTFF p95', 'TTFB>=1s', 'join TTFF', 'Mb/s', 'load cpu%', 'other cpu%', 'limits', 'errors'];
function row(r: StepResult): (string | number | undefined)[] {
  const errs = Object.entries(r.errors).sort((a, b) => b[1] - a[1]).slice(0, 2).map(([k, v]) => `${k}:${v}`).join(' ');
  return [r.target, r.protocol, r.viewers, fixed(r.healthyShare * 100, 1), fixed(r.admittedHealthyShare * 100, 1), fixed(r.keptHealthyShare * 100, 1), r.refused, r.shed ?? '-', fixed(r.serverCpuPercent, 1), fixed(r.serverCorePercent, 1), fixed(r.cpuPer100, 2), fixed(r.rssMB), fixed(r.latencyP50, 1), fixed(r.latencyP95, 1), fixed(r.ttffP50), fixed(r.ttffP95), r.slowFirstByte, fixed(r.joinTtffP50, 1), fixed(r.mbps), fixed(r.loadCpuPercent), fixed(r.otherCpuPercent), r.limits.join('+') || '-', errs || '-'];
}

/** Set by SIGINT/SIGTERM: the table so far is printed, and a step that ends afterwards is not. */
let interrupted = false;

/** Probe children still running: killed when the run is interrupted. */
const probes = new Set<ChildProcess>();
function track(child: ChildProcess): void {
  probes.add(child);
  child.once('exit', () => probes.delete(child));
}

/**
 * Time to first frame of `count` single viewers joining the running step one after another, from
 * `delayMs` on: what one viewer opening a live room sees, apart from the ramp's connect storm
 * (the TTFF p50/p95 columns). Measured from a child process (bench/lib/join-probe.ts): the load
 * generator's busy event loop would delay the readings.
 */
function joinTtffs(url: URL, protocol: Protocol, count: number, delayMs: number): Promise<number[]> {
  const probe = fileURLToPath(new URL('./lib/join-probe.ts', import.meta.url));
  return new Promise((resolve) => {
    track(execFile(process.execPath, ['--import', 'tsx', probe, url.href, protocol, String(count), String(Math.round(delayMs))], { timeout: Math.round(delayMs + count * 6000 + 10_000) }, (err, stdout) => {
      try {
        resolve(err ? [] : (JSON.parse(stdout) as number[]));
      } catch {
        resolve([]);
      }
    }));
  });
}

/** Probe viewers of the latency columns: few, so they add no load, spread so they see the whole step. */
const LATENCY_PROBES = 4;

/**
 * The latency the server adds, read from the publisher's clock SEI by LATENCY_PROBES viewers that
 * join spread over `spanMs` from `delayMs` on and watch to its end (bench/lib/latency-probe.ts, a
 * child process for the same reason as joinTtffs).
 */
function latencies(url: URL, protocol: Protocol, delayMs: number, spanMs: number): Promise<number[]> {
  const probe = fileURLToPath(new URL('./lib/latency-probe.ts', import.meta.url));
  const args = [probe, url.href, protocol, String(LATENCY_PROBES), String(Math.round(delayMs)), String(Math.round(spanMs))];
  return new Promise((resolve) => {
    track(execFile(process.execPath, ['--import', 'tsx', ...args], { timeout: Math.round(delayMs + spanMs + 15_000), maxBuffer: 16 << 20 }, (err, stdout) => {
      try {
        resolve(err ? [] : (JSON.parse(stdout) as number[]));
      } catch {
        resolve([]);
      }
    }));
  });
}

function median(xs: number[]): number | undefined {
  if (!xs.length) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function waitFirstFrame(url: string, timeoutMs: number): Promise<string | undefined> {
  const pool = new ViewerPool({ stallMs: 1000, settleMs: 0 });
  const u = new URL(url);
  const v = pool.startOne({ url: u, protocol: protocolOf(u) });
  const until = performance.now() + timeoutMs;
  while (performance.now() < until && v.firstFrameAt === undefined && v.error === undefined) await new Promise((r) => setTimeout(r, 100));
  pool.closeAll();
  return v.firstFrameAt === undefined ? (v.error ?? 'no keyframe') : undefined;
}

type BenchOptions = ReturnType<typeof parseMediaBenchArgs>;

/** The longest a step may take: its ramp, settle and window, the probes' tail and a generous margin. */
function stepBudgetMs(n: number, o: BenchOptions): number {
  return (n / o.rampPerSec) * 1000 + o.settleMs + o.stepMs + 120_000;
}

/** Refusals as the load saw them: HTTP/WS-FLV 503, RTMP NetStream.Play.Failed. */
function refusedOf(errors: Record<string, number>): number {
  return (errors['http-503'] ?? 0) + (errors['rtmp-NetStream.Play.Failed'] ?? 0);
}

/** One ladder step: `n` viewers of `proto` on `t`, with the latency and join probes beside them. */
async function measureStep(t: RunningTarget, proto: Protocol, n: number, bytesPerSec: number, o: BenchOptions, usage: ProcUsage): Promise<StepResult> {
  const url = new URL(await t.playUrl(proto));
  const rampMs = (n / o.rampPerSec) * 1000;
  const before = await t.admission?.();
  const cpu0 = process.cpuUsage();
  const busy0 = machineBusySeconds();
  const core0 = machineCoreBusySeconds(Number(SERVER_CPU));
  const t0 = performance.now();
  const joins = joinTtffs(url, proto, 20, rampMs + o.settleMs + 2000);
  const lat = latencies(url, proto, rampMs + o.settleMs, Math.max(1000, o.stepMs - 1000));
  const r = await runLoad({
    count: n, rampPerSec: o.rampPerSec, durationMs: rampMs + o.settleMs + o.stepMs, settleMs: o.settleMs, stallMs: 1000,
    specFor: () => ({ url, protocol: proto }), expectedBytesPerSec: bytesPerSec, usage,
  });
  const cpu = process.cpuUsage(cpu0);
  const elapsedMs = performance.now() - t0;
  const loadCpuPercent = ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100;
  const machinePercent = ((machineBusySeconds() - busy0) * 1000 / elapsedMs) * 100;
  const serverCorePercent = ((machineCoreBusySeconds(Number(SERVER_CPU)) - core0) * 1000 / elapsedMs) * 100;
  const latMs = await lat;
  const after = await t.admission?.();
  const refused = refusedOf(r.summary.errors);
  const shed = before && after ? after.shed - before.shed : undefined;
  const otherCpuPercent = Math.max(0, machinePercent - loadCpuPercent - (r.server?.cpuPercent ?? 0));
  const verdict = judgeStep({ viewers: n, healthy: r.summary.healthy, serverCpuPercent: r.server?.cpuPercent, loadCpuPercent, refused, shed: shed ?? 0, otherCpuPercent }, o.healthyStop);
  return {
    target: t.name, protocol: proto, viewers: n, healthyShare: r.summary.healthyShare,
    serverCpuPercent: r.server?.cpuPercent, serverCorePercent, slowFirstByte: r.summary.slowFirstByte, cpuPer100: r.server ? (r.server.cpuPercent / n) * 100 : undefined, rssMB: r.server?.rssMB,
    latencyP50: percentile(latMs, 50), latencyP95: percentile(latMs, 95),
    ttffP50: r.summary.ttffMs.p50, ttffP95: r.summary.ttffMs.p95, joinTtffP50: median(await joins), mbps: r.summary.mbps,
    loadCpuPercent, otherCpuPercent,
    refused, shed, admittedHealthyShare: verdict.admittedHealthyShare, keptHealthyShare: verdict.keptHealthyShare, limits: verdict.limits, stop: verdict.stop, errors: r.summary.errors,
  };
}

async function benchTarget(t: RunningTarget, protocols: Protocol[], sample: string, bytesPerSec: number, o: BenchOptions, table: LiveTable, results: StepResult[], notes: string[], ladders: string[]): Promise<void> {
  const pub = startClockPublisher(sample, t.publishUrl, 'bench publisher', LOAD_CPU);
  try {
    const ready = await waitFirstFrame(await t.playUrl(t.protocols.includes('http-flv') ? 'http-flv' : t.protocols[0]!), 20_000);
    if (ready) {
      notes.push(`${t.name}: stream not playable (${ready}); skipped`);
      ladders.push(`${t.name}: not measured: the stream was not playable (${ready})`);
      return;
    }
    const usage = new ProcUsage(t.pid);
    const done = new Set<Protocol>();
    for (const protocol of protocols) {
      const proto: Protocol = t.protocols.includes(protocol) ? protocol : 'rtmp';
      if (done.has(proto)) continue;
      done.add(proto);
      if (proto !== protocol) notes.push(`${t.name}: no ${protocol}; measured with ${proto}`);
      let stopped: string | undefined;
      for (const n of stepsOf(o)) {
        let step: StepResult;
        try {
          step = await withDeadline(measureStep(t, proto, n, bytesPerSec, o, usage), stepBudgetMs(n, o), `${t.name} ${proto} ${n}`);
        } catch (err) {
          // A step that failed or hung may leave its viewers behind: this target's run ends here
          // (the server is stopped next, which ends them), the next target starts clean.
          ladders.push(`${t.name} ${proto}: ${stopped ? `${stopped}; then ` : ''}step ${n} failed: ${(err as Error).message}`);
          notes.push(`${t.name}: steps after the failed one not run`);
          return;
        }
        if (interrupted) return;
        results.push(step);
        table.row(row(step));
        if (pub.error) {
          stopped = `publisher failed at ${n} (${pub.error})`;
          notes.push(`${t.name}: ${stopped}`);
          ladders.push(`${t.name} ${proto}: ${stopped}`);
          return;
        }
        await new Promise((res) => setTimeout(res, 2000)); // let the server drop the last step's sockets
        if (step.stop && !stopped) {
          stopped = `${o.keepGoing ? 'would stop' : 'stopped'} at ${n}: ${step.stop}`;
          if (!o.keepGoing) break;
        }
      }
      const top = stepsOf(o).at(-1);
      const firstAdmission = results.find((r) => r.target === t.name && r.protocol === proto && r.limits.includes('admission'));
      ladders.push(`${t.name} ${proto}: ${stopped ?? `reached the top step (${top}) without stopping`}${firstAdmission ? `; admission control from ${firstAdmission.viewers}` : ''}`);
    }
  } finally {
    await pub.stop();
  }
}

async function main(): Promise<number> {
  let o;
  try {
    o = parseMediaBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof OptionsError) {
      console.error(`bench:media: ${err.message}\n\n${MEDIA_HELP}`);
      return 2;
    }
    throw err;
  }
  if (o.help) {
    console.log(MEDIA_HELP);
    return 0;
  }
  const pinned = pinSelf(LOAD_CPU);
  const notes: string[] = [];
  if (!pinned) notes.push('taskset unavailable: nothing pinned');
  if (o.nice !== 0) notes.push(setSelfPriority(o.nice) ? `servers, publisher and load ran at nice ${o.nice}` : `--nice ${o.nice} not permitted: ran at the default priority`);
  console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; servers on core ${SERVER_CPU}, load on core ${LOAD_CPU}${pinned ? '' : ' (not pinned)'}`);
  const sample = await ensureSample(SAMPLE);
  const bytesPerSec = readFlvFile(readFileSync(sample)).bytesPerSec;
  console.log(`stream: ${((bytesPerSec * 8) / 1000).toFixed(0)} kb/s 1280x720 30 fps, 2 s GOP; steps ${stepsOf(o).join(', ')}; ${o.stepMs / 1000} s per step\n`);
  const results: StepResult[] = [];
  const ladders: string[] = [];
  const load0 = loadavg();
  let current: RunningTarget | undefined;
  const report = () => {
    console.log(`\nresults\n${formatTable(HEADERS, results.map(row))}`);
    if (ladders.length) console.log(`\nwhere each ladder stopped:\n${ladders.map((n) => `- ${n}`).join('\n')}`);
    const load1 = loadavg();
    console.log(`\nmachine load (uptime, 1/5/15 min): ${load0.map((l) => l.toFixed(2)).join(' ')} at the start, ${load1.map((l) => l.toFixed(2)).join(' ')} at the end`);
    if (notes.length) console.log(`\nnotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
    if (o.json) writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), loadavg: { start: load0, end: load1 }, results, ladders, notes }, null, 2));
  };
  // Interrupted (Ctrl-C, a CI timeout): the table so far still prints, and the server goes.
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    notes.push(`interrupted by ${sig}`);
    report();
    for (const p of probes) p.kill('SIGKILL');
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const table = new LiveTable(HEADERS, (l) => console.log(l), 6, [6, 8]);
  for (const name of o.targets) {
    const why = targetUnavailable(name);
    if (why) {
      notes.push(`${name}: not run: ${why}`);
      continue;
    }
    let t: RunningTarget | undefined;
    try {
      t = await startTarget(name, SERVER_CPU);
      current = t;
      await benchTarget(t, o.protocols, sample, bytesPerSec, o, table, results, notes, ladders);
    } catch (err) {
      notes.push(`${name}: failed: ${(err as Error).message}`);
    } finally {
      current = undefined;
      await t?.stop().catch((err: Error) => notes.push(`${name}: stop failed: ${err.message}`));
    }
  }
  report();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
