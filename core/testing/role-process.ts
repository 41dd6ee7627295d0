/**
 * A role's real entry point (control/main.ts, media/main.ts, transcoder/main.ts) as a child
 * process, the way compose.yaml and infra/k8s run it: `node --import tsx <entry>` from the
 * repository root, with only PATH and the given ONAIR_* settings in its environment and its output
 * kept for the test to read (log lines, ports) and to show when it fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.js';

/** The repository root (this file is core/testing/role-process.ts). */
export const REPO_ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');

export interface RoleProcess {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Its exit code (null when a signal ended it), once it has exited. */
  exited: Promise<number | null>;
  /** True once it has exited (or a signal ended it). */
  ended(): boolean;
}

export interface SpawnRoleOptions {
  /** Its own process group (kill it and the ffmpeg it runs with killGroup). */
  detached?: boolean;
  /** Also write its stderr to this process's stderr (to read a failure in the test log). */
  echoStderr?: boolean;
}

/** Starts `node --import tsx <entry>` (a path from the repository root) with PATH and `env`. */
export function spawnRole(entry: string, env: Record<string, string>, options: SpawnRoleOptions = {}): RoleProcess {
  const out: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, entry)], {
    cwd: REPO_ROOT, detached: options.detached ?? false, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  child.stdout!.on('data', (c: Buffer) => out.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => {
    out.push(c.toString());
    if (options.echoStderr) process.stderr.write(c);
  });
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  const exited = new Promise<number | null>((resolve) => (ended() ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
  return { child, output: () => out.join(''), exited, ended };
}

/**
 * Waits until the role's output matches `ready` and returns what `ready` returns (a port read from
 * a log line, say); fails at once, with its last output, when the role exits first.
 */
export function waitForRole<T>(role: RoleProcess, what: string, ready: (output: string) => T | undefined | null | false, timeoutMs = 60_000): Promise<T> {
  return waitFor(what, () => {
    const found = ready(role.output());
    if (found) return found;
    if (role.ended()) throw new Error(`exited (${role.child.exitCode ?? role.child.signalCode}) before ${what}: ${role.output().slice(-2000)}`);
    return undefined;
  }, timeoutMs);
}

/**
 * For waitForRole: the port field `field` of the JSON log line whose message is `message` (the
 * roles log `control listening` {port}, `media service listening` {http, rtmp}, `transcoder
 * listening` {http}), once it is printed.
 */
export function loggedPort(message: string, field: string): (output: string) => number | undefined {
  return (output) => {
    for (const line of output.split('\n')) {
      if (!line.includes(message)) continue;
      const port = Number((JSON.parse(line) as Record<string, unknown>)[field]);
      if (port > 0) return port;
    }
    return undefined;
  };
}

/** SIGKILLs a detached role's whole process group (it and its ffmpeg) and waits for it to exit. */
export async function killGroup(role: RoleProcess): Promise<void> {
  process.kill(-role.child.pid!, 'SIGKILL');
  await role.exited;
}

export interface ControlAlone extends RoleProcess {
  /** http://127.0.0.1:port */
  base: string;
  port: number;
  dataDir: string;
  /** SIGTERM (when still running; SIGKILL 10 s later), wait for the exit, remove the data folder. */
  close(): Promise<void>;
}

/**
 * control/main.ts alone, as compose runs it, on embedded defaults in a data folder of its own and
 * HTTP port 0 (read from its `control listening` line); resolves once /healthz answers 200.
 */
export async function startControlAlone(env: Record<string, string> = {}, options: SpawnRoleOptions = {}): Promise<ControlAlone> {
  const dataDir = mkdtempSync(join(tmpdir(), 'onair-control-alone-'));
  const role = spawnRole('control/main.ts', { ONAIR_DATA_DIR: dataDir, ONAIR_HTTP_PORT: '0', ONAIR_LOG_LEVEL: 'info', ...env }, options);
  const close = async () => {
    if (!role.ended()) role.child.kill('SIGTERM');
    const kill = setTimeout(() => role.child.kill('SIGKILL'), 10_000);
    await role.exited;
    clearTimeout(kill);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const port = await waitForRole(role, 'control listening', loggedPort('control listening', 'port'));
    const base = `http://127.0.0.1:${port}`;
    await waitFor('control /healthz 200', async () => {
      if (role.ended()) throw new Error(`control exited (${role.child.exitCode ?? role.child.signalCode}) before /healthz answered: ${role.output().slice(-2000)}`);
      return (await fetch(`${base}/healthz`).catch(() => null))?.status === 200;
    }, 30_000, 200);
    return { ...role, base, port, dataDir, close };
  } catch (err) {
    await close();
    throw err;
  }
}
