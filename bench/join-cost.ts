/**
 * `npx tsx bench/join-cost.ts`: the server CPU one viewer's join costs, on its own. The all-in-one
 * (dist/onair.js, as `npm start` runs it, BENCH_NODE_FLAGS honoured) on core 0, the 2.15 Mb/s bench
 * stream published from core 1, then three windows read from the server's /proc/PID/stat:
 *   1. idle: the publisher alone (ingest), `--idle-s` seconds;
 *   2. joins: `--joins` viewers join at `--rate` a second and stay (each gets the start-up burst);
 *   3. steady: the same viewers, nobody joining, `--steady-s` seconds.
 * The joins' CPU is the join window's CPU less what the audience costs meanwhile: ingest plus the
 * steady per-viewer cost for the viewers present, which grow linearly over the window:
 *   perJoin = (joinCpu - idleRate * T - (steadyRate - idleRate) * T / 2) / joins.
 * So it counts everything a join makes the server do (accept, HTTP or RTMP handshake, the play hook,
 * play.started and control's viewing row, the burst and its writes, the garbage), not the viewers'
 * steady delivery. Prints one JSON line with the figures (the per-join CPU also split into user and
 * system time, by the same formula); the monotonic clock (µs, the clock of a --cpu-prof profile) of
 * the join window's ends is in it, for bench/cpuprofile-split.ts.
 *
 * A refused join's cost: a server whose every join after the first is refused, e.g. RTMP players
 * capped at one (the first viewer's) with `ONAIR_RTMP_MAX_CONNECTIONS=10000
 * ONAIR_RTMP_PUBLISHER_RESERVE=9999 npx tsx bench/join-cost.ts --protocol rtmp`; the refused joins
 * show in `errors` (rtmp-NetStream.Play.Failed) and the audience stays one viewer, so perJoinMs is
 * what a refusal costs from accept to close.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { ensureSample } from '../stress/publish/sample.js';
import { parseProcStat } from '../stress/report/server-usage.js';
import { protocolOf, ViewerPool } from '../stress/viewers/viewer-pool.js';
import type { Protocol } from '../stress/viewers/viewer-state.js';
import { MEDIA_SAMPLE } from './lib/media-options.js';
import { startTarget } from './lib/media-targets.js';
import { startClockPublisher } from './lib/clock-publisher.js';
import { pinSelf } from './lib/child.js';

const CLK_TCK = 100;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** The process's CPU seconds so far (user, system). */
function cpuOf(pid: number): { user: number; system: number } {
  const s = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  if (!s) throw new Error(`cannot read /proc/${pid}/stat`);
  return { user: s.utime / CLK_TCK, system: s.stime / CLK_TCK };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const monoUs = () => Number(process.hrtime.bigint() / 1000n);

async function window(pid: number, ms: number): Promise<{ cpu: number; user: number; system: number; ms: number }> {
  const c0 = cpuOf(pid);
  const t0 = performance.now();
  await sleep(ms);
  const c1 = cpuOf(pid);
  const t = performance.now() - t0;
  return { cpu: c1.user + c1.system - c0.user - c0.system, user: c1.user - c0.user, system: c1.system - c0.system, ms: t };
}

async function main(): Promise<void> {
  const joins = Number(arg('joins', '1000'));
  const rate = Number(arg('rate', '100'));
  const protocol = arg('protocol', 'http-flv') as Protocol;
  const idleMs = Number(arg('idle-s', '5')) * 1000;
  const steadyMs = Number(arg('steady-s', '5')) * 1000;
  pinSelf('1');
  const load = loadavg()[0]!;
  const sample = await ensureSample(MEDIA_SAMPLE);
  const t = await startTarget('onair', '0');
  const pub = startClockPublisher(sample, t.publishUrl, 'join-cost publisher', '1');
  const pool = new ViewerPool({ stallMs: 1000, settleMs: 0 });
  try {
    const url = new URL(await t.playUrl(protocol));
    // The stream plays (a first viewer got a keyframe), then everything settles.
    const first = pool.startOne({ url, protocol: protocolOf(url) });
    const until = performance.now() + 20_000;
    while (first.firstFrameAt === undefined && first.error === undefined && performance.now() < until) await sleep(100);
    if (first.firstFrameAt === undefined) throw new Error(`stream not playable: ${first.error ?? 'no keyframe'}`);
    await sleep(3000);
    const idle = await window(t.pid, idleMs);
    const c0 = cpuOf(t.pid);
    const t0 = performance.now();
    const fromUs = monoUs();
    await pool.ramp(joins, rate, () => ({ url, protocol }), performance.now() + 120_000);
    await sleep(500); // the last bursts leave
    const toUs = monoUs();
    const c1 = cpuOf(t.pid);
    const T = (performance.now() - t0) / 1000;
    const steady = await window(t.pid, steadyMs);
    const joinCpu = c1.user + c1.system - c0.user - c0.system;
    const idleRate = idle.cpu / (idle.ms / 1000);
    const steadyRate = steady.cpu / (steady.ms / 1000);
    const audience = idleRate * T + ((steadyRate - idleRate) * T) / 2;
    // The same formula on user and on system time alone.
    const part = (join: number, idlePart: number, steadyPart: number) =>
      +(((join - (idlePart / (idle.ms / 1000)) * T - ((steadyPart / (steady.ms / 1000) - idlePart / (idle.ms / 1000)) * T) / 2) / joins) * 1000).toFixed(3);
    const ok = pool.viewers.filter((v) => v.firstFrameAt !== undefined && v.error === undefined).length;
    const errors: Record<string, number> = {};
    for (const v of pool.viewers) if (v.error) errors[v.error] = (errors[v.error] ?? 0) + 1;
    console.log(JSON.stringify({
      protocol, joins, rate, load1AtStart: load, viewersWithFrames: ok, errors,
      idleCpuPercent: +(idleRate * 100).toFixed(1), steadyCpuPercent: +(steadyRate * 100).toFixed(1),
      joinWindowS: +T.toFixed(2), joinWindowCpuS: +joinCpu.toFixed(2), joinWindowUserS: +(c1.user - c0.user).toFixed(2), joinWindowSysS: +(c1.system - c0.system).toFixed(2),
      perJoinMs: +(((joinCpu - audience) / joins) * 1000).toFixed(3),
      perJoinUserMs: part(c1.user - c0.user, idle.user, steady.user), perJoinSysMs: part(c1.system - c0.system, idle.system, steady.system),
      profileWindowUs: { from: fromUs, to: toUs },
    }));
  } finally {
    pool.closeAll();
    await pub.stop().catch(() => undefined);
    await sleep(1000);
    await t.stop();
  }
}

void main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
