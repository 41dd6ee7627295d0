// The stress tool's moving parts against a real server (node-media-server 4.4.3, the benchmark
// peer): the probe and ffmpeg publishers, and HTTP-FLV, WS-FLV and RTMP viewers that must see a
// keyframe, bytes and (on the probe's stream) the SEI clock. Functional checks only, no timing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingTool } from '../core/testing/tools.js';
import { freePort, startChild, waitForPort, type Child } from '../bench/lib/child.js';
import { ensureSample } from './publish/sample.js';
import { startFfmpegPublisher, type Publisher } from './publish/ffmpeg-publisher.js';
import { startProbePublisher } from './publish/probe-publisher.js';
import { ViewerPool } from './viewers/viewer-pool.js';
import type { ViewerState } from './viewers/viewer-state.js';

const skip = missingTool('ffmpeg');
const SAMPLE = { videoKbps: 300, audioKbps: 64, width: 320, height: 240, fps: 15, gopSeconds: 1, seconds: 3 };

describe('stress tool against node-media-server', { skip }, () => {
  let dir: string;
  let nms: Child;
  let rtmpPort: number;
  let httpPort: number;
  const publishers: Publisher[] = [];
  const pool = new ViewerPool({ stallMs: 1000, settleMs: 0 });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onair-stress-test-'));
    rtmpPort = await freePort();
    httpPort = await freePort();
    nms = startChild([process.execPath, join(import.meta.dirname, '../bench/lib/nms-runner.cjs'), String(rtmpPort), String(httpPort), dir], { logFile: join(dir, 'nms.log'), cwd: dir });
    await waitForPort(rtmpPort, 15_000);
    await waitForPort(httpPort, 15_000);
  });

  after(async () => {
    pool.closeAll();
    await Promise.all(publishers.map((p) => p.stop()));
    await nms?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function until(check: () => boolean, ms: number): Promise<void> {
    for (const end = Date.now() + ms; Date.now() < end && !check(); ) await new Promise((r) => setTimeout(r, 100));
  }

  it('publishes with the probe and ffmpeg, and every viewer protocol plays', async () => {
    const sample = await ensureSample(SAMPLE, join(dir, 'cache'));
    publishers.push(startProbePublisher(sample, `rtmp://127.0.0.1:${rtmpPort}/live/probe`, 'probe'));
    publishers.push(startFfmpegPublisher(sample, `rtmp://127.0.0.1:${rtmpPort}/live/plain`, 'ffmpeg'));
    await new Promise((r) => setTimeout(r, 1500));
    const viewers: [string, ViewerState][] = [
      ['http-flv probe', pool.startOne({ url: new URL(`http://127.0.0.1:${httpPort}/live/probe.flv`), protocol: 'http-flv' })],
      ['ws-flv probe', pool.startOne({ url: new URL(`ws://127.0.0.1:${httpPort}/live/probe.flv`), protocol: 'ws-flv' })],
      ['rtmp probe', pool.startOne({ url: new URL(`rtmp://127.0.0.1:${rtmpPort}/live/probe`), protocol: 'rtmp' })],
      ['http-flv ffmpeg', pool.startOne({ url: new URL(`http://127.0.0.1:${httpPort}/live/plain.flv`), protocol: 'http-flv' })],
    ];
    await until(() => viewers.every(([, v]) => v.firstFrameAt !== undefined && v.bytes > 10_000) && pool.latency.seen >= 9, 20_000);
    for (const [name, v] of viewers) {
      assert.equal(v.error, undefined, `${name}: ${v.error}`);
      assert.ok(v.firstByteAt !== undefined && v.firstFrameAt !== undefined, `${name} saw a keyframe`);
      assert.ok(v.bytes > 10_000, `${name} received media (${v.bytes} bytes)`);
    }
    assert.ok(pool.latency.seen >= 9, `the probe's clock reached the viewers (${pool.latency.seen} samples)`);
    assert.ok(pool.latency.values.every((ms) => ms >= 0 && ms < 60_000), 'clock samples are plausible');
    for (const p of publishers) assert.equal(p.error, undefined, p.label);
  });

  it('records an HTTP refusal and a refused connection as error kinds', async () => {
    const missing = pool.startOne({ url: new URL(`http://127.0.0.1:${httpPort}/nope`), protocol: 'http-flv' });
    const closedPort = await freePort();
    const refused = pool.startOne({ url: new URL(`http://127.0.0.1:${closedPort}/live/x.flv`), protocol: 'http-flv' });
    await until(() => missing.error !== undefined && refused.error !== undefined, 10_000);
    assert.match(missing.error ?? '', /^http-4\d\d$/);
    assert.equal(refused.error, 'ECONNREFUSED');
  });
});
