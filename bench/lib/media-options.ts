/** `npm run bench:media` options (pure, tested). */
import { parseArgs } from 'node:util';
import { parseSeconds, OptionsError } from '../../stress/options.js';
import { PROTOCOLS, type Protocol } from '../../stress/viewers/viewer-state.js';
import { TARGET_NAMES, type TargetName } from './media-targets.js';

/** bench:media's stream (2.15 Mb/s 720p30, 2 s GOP, 10 s looped); bench:loopback-ceiling writes the same. */
export const MEDIA_SAMPLE = { videoKbps: 2022, audioKbps: 128, width: 1280, height: 720, fps: 30, gopSeconds: 2, seconds: 10 };

export const BASE_LADDER = [100, 400, 800, 1600, 2400, 3200];
export const MAX_VIEWERS = 9600;

export interface MediaBenchOptions {
  targets: TargetName[];
  protocols: Protocol[];
  max: number;
  /** Explicit viewer counts (--steps) instead of the ladder up to --max. */
  steps: number[] | undefined;
  stepMs: number;
  settleMs: number;
  rampPerSec: number;
  healthyStop: number;
  /** Run every step even past a stop (a shared machine: prove the mechanics); the stop is still reported. */
  keepGoing: boolean;
  json: string | undefined;
  /** Nice value for this process, the servers and the publisher (0 = unchanged). */
  nice: number;
  help: boolean;
}

export const MEDIA_HELP = `npm run bench:media -- [options]

One 2.15 Mb/s 720p30 H.264/AAC stream (2 s GOP, published as is by the stress tool's probe publisher,
which puts its wall clock in an SEI every 200 ms), N viewers on a ladder
(${BASE_LADDER.join(', ')}, then +800 up to --max) until fewer than 95 % of the admitted viewers
(those not refused) are healthy, or the load core saturates (90 % of it). Each step is bounded in time
(ramp + settle + window + 2 min); the table and where each ladder stopped (server core saturated, load
core saturated, admission) print at the end, also after a failed step or Ctrl-C.
Each server runs pinned to core 0 (taskset -c 0); the publisher and the viewers run on core 1.
Per target and step: healthy share, server CPU % of a core and per 100 viewers, RSS, the latency the
server adds (lat p50/p95: publisher's clock to the viewer's read, from 4 probe viewers joining spread
over the step), TTFF p50/p95 of the ramp's viewers, and the median TTFF of 20 single viewers joining
the running step (join TTFF), viewers refused (HTTP 503 / RTMP NetStream.Play.Failed) and shed (onair's
onair_media_shed_viewers_total), the healthy share of the admitted viewers (adm: not refused; shed ones
count as unhealthy) and of the kept ones (kept: neither refused nor shed), and the limits met.

  --targets LIST      onair (all-in-one, npm start), onair-media (the media service alone, npm run
                      start:media, with control on the load core), nms, nginx (default all; a target
                      that cannot run here is noted and skipped)
  --protocols LIST    viewer protocols: http-flv (default), ws-flv, rtmp; nginx-rtmp always uses rtmp
  --max N             highest step (default 3200, at most ${MAX_VIEWERS}; npm run bench:media-ladder climbs
                      to ${MAX_VIEWERS} on onair and nginx-rtmp, HTTP-FLV and RTMP)
  --steps LIST        these viewer counts instead of the ladder (e.g. 3200: one step from a fresh start)
  --step-seconds S    measurement window per step after the ramp and settle (default 20)
  --settle S          time after a viewer starts before its window opens (default 3)
  --ramp R            viewers started per second (default 800)
  --json FILE         also write every result as JSON to FILE
  --keep-going        run every step even after one that would stop the ladder (which is still
                      reported), e.g. to check the mechanics on a shared machine
  --nice=N            run servers, publisher and load at nice N (-20..19; negative needs root),
                      so other work on a shared machine does not skew the figures (default 0)
  -h, --help          this help

onair runs with the environment and node flags of its npm script (package.json: MALLOC_ARENA_MAX,
--heap-growing-percent...); BENCH_NODE_FLAGS="..." replaces the flags.`;

export function ladder(max: number): number[] {
  const steps = BASE_LADDER.filter((n) => n <= max);
  for (let n = 4000; n <= max; n += 800) steps.push(n);
  return steps;
}

/** The viewer counts a run climbs: --steps as given, else the ladder up to --max. */
export function stepsOf(o: Pick<MediaBenchOptions, 'steps' | 'max'>): number[] {
  return o.steps ?? ladder(o.max);
}

export function parseMediaBenchArgs(argv: string[]): MediaBenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        targets: { type: 'string' },
        protocols: { type: 'string' },
        max: { type: 'string' },
        steps: { type: 'string' },
        'step-seconds': { type: 'string' },
        settle: { type: 'string' },
        ramp: { type: 'string' },
        json: { type: 'string' },
        nice: { type: 'string' },
        'keep-going': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  const targets = (values.targets ?? TARGET_NAMES.join(',')).split(',').map((t) => t.trim()) as TargetName[];
  for (const t of targets) if (!TARGET_NAMES.includes(t)) throw new OptionsError(`--targets: unknown '${t}' (use ${TARGET_NAMES.join(', ')})`);
  const protocols = (values.protocols ?? 'http-flv').split(',').map((p) => p.trim()) as Protocol[];
  for (const p of protocols) {
    if (!PROTOCOLS.includes(p) || p === 'hls') throw new OptionsError(`--protocols: '${p}' (use http-flv, ws-flv, rtmp)`);
  }
  const max = Number(values.max ?? 3200);
  if (!Number.isInteger(max) || max < 1 || max > MAX_VIEWERS) throw new OptionsError(`--max: 1..${MAX_VIEWERS}`);
  let steps: number[] | undefined;
  if (values.steps !== undefined) {
    steps = values.steps.split(',').map((v) => Number(v.trim()));
    if (!steps.every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_VIEWERS)) throw new OptionsError(`--steps: viewer counts 1..${MAX_VIEWERS}`);
  }
  const stepMs = parseSeconds(values['step-seconds'] ?? '20', '--step-seconds');
  if (stepMs < 5000 || stepMs > 600_000) throw new OptionsError('--step-seconds: 5..600');
  const settleMs = parseSeconds(values.settle ?? '3', '--settle');
  const rampPerSec = Number(values.ramp ?? 800);
  if (!Number.isInteger(rampPerSec) || rampPerSec < 1 || rampPerSec > 5000) throw new OptionsError('--ramp: 1..5000');
  const nice = Number(values.nice ?? 0);
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw new OptionsError('--nice: -20..19');
  return { nice, targets: [...new Set(targets)], protocols: [...new Set(protocols)], max, steps, stepMs, settleMs, rampPerSec, healthyStop: 0.95, keepGoing: values['keep-going'] ?? false, json: values.json, help: values.help ?? false };
}
