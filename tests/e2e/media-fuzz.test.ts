/**
 * Thousands of malformed RTMP handshakes, chunk headers and AMF0 values (including the three
 * single packets that kill node-media-server 4.4.3) against an engine in its own process, while
 * a healthy HTTP-FLV viewer watches a live ffmpeg stream: the server must not die and the viewer
 * must not stall (bytes in every 500 ms window).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { missingTool } from '../../core/testing/tools.js';
import { buildClientHello, HANDSHAKE_SIZE } from '../../media/protocols/rtmp/handshake.js';
import { fuzzCase, type FuzzCase } from './media-fuzz-cases.js';
import { waitFor } from './media-fixtures.js';
import { healthyViewer, openViewer, startFuzzServer, type FuzzServer, type Watcher } from './media-fuzz-kit.js';

const skip = missingTool('ffmpeg');
const CASES = 3000;
const CONCURRENCY = 24;
const TIME_BUDGET_MS = 30_000;
const WINDOW_MS = 500;

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
  let server: FuzzServer;
  let http = '';
  let rtmpPort = 0;
  const watchers: Watcher[] = [];

  before(async () => {
    server = await startFuzzServer();
    http = server.http;
    rtmpPort = server.rtmpPort;
  });

  after(async () => {
    for (const w of watchers) w.close();
    await server?.stop();
  });

  it('survives thousands of malformed inputs while a healthy viewer keeps playing', async () => {
    const viewer = await healthyViewer(http);
    watchers.push(viewer);

    const started = Date.now();
    const outcomes = { closed: 0, open: 0, error: 0 };
    const killers = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < CASES && Date.now() - started < TIME_BUDGET_MS && !server.exit()) {
        const c = fuzzCase(next++, 7);
        if (next <= 21) killers.add(c.name);
        outcomes[await runCase(rtmpPort, c)]++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsed = Date.now() - started;
    const ran = outcomes.closed + outcomes.open + outcomes.error;
    console.log(`fuzz: ${ran} cases in ${elapsed} ms`, outcomes, `viewer: ${viewer.bytes} bytes, longest gap ${viewer.longestGap(started)} ms`);

    assert.equal(server.exit(), undefined, `the server died: ${server.stderr()}`);
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
