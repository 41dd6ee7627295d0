/**
 * `npm run bench:loopback-ceiling`: how many viewers of bench:media's 2.15 Mb/s stream the simplest
 * possible server feeds from one core of this machine over loopback TCP, with bench:media's load
 * generator and health rule. The ceiling onair's engine is judged against (issue 15).
 *
 * Two writers, each pinned to core 0 (taskset -c 0), the load pinned to core 1 as bench:media does:
 * - c: bench/lib/loopback-writer.c, compiled with gcc into a temp dir at bench time: epoll,
 *   non-blocking sockets, one writev(2) per viewer per 100 ms tick;
 * - node: bench/lib/loopback-writer-node.ts: net.createServer, one socket.write(buffer) per viewer
 *   per tick, no other work.
 * Both write the sample's FLV tags cut into 100 ms ticks (bench/lib/loopback-stream.ts) after an
 * HTTP-FLV response head, so the stress tool's HTTP-FLV viewers parse and judge it as they judge
 * onair (healthy: >= 90 % of the stream's bytes over the viewer's window). A fresh writer per step.
 * See HELP.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureSample } from '../stress/publish/sample.js';
import { readFlvFile } from '../stress/flv/flv-file.js';
import { runLoad } from '../stress/load.js';
import { parseProcStat } from '../stress/report/server-usage.js';
import { LiveTable, fixed, formatTable } from '../stress/report/table.js';
import { freePort, pinSelf, setSelfPriority, startChild, waitForPort, type Child } from './lib/child.js';
import { machineBusySeconds, machineCoreTimes, type CpuTimes } from './lib/machine-cpu.js';
import { MEDIA_SAMPLE } from './lib/media-options.js';
import { SATURATED } from './lib/ladder-limit.js';
import { withDeadline } from './lib/deadline.js';
import { ceilingStep, encodeTickStream, tickBytes, tickStream, TICK_MS } from './lib/loopback-stream.js';

const WRITER_CPU = '0';
const LOAD_CPU = '1';
const WRITERS = ['c', 'node'] as const;
type Writer = (typeof WRITERS)[number];
const MAX_STEP_MS = 40_000;

const HELP = `npm run bench:loopback-ceiling -- [options]

The loopback ceiling of one core of this machine for bench:media's stream (2.15 Mb/s 720p30 FLV):
the simplest possible HTTP-FLV writer, pinned to core 0, feeds N stress-tool HTTP-FLV viewers pinned
to core 1 (the same load and health rule as bench:media: healthy = >= 90 % of the stream's bytes over
the viewer's window). Writers: c (epoll, one writev per viewer per 100 ms tick; compiled with gcc into
a temp dir) and node (net.createServer, one socket.write per viewer per tick). A fresh writer per step.
Per step: healthy %, the writer's CPU (user, system, % of a core, from /proc/PID/stat), core 0's
busy % and its user/system/softirq split (/proc/stat: on loopback core 0 also runs the viewers' TCP
receive path), Gb/s received by the load over the same window, the load's CPU, CPU of everything else on the machine, the writer's own
counters (late ticks, ticks dropped for viewers > 2 s behind, short writes). Each step is at most
${MAX_STEP_MS / 1000} s (ramp + settle + window); CPU figures are over the window.

  --writers LIST      c, node (default both)
  --steps LIST        viewer counts (default 3200,4800,6400,8000)
  --step-seconds S    measurement window per step (default 20)
  --settle S          time after a viewer starts before its window opens (default 3)
  --ramp R            viewers started per second (default 800)
  --nice=N            run the writers and the load at nice N (negative needs root; default 0)
  --json FILE         also write the results as JSON to FILE
  -h, --help          this help`;

interface Options { writers: Writer[]; steps: number[]; stepMs: number; settleMs: number; rampPerSec: number; nice: number; json: string | undefined; help: boolean }

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      writers: { type: 'string' }, steps: { type: 'string' }, 'step-seconds': { type: 'string' }, settle: { type: 'string' },
      ramp: { type: 'string' }, nice: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const writers = (values.writers ?? WRITERS.join(',')).split(',').map((w) => w.trim()) as Writer[];
  for (const w of writers) if (!WRITERS.includes(w)) throw new Error(`--writers: unknown '${w}' (use ${WRITERS.join(', ')})`);
  const steps = (values.steps ?? '3200,4800,6400,8000').split(',').map((v) => Number(v.trim()));
  if (!steps.every((n) => Number.isInteger(n) && n >= 1 && n <= 12_000)) throw new Error('--steps: viewer counts 1..12000');
  const stepMs = Number(values['step-seconds'] ?? 20) * 1000;
  const settleMs = Number(values.settle ?? 3) * 1000;
  const rampPerSec = Number(values.ramp ?? 800);
  const nice = Number(values.nice ?? 0);
  if (!(stepMs >= 5000) || !(settleMs >= 0) || !(rampPerSec >= 1) || !Number.isInteger(nice) || nice < -20 || nice > 19) throw new Error('--step-seconds >= 5, --settle >= 0, --ramp >= 1, --nice -20..19');
  const longest = (Math.max(...steps) / rampPerSec) * 1000 + settleMs + stepMs;
  if (longest > MAX_STEP_MS) throw new Error(`a step would last ${Math.round(longest / 1000)} s (ramp + settle + window); at most ${MAX_STEP_MS / 1000} s`);
  return { writers: [...new Set(writers)], steps, stepMs, settleMs, rampPerSec, nice, json: values.json, help: values.help ?? false };
}

interface Row {
  writer: Writer;
  viewers: number;
  healthyShare: number;
  writerUserPercent: number | undefined;
  writerSysPercent: number | undefined;
  core0Percent: number;
  core0UserPercent: number;
  core0SysPercent: number;
  core0SoftirqPercent: number;
  gbps: number;
  loadCpuPercent: number;
  otherCpuPercent: number;
  /** The writer's own counters over the whole step (JSON line printed at SIGTERM). */
  counters: Record<string, number> | undefined;
  errors: Record<string, number>;
}

const HEADERS = ['writer', 'N', 'healthy%', 'wr usr%', 'wr sys%', 'wr cpu%', 'core0%', 'c0 usr%', 'c0 sys%', 'c0 sirq%', 'Gb/s', 'load cpu%', 'other cpu%', 'late ticks', 'dropped', 'short wr', 'errors'];
function cells(r: Row): (string | number | undefined)[] {
  const errs = Object.entries(r.errors).sort((a, b) => b[1] - a[1]).slice(0, 2).map(([k, v]) => `${k}:${v}`).join(' ');
  const wr = r.writerUserPercent !== undefined && r.writerSysPercent !== undefined ? r.writerUserPercent + r.writerSysPercent : undefined;
  const c = r.counters;
  return [r.writer, r.viewers, fixed(r.healthyShare * 100, 1), fixed(r.writerUserPercent, 1), fixed(r.writerSysPercent, 1), fixed(wr, 1), fixed(r.core0Percent, 1), fixed(r.core0UserPercent, 1), fixed(r.core0SysPercent, 1), fixed(r.core0SoftirqPercent, 1), fixed(r.gbps, 2), fixed(r.loadCpuPercent), fixed(r.otherCpuPercent), c?.lateTicks, c?.droppedTicks, c ? (c.partial ?? c.queued) : undefined, errs || '-'];
}

/** The writer's utime and stime (seconds) now; undefined once it is gone. */
function writerCpu(pid: number): { user: number; system: number } | undefined {
  try {
    const s = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
    return s ? { user: s.utime / 100, system: s.stime / 100 } : undefined;
  } catch {
    return undefined;
  }
}

interface Snapshot { at: number; writer: { user: number; system: number } | undefined; core0: CpuTimes | undefined; machine: number; load: NodeJS.CpuUsage }
function snapshot(pid: number): Snapshot {
  return { at: performance.now(), writer: writerCpu(pid), core0: machineCoreTimes(Number(WRITER_CPU)), machine: machineBusySeconds(), load: process.cpuUsage() };
}

/** Mean of the load's per-second received rates (Gb/s) whose second ended within [from, to] (the CPU window); undefined when none did. */
function windowGbps(rates: readonly { at: number; mbps: number }[], from: number, to: number): number | undefined {
  const inside = rates.filter((r) => r.at > from + 1000 && r.at <= to + 1);
  return inside.length ? inside.reduce((s, r) => s + r.mbps, 0) / inside.length / 1000 : undefined;
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));
let current: Child | undefined;
let tmp: string | undefined;

function killWriter(): void {
  if (current && current.proc.exitCode === null && current.proc.signalCode === null) current.proc.kill('SIGKILL');
  current = undefined;
}

/** Last resort on any exit: the writer is killed and the temp dir goes. */
function cleanup(): void {
  killWriter();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
}

function writerArgv(w: Writer, port: number, streamFile: string, binary: string | undefined): string[] {
  if (w === 'c') return [binary!, String(port), streamFile];
  return [process.execPath, '--import', 'tsx', join(ROOT, 'bench/lib/loopback-writer-node.ts'), String(port), streamFile];
}

async function measureStep(w: Writer, n: number, o: Options, streamFile: string, binary: string | undefined, expectedBytesPerSec: number): Promise<Row> {
  const port = await freePort();
  const child = startChild(writerArgv(w, port, streamFile, binary), { cpus: WRITER_CPU, logFile: join(tmp!, `writer-${w}-${n}.log`), cwd: ROOT });
  current = child;
  let out = '';
  child.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await waitForPort(port, 15_000);
    const rampMs = (n / o.rampPerSec) * 1000;
    const durationMs = rampMs + o.settleMs + o.stepMs;
    let a: Snapshot | undefined;
    let b: Snapshot | undefined;
    const ta = setTimeout(() => (a = snapshot(child.pid)), rampMs + o.settleMs + 1000);
    const tb = setTimeout(() => (b = snapshot(child.pid)), durationMs - 500);
    const url = new URL(`http://127.0.0.1:${port}/live/loopback.flv`);
    const rates: { at: number; mbps: number }[] = [];
    const r = await runLoad({
      count: n, rampPerSec: o.rampPerSec, durationMs, settleMs: o.settleMs, stallMs: 1000, specFor: () => ({ url, protocol: 'http-flv' }), expectedBytesPerSec,
      onTick: (t) => rates.push({ at: performance.now(), mbps: t.mbps }),
    });
    clearTimeout(ta);
    clearTimeout(tb);
    if (!a || !b) throw new Error('the CPU window was not sampled');
    const s = (b.at - a.at) / 1000;
    const pct = (x: number) => (x / s) * 100;
    const wu = a.writer && b.writer ? pct(b.writer.user - a.writer.user) : undefined;
    const ws = a.writer && b.writer ? pct(b.writer.system - a.writer.system) : undefined;
    const c0 = (f: (t: CpuTimes) => number) => (a!.core0 && b!.core0 ? pct(f(b!.core0) - f(a!.core0)) : 0);
    const loadCpuPercent = pct((b.load.user - a.load.user + b.load.system - a.load.system) / 1e6);
    const machinePercent = pct(b.machine - a.machine);
    await child.stop();
    current = undefined;
    let counters: Record<string, number> | undefined;
    try {
      counters = JSON.parse(out.trim().split('\n').at(-1) ?? '') as Record<string, number>;
    } catch {
      counters = undefined;
    }
    return {
      writer: w, viewers: n, healthyShare: r.summary.healthyShare,
      writerUserPercent: wu, writerSysPercent: ws,
      core0Percent: c0((t) => t.user + t.nice + t.system + t.irq + t.softirq + t.steal),
      core0UserPercent: c0((t) => t.user + t.nice), core0SysPercent: c0((t) => t.system), core0SoftirqPercent: c0((t) => t.softirq + t.irq),
      gbps: windowGbps(rates, a.at, b.at) ?? r.summary.mbps / 1000, loadCpuPercent,
      otherCpuPercent: Math.max(0, machinePercent - loadCpuPercent - (wu ?? 0) - (ws ?? 0)),
      counters, errors: r.summary.errors,
    };
  } finally {
    await child.stop();
    current = undefined;
  }
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`bench:loopback-ceiling: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  const notes: string[] = [];
  const pinned = pinSelf(LOAD_CPU);
  if (!pinned) notes.push('taskset unavailable: nothing pinned');
  if (o.nice !== 0) notes.push(setSelfPriority(o.nice) ? `writers and load ran at nice ${o.nice}` : `--nice ${o.nice} not permitted: ran at the default priority`);
  tmp = mkdtempSync(join(tmpdir(), 'onair-loopceil-'));
  process.on('exit', cleanup);

  const sample = await ensureSample(MEDIA_SAMPLE);
  const flv = readFlvFile(readFileSync(sample));
  const stream = tickStream(flv.tags, flv.durationMs);
  const streamFile = join(tmp, 'stream.bin');
  writeFileSync(streamFile, encodeTickStream(stream));
  let binary: string | undefined;
  const writers = o.writers.filter((w) => {
    if (w !== 'c') return true;
    try {
      binary = join(tmp!, 'loopback-writer');
      execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-o', binary, join(ROOT, 'bench/lib/loopback-writer.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
      return true;
    } catch (err) {
      notes.push(`c: not run: gcc failed (${(err as Error).message.split('\n')[0]})`);
      return false;
    }
  });
  console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; writers on core ${WRITER_CPU}, load on core ${LOAD_CPU}${pinned ? '' : ' (not pinned)'}`);
  console.log(`stream: bench:media's sample, ${((flv.bytesPerSec * 8) / 1000).toFixed(0)} kb/s (health judged against it); written as ${stream.chunks.length} ticks of ${TICK_MS} ms, ${(tickBytes(stream.bytesPerSec) / 1000).toFixed(1)} KB a tick on average (${((stream.bytesPerSec * 8) / 1000).toFixed(0)} kb/s), head ${stream.head.length} B`);
  console.log(`steps ${o.steps.join(', ')}; ramp ${o.rampPerSec}/s, settle ${o.settleMs / 1000} s, window ${o.stepMs / 1000} s\n`);

  const rows: Row[] = [];
  const load0 = loadavg();
  const report = () => {
    console.log(`\nresults\n${formatTable(HEADERS, rows.map(cells))}`);
    console.log('\nceiling (first step with core 0 >= 90 % or < 95 % healthy):');
    for (const w of writers) {
      const mine = rows.filter((r) => r.writer === w);
      const c = ceilingStep(mine, SATURATED);
      const loadSat = mine.find((r) => r.loadCpuPercent >= SATURATED);
      const top = mine.at(-1);
      console.log(`- ${w}: ${c ? `${c.row.viewers} (${c.why}; ${c.row.gbps.toFixed(1)} Gb/s)` : top ? `not reached up to ${top.viewers} (core 0 ${top.core0Percent.toFixed(0)} %, ${top.gbps.toFixed(1)} Gb/s)` : 'no step measured'}${loadSat ? `; the load core saturated from ${loadSat.viewers} (${loadSat.loadCpuPercent.toFixed(0)} %): past it the figures measure the load` : ''}`);
    }
    const load1 = loadavg();
    console.log(`\nmachine load (uptime, 1/5/15 min): ${load0.map((l) => l.toFixed(2)).join(' ')} at the start, ${load1.map((l) => l.toFixed(2)).join(' ')} at the end`);
    if (notes.length) console.log(`\nnotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
    if (o.json) writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), loadavg: { start: load0, end: load1 }, rows, notes }, null, 2));
  };
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    notes.push(`interrupted by ${sig}`);
    report();
    process.exit(130); // the exit handler kills the writer and removes the temp dir
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const table = new LiveTable(HEADERS, (l) => console.log(l), 7, [6]);
  for (const w of writers) {
    for (const n of o.steps) {
      const budget = (n / o.rampPerSec) * 1000 + o.settleMs + o.stepMs + 30_000;
      try {
        const row = await withDeadline(measureStep(w, n, o, streamFile, binary, flv.bytesPerSec), budget, `${w} ${n}`);
        if (interrupted) return 130;
        rows.push(row);
        table.row(cells(row));
      } catch (err) {
        killWriter(); // a step that hung may still hold its writer; its viewers end with the next step's run
        notes.push(`${w}: step ${n} failed: ${(err as Error).message}; its later steps not run`);
        break;
      }
      await new Promise((res) => setTimeout(res, 2000)); // let the sockets of the last step go
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
