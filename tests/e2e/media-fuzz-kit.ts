/**
 * Shared by the media fuzz tests: the fuzz server in a child process (media-fuzz-server.ts) with an
 * ffmpeg publisher, and a healthy HTTP-FLV viewer that records when bytes arrive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { FlvParser } from '../../media/protocols/flv/flv-parser.js';
import { publishWithFfmpeg, waitFor } from './media-fixtures.js';

/** A viewer that records when bytes arrive. */
export class Watcher {
  arrivals: number[] = [];
  bytes = 0;
  tags = 0;
  parseError: Error | undefined;
  private res: IncomingMessage | undefined;
  private readonly parser = new FlvParser();

  constructor(url: string, onStatus: (status: number) => void) {
    const req = httpGet(url, (res) => {
      this.res = res;
      onStatus(res.statusCode ?? 0);
      res.on('data', (chunk: Buffer) => {
        this.arrivals.push(Date.now());
        this.bytes += chunk.length;
        try {
          this.tags += this.parser.push(chunk).length;
        } catch (err) {
          this.parseError = err as Error;
        }
      });
    });
    req.on('error', () => onStatus(0));
  }
  /** Longest gap between arrivals (and up to now) since `from`. */
  longestGap(from: number, to = Date.now()): number {
    let last = from;
    let gap = 0;
    for (const t of this.arrivals) {
      if (t < from) continue;
      gap = Math.max(gap, t - last);
      last = t;
    }
    return Math.max(gap, to - last);
  }
  close(): void {
    this.res?.destroy();
  }
}

/** Opens a viewer and resolves once its response status is known. */
export function openViewer(url: string): Promise<{ watcher: Watcher; status: number }> {
  return new Promise((resolve) => {
    const watcher: Watcher = new Watcher(url, (status) => resolve({ watcher, status }));
  });
}

/** A healthy viewer of the fuzz stream, once it receives media (the publish may still be starting). */
export function healthyViewer(http: string): Promise<Watcher> {
  return waitFor('a healthy viewer receiving media', async () => {
    const w = await openViewer(`${http}/live/4001.flv?token=good`);
    if (w.status === 200 && (await waitFor('tags', () => w.watcher.tags > 10, 5000).catch(() => false))) return w.watcher;
    w.watcher.close();
    await new Promise((r) => setTimeout(r, 300));
    return undefined;
  }, 20_000);
}

export interface FuzzServer {
  http: string;
  rtmp: string;
  rtmpPort: number;
  httpPort: number;
  pid: number;
  /** Set once the server process exited (it never should). */
  exit(): { code: number | null; signal: string | null } | undefined;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts the fuzz server (with HLS when asked) and an ffmpeg publisher of stream 4001 on it. */
export async function startFuzzServer(options: { hls?: boolean } = {}): Promise<FuzzServer> {
  const args = ['--import', 'tsx', new URL('./media-fuzz-server.ts', import.meta.url).pathname, ...(options.hls ? ['hls'] : [])];
  const server: ChildProcess = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exit: { code: number | null; signal: string | null } | undefined;
  let err = '';
  server.on('exit', (code, signal) => (exit = { code, signal }));
  server.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    server.once('exit', () => reject(new Error(`fuzz server exited: ${err}`)));
  });
  const ports = JSON.parse(line) as { http: string; rtmp: string };
  const publisher = publishWithFfmpeg(`${ports.rtmp}/sk_4001`, { seconds: 300 });
  return {
    http: ports.http,
    rtmp: ports.rtmp,
    rtmpPort: Number(new URL(ports.rtmp).port),
    httpPort: Number(new URL(ports.http).port),
    pid: server.pid!,
    exit: () => exit,
    stderr: () => err,
    async stop() {
      publisher.kill('SIGKILL');
      if (exit) return;
      server.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          server.kill('SIGKILL');
          r(undefined);
        }, 5000);
        server.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    },
  };
}
