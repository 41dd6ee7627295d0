/**
 * The servers `npm run bench:media` compares, each started as a child pinned to core 0 on free
 * loopback ports: onair (dist/onair.js, or the media service dist/media/main.js with control beside it;
 * keys and tokens from control's API), node-media-server 4.4.3 and
 * nginx-rtmp (RTMP only: Debian's module has no HTTP-FLV).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnairApi } from '../../stress/api-client.js';
import type { Protocol } from '../../stress/viewers/viewer-state.js';
import { freePort, startChild, waitForPort, type Child } from './child.js';
import { nginxAvailable, prepareNginx } from './nginx-rtmp.js';
import { nodeScript } from './npm-script.js';

/** onair: the all-in-one process (`npm start`); onair-media: the media service alone (`npm run start:media`). */
export type TargetName = 'onair' | 'onair-media' | 'nms' | 'nginx';
export const TARGET_NAMES: readonly TargetName[] = ['onair', 'onair-media', 'nms', 'nginx'];

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * BENCH_ONAIR_ROOT: run the onair target from another checkout, built beforehand (its dist/ is used
 * as is), so an older engine is measured by this bench in the same run (e.g. the engine as it was
 * when an issue was filed). Unset: this checkout, built first.
 */
const ONAIR_ROOT = process.env.BENCH_ONAIR_ROOT || ROOT;

export interface RunningTarget {
  name: TargetName;
  label: string;
  pid: number;
  protocols: Protocol[];
  publishUrl: string;
  /** A play URL for `protocol` (a fresh token where the target needs one). */
  playUrl(protocol: Protocol): Promise<string>;
  /** The server's own admission counters so far (onair's /metrics), where it has them. */
  admission?(): Promise<AdmissionCounters | undefined>;
  stop(): Promise<void>;
}

export interface AdmissionCounters {
  /** New viewers refused because the engine was behind (onair_media_overload_refusals_total). */
  refused: number;
  /** Viewers shed, newest first, while it stayed behind (onair_media_shed_viewers_total). */
  shed: number;
}

/** Sum of every sample of counter `name` in a Prometheus text exposition. */
export function sumCounter(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/** onair's admission counters from /metrics on `port` (public there: the bench sets no metrics token); undefined when unreadable. */
async function onairAdmission(port: number): Promise<AdmissionCounters | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    const text = await res.text();
    return { refused: sumCounter(text, 'onair_media_overload_refusals_total'), shed: sumCounter(text, 'onair_media_shed_viewers_total') };
  } catch {
    return undefined;
  }
}

/** Why a target cannot run here, or undefined when it can. */
export function targetUnavailable(name: TargetName): string | undefined {
  if (name === 'nginx' && !nginxAvailable()) return 'nginx or libnginx-mod-rtmp is not installed';
  return undefined;
}

/** Compiles onair to dist/ once per run, as `npm start` does (scripts/build.mjs). */
let built = false;
function buildOnair(): void {
  if (built || ONAIR_ROOT !== ROOT) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('scripts/build.mjs failed');
  built = true;
}

/** Starts the target; its temp folder (data, logs) is removed when it stops. */
export async function startTarget(name: TargetName, cpus: string): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), `onair-bench-${name}-`));
  const t = await startTargetIn(name, cpus, dir);
  return { ...t, stop: async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  } };
}

async function startTargetIn(name: TargetName, cpus: string, dir: string): Promise<RunningTarget> {
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const logFile = join(dir, 'server.log');
  if (name === 'nms') {
    const child = startChild([process.execPath, join(ROOT, 'bench/lib/nms-runner.cjs'), String(rtmpPort), String(httpPort), dir], { cpus, logFile, cwd: dir });
    await waitReady(child, [rtmpPort, httpPort], logFile);
    const key = 'bench';
    return {
      name, label: 'node-media-server 4.4.3', pid: child.pid, protocols: ['http-flv', 'ws-flv', 'rtmp'],
      publishUrl: `rtmp://127.0.0.1:${rtmpPort}/live/${key}`,
      playUrl: async (p) => (p === 'rtmp' ? `rtmp://127.0.0.1:${rtmpPort}/live/${key}` : `${p === 'ws-flv' ? 'ws' : 'http'}://127.0.0.1:${httpPort}/live/${key}.flv`),
      stop: () => child.stop(),
    };
  }
  if (name === 'nginx') {
    const child = startChild(prepareNginx(dir, rtmpPort), { cpus, logFile, cwd: dir });
    await waitReady(child, [rtmpPort], logFile);
    const key = 'bench';
    return {
      name, label: 'nginx-rtmp (Debian)', pid: child.pid, protocols: ['rtmp'],
      publishUrl: `rtmp://127.0.0.1:${rtmpPort}/live/${key}`,
      playUrl: async () => `rtmp://127.0.0.1:${rtmpPort}/live/${key}`,
      stop: () => child.stop(),
    };
  }
  buildOnair();
  if (name === 'onair-media') return startOnairMedia(dir, rtmpPort, httpPort, cpus, logFile);
  return startOnair(dir, rtmpPort, httpPort, cpus, logFile);
}

/**
 * The environment and node flags of an npm script (package.json), so the benchmark runs what
 * `npm start` runs; BENCH_NODE_FLAGS replaces the flags to measure other settings.
 */
function scriptRun(script: string): { env: Record<string, string>; flags: string[] } {
  const { env, flags } = nodeScript(ROOT, script);
  const override = process.env.BENCH_NODE_FLAGS;
  return { env, flags: override !== undefined ? override.split(' ').filter(Boolean) : flags };
}

function onairEnv(dir: string, httpPort: number, rtmpPort: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ONAIR_DATA_DIR: dir,
    ONAIR_HTTP_PORT: String(httpPort),
    ONAIR_RTMP_PORT: String(rtmpPort),
    ONAIR_HOST: '127.0.0.1',
    ONAIR_LOG_LEVEL: 'warn',
    ONAIR_HLS: 'false',
    ONAIR_RECORD: 'false',
    ONAIR_DATABASE_URL: '',
    ONAIR_REDIS_URL: '',
    // Every load viewer comes from 127.0.0.1: lift the per-address cap of RTMP connections.
    ONAIR_RTMP_MAX_CONNECTIONS_PER_IP: '100000',
  };
}

async function startOnair(dir: string, rtmpPort: number, httpPort: number, cpus: string, logFile: string): Promise<RunningTarget> {
  // The same command as `npm start` (package.json).
  const run = scriptRun('start');
  const child = startChild([process.execPath, ...run.flags, join(ONAIR_ROOT, 'dist/onair.js')], { cpus, env: { ...onairEnv(dir, httpPort, rtmpPort), ...run.env }, logFile, cwd: ONAIR_ROOT });
  await waitReady(child, [rtmpPort, httpPort], logFile);
  const target = await onairRoom('onair', 'onair', child.pid, httpPort, async () => child.stop());
  return { ...target, admission: () => onairAdmission(httpPort) };
}

/**
 * The media service alone on the server core, as `npm run start:media` runs it, with control
 * (`npm run start:control`) on the load core: the figures are the media process's own, as for
 * the peers, which are media servers alone. Control issues the play tokens and answers media's
 * publish hook over HTTP; media checks the tokens itself. The play URLs control hands out name its
 * own port, so they are pointed at media's.
 */
async function startOnairMedia(dir: string, rtmpPort: number, httpPort: number, cpus: string, logFile: string): Promise<RunningTarget> {
  const controlPort = await freePort();
  // As compose.yaml sets them: the callback key both sign with, and the play-token key that lets
  // media check viewers' tokens itself.
  const keys = { ONAIR_MEDIA_CALLBACK_KEY: randomBytes(24).toString('hex'), ONAIR_PLAY_TOKEN_KEY: randomBytes(24).toString('hex') };
  const controlEnv = { ...onairEnv(join(dir, 'control'), controlPort, rtmpPort), ...keys, ONAIR_MEDIA_URL: `http://127.0.0.1:${httpPort}` };
  const controlRun = scriptRun('start:control');
  const control = startChild([process.execPath, ...controlRun.flags, join(ROOT, 'dist/control/main.js')], { cpus: LOAD_CPUS_FOR_CONTROL, env: { ...controlEnv, ...controlRun.env }, logFile: join(dir, 'control.log'), cwd: ROOT });
  await waitReady(control, [controlPort], join(dir, 'control.log'));
  const mediaEnv = { ...onairEnv(join(dir, 'media'), httpPort, rtmpPort), ...keys, ONAIR_CONTROL_URL: `http://127.0.0.1:${controlPort}` };
  const mediaRun = scriptRun('start:media');
  const media = startChild([process.execPath, ...mediaRun.flags, join(ROOT, 'dist/media/main.js')], { cpus, env: { ...mediaEnv, ...mediaRun.env }, logFile, cwd: ROOT });
  try {
    await waitReady(media, [rtmpPort, httpPort], logFile);
  } catch (err) {
    await control.stop();
    throw err;
  }
  const target = await onairRoom('onair-media', 'onair media service', media.pid, controlPort, async () => {
    await media.stop();
    await control.stop();
  });
  const toMedia = (url: string) => url.replace(`:${controlPort}/`, `:${httpPort}/`);
  return { ...target, playUrl: async (p) => toMedia(await target.playUrl(p)), admission: () => onairAdmission(httpPort) };
}

/** Control shares the load's core (it issues tokens, answers the publish hook and takes media's event callbacks); its CPU shows under 'other cpu%'. */
const LOAD_CPUS_FOR_CONTROL = '1';

/** Logs in an anchor on control at `apiPort`, creates a room and starts it live. */
async function onairRoom(name: TargetName, label: string, pid: number, apiPort: number, stopProcesses: () => Promise<void>): Promise<RunningTarget> {
  const api = new OnairApi(`http://127.0.0.1:${apiPort}`);
  await api.loginAnchor();
  const room = await api.createRoom('bench');
  const push = (await api.startLive(room.id)) || room.pushUrl;
  return {
    name, label, pid, protocols: ['http-flv', 'ws-flv', 'rtmp', 'hls'],
    publishUrl: push,
    playUrl: async (p) => {
      const info = await api.playTokenWhenLive(room.id);
      if (p === 'rtmp') return info.rtmp_url;
      if (p === 'ws-flv') return info.ws_url ?? info.flv_url.replace(/^http/, 'ws');
      if (p === 'hls') return info.hls_url;
      return info.flv_url;
    },
    stop: async () => {
      await api.closeLive(room.id).catch(() => undefined);
      await stopProcesses();
    },
  };
}

async function waitReady(child: Child, ports: number[], logFile: string): Promise<void> {
  try {
    for (const p of ports) await waitForPort(p, 30_000);
  } catch (err) {
    await child.stop();
    throw new Error(`${(err as Error).message}; see ${logFile}`);
  }
}
