/**
 * Thousands of malformed RTMP handshakes, chunk headers and AMF0 values (including the three
 * single packets that kill node-media-server 4.4.3) against an engine in its own process, while
 * a healthy HTTP-FLV viewer watches a live ffmpeg stream: the server must not die and the viewer
 * must not stall (bytes in every 500 ms window).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { missingTool } from '../../core/testing/tools.js';
import { buildClientHello, HANDSHAKE_SIZE } from '../../media/protocols/rtmp/handshake.js';
import { FlvParser } from '../../media/protocols/flv/flv-parser.js';
import { fuzzCase, type FuzzCase } from './media-fuzz-cases.js';
import { publishWithFfmpeg, waitFor } from './media-fixtures.js';

const skip = missingTool('ffmpeg');
const CASES = 3000;
const CONCURRENCY = 24;
const TIME_BUDGET_MS = 30_000;
const WINDOW_MS = 500;

/** A viewer that records when bytes arrive. */
class Watcher {
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
function openViewer(url: string): Promise<{ watcher: Watcher; status: number }> {
  return new Promise((resolve) => {
    const watcher: Watcher = new Watcher(url, (status) => resolve({ watcher, status }));
  });
}

/** Runs one case: optional handshake, then the writes; resolves when the server closes or 300 ms pass. */
function runCase(rtmpPort: number, c: FuzzCase): Promise<'closed' | 'open' | 'error'> {
  return new Promise((resolve) => {
    const socket: Socket = connect(rtmpPort, '127.0.0.1');
    let received = Buffer.alloc(0);
    let sentBody = false;
    let settled = false;
    const finish = (outcome: 'closed' | 'open' | 'error') => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      socket.destroy();
      resolve(outcome);
    };
    const deadline = setTimeout(() => finish('open'), 2500);
    const sendBody = () => {
      sentBody = true;
      for (const w of c.writes) socket.write(w);
      setTimeout(() => finish('open'), 300);
    };
    socket.on('connect', () => {
      if (c.handshake === 'none') return sendBody();
      socket.write(buildClientHello(c.handshake === 'digest'));
    });
    socket.on('data', (chunk: Buffer) => {
      if (sentBody || c.handshake === 'none') return;
      received = Buffer.concat([received, chunk]);
      if (received.length >= 1 + 2 * HANDSHAKE_SIZE) {
        socket.write(received.subarray(1, 1 + HANDSHAKE_SIZE)); // C2 = echo of S1
        sendBody();
      }
    });
    socket.on('close', () => finish('closed'));
    socket.on('error', () => finish('error'));
  });
}

describe('RTMP fuzz under a live stream', { skip }, () => {
  let server: ChildProcess;
  let serverExit: { code: number | null; signal: string | null } | undefined;
  let serverErr = '';
  let publisher: ChildProcess;
  let http = '';
  let rtmpPort = 0;
  const watchers: Watcher[] = [];

  before(async () => {
    server = spawn(process.execPath, ['--import', 'tsx', new URL('./media-fuzz-server.ts', import.meta.url).pathname], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.on('exit', (code, signal) => (serverExit = { code, signal }));
    server.stderr!.on('data', (d: Buffer) => (serverErr = (serverErr + d.toString()).slice(-4000)));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      server.once('exit', () => reject(new Error(`fuzz server exited: ${serverErr}`)));
    });
    const ports = JSON.parse(line) as { http: string; rtmp: string };
    http = ports.http;
    rtmpPort = Number(new URL(ports.rtmp).port);
    publisher = publishWithFfmpeg(`${ports.rtmp}/sk_4001`, { seconds: 300 });
  });

  after(async () => {
    for (const w of watchers) w.close();
    publisher?.kill('SIGKILL');
    if (server && !serverExit) {
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
    }
  });

  it('survives thousands of malformed inputs while a healthy viewer keeps playing', async () => {
    // The viewer may ask before the publish is live (404): retry until one plays.
    const viewer = await waitFor('a healthy viewer receiving media', async () => {
      const w = await openViewer(`${http}/live/4001.flv?token=good`);
      if (w.status === 200 && (await waitFor('tags', () => w.watcher.tags > 10, 5000).catch(() => false))) return w.watcher;
      w.watcher.close();
      await new Promise((r) => setTimeout(r, 300));
      return undefined;
    }, 20_000);
    watchers.push(viewer);

    const started = Date.now();
    const outcomes = { closed: 0, open: 0, error: 0 };
    const killers = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < CASES && Date.now() - started < TIME_BUDGET_MS && !serverExit) {
        const c = fuzzCase(next++, 7);
        if (next <= 21) killers.add(c.name);
        outcomes[await runCase(rtmpPort, c)]++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsed = Date.now() - started;
    const ran = outcomes.closed + outcomes.open + outcomes.error;
    console.log(`fuzz: ${ran} cases in ${elapsed} ms`, outcomes, `viewer: ${viewer.bytes} bytes, longest gap ${viewer.longestGap(started)} ms`);

    assert.equal(serverExit, undefined, `the server died: ${serverErr}`);
    assert.ok(ran >= 1000, `only ${ran} cases ran in the time budget`);
    for (const name of ['connect without tcUrl', 'AMF0 unknown type marker 0x0F', 'publish with a numeric stream name']) assert.ok(killers.has(name), name);
    assert.equal(viewer.parseError, undefined, 'the healthy viewer got a valid FLV stream');
    const gap = viewer.longestGap(started);
    assert.ok(gap < WINDOW_MS, `the healthy viewer stalled for ${gap} ms`);

    // Still serving: a new viewer plays, and the server's memory is bounded.
    const fresh = await openViewer(`${http}/live/4001.flv?token=good`);
    watchers.push(fresh.watcher);
    assert.equal(fresh.status, 200);
    await waitFor('a new viewer to get media', () => fresh.watcher.tags > 5, 10_000);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    console.log(`fuzz server RSS ${rss.toFixed(0)} MB`);
    assert.ok(rss < 400, `server RSS ${rss} MB`);
  });
});
