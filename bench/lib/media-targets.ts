/**
 * The servers `npm run bench:media` compares, each started as a child pinned to core 0 on free
 * loopback ports: onair (onair.ts, keys and tokens from its API), node-media-server 4.4.3 and
 * nginx-rtmp (RTMP only: Debian's module has no HTTP-FLV).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnairApi } from '../../stress/api-client.js';
import type { Protocol } from '../../stress/viewers/viewer-state.js';
import { freePort, startChild, waitForPort, type Child } from './child.js';
import { nginxAvailable, prepareNginx } from './nginx-rtmp.js';

export type TargetName = 'onair' | 'nms' | 'nginx';
export const TARGET_NAMES: readonly TargetName[] = ['onair', 'nms', 'nginx'];

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunningTarget {
  name: TargetName;
  label: string;
  pid: number;
  protocols: Protocol[];
  publishUrl: string;
  /** A play URL for `protocol` (a fresh token where the target needs one). */
  playUrl(protocol: Protocol): Promise<string>;
  stop(): Promise<void>;
}

/** Why a target cannot run here, or undefined when it can. */
export function targetUnavailable(name: TargetName): string | undefined {
  if (name === 'nginx' && !nginxAvailable()) return 'nginx or libnginx-mod-rtmp is not installed';
  if (name === 'onair' && !existsSync(join(ROOT, 'onair.ts'))) return 'onair.ts does not exist yet (the all-in-one entry point is not wired)';
  return undefined;
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
  return startOnair(dir, rtmpPort, httpPort, cpus, logFile);
}

async function startOnair(dir: string, rtmpPort: number, httpPort: number, cpus: string, logFile: string): Promise<RunningTarget> {
  const env = {
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
  };
  // The same node flags as `npm start` (package.json).
  const child = startChild([process.execPath, '--max-semi-space-size=8', '--import', 'tsx', join(ROOT, 'onair.ts')], { cpus, env, logFile, cwd: ROOT });
  await waitReady(child, [rtmpPort, httpPort], logFile);
  const api = new OnairApi(`http://127.0.0.1:${httpPort}`);
  await api.loginAnchor();
  const room = await api.createRoom('bench');
  const push = (await api.startLive(room.id)) || room.pushUrl;
  return {
    name: 'onair', label: 'onair', pid: child.pid, protocols: ['http-flv', 'ws-flv', 'rtmp', 'hls'],
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
      await child.stop();
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
