import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { waitFor } from './wait-for.js';

/**
 * A private redis-server for tests that take Redis away (outage, freeze, restart): never the shared
 * server the other suites use. It listens on 127.0.0.1 on a port picked free by binding port 0 first,
 * keeps nothing on disk, and restarts on the same port so clients can reconnect by themselves.
 */
export interface TestRedisServer {
  port: number;
  url: string;
  /** SIGKILL: the port closes, connections reset. */
  kill(): Promise<void>;
  /** SIGSTOP: the process stays, connections stay open and nothing answers (a hung server). */
  freeze(): void;
  thaw(): void;
  /** Starts it again on the same port (empty: nothing was saved). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const accepts = (port: number) => new Promise<boolean>((resolve) => {
  const socket = connect(port, '127.0.0.1');
  socket.once('connect', () => { socket.destroy(); resolve(true); });
  socket.once('error', () => resolve(false));
});

export async function startRedisServer(): Promise<TestRedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    child = proc;
    await waitFor(`redis-server on port ${port}`, () => accepts(port), 10_000);
  };
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    restart: start,
    stop: kill,
  };
}
