/** Child processes for the benchmarks: spawn (optionally pinned with taskset), wait for a port, stop. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import net from 'node:net';

export function hasTaskset(): boolean {
  const r = spawnSync('taskset', ['-V'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/** Pins every thread of this process to `cpus` (e.g. '1'); returns false when that is not possible. */
export function pinSelf(cpus: string): boolean {
  if (!hasTaskset()) return false;
  return spawnSync('taskset', ['-a', '-cp', cpus, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

export function startChild(argv: string[], opts: { cpus?: string; env?: NodeJS.ProcessEnv; logFile: string; cwd?: string }): Child {
  const [cmd, ...args] = opts.cpus && hasTaskset() ? ['taskset', '-c', opts.cpus, ...argv] : argv;
  const log = createWriteStream(opts.logFile);
  const proc = spawn(cmd!, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.pipe(log);
  proc.stderr!.pipe(log);
  if (proc.pid === undefined) throw new Error(`could not start ${argv[0]}`);
  return {
    proc,
    pid: proc.pid,
    stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
        proc.once('close', () => {
          clearTimeout(kill);
          resolve();
        });
        proc.kill('SIGTERM');
      });
    },
  };
}

export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * Sets the nice value of every thread of this process (children started afterwards inherit it).
 * On a machine shared with other work, a negative value (root only) keeps the servers and the
 * load from being descheduled by unrelated processes. Returns false when not permitted.
 */
export function setSelfPriority(nice: number): boolean {
  try {
    for (const tid of readdirSync('/proc/self/task')) setPriority(Number(tid), nice);
    return true;
  } catch {
    return false;
  }
}
