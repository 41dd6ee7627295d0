/**
 * `npm run bench:webrtc -- --browser`: glass-to-glass latency in headless Chromium (Debian's),
 * WHEP and HTTP-FLV (mpegts.js, the room page's player) one after the other in the same run.
 *
 * The "camera" (bench/lib/clock-camera.ts) is this process: every 1/30 s it writes a 640x360 raw frame into ffmpeg (libx264
 * zerolatency, no B-frames, 2 s GOP, RTMP push to a MediaEngine in this process) with the wall
 * clock of that moment (Date.now(), low 26 bits) drawn as a row of 26 black/white blocks, and the
 * same bits inverted in the row below (a frame whose two rows disagree is not counted), noise
 * below. Chromium
 * plays web/test-player.html (the room page's player.js) and, for every frame it presents
 * (requestVideoFrameCallback), draws it on a canvas, reads the blocks and takes
 * expectedDisplayTime (its wall clock: performance.timeOrigin + the callback's time) minus the
 * clock in the picture. That is capture -> encode -> RTMP -> engine -> WHEP or FLV -> jitter
 * buffer / MSE buffer -> decode -> display; one machine, so one clock. The first 3 s of each
 * player are left out (start-up: the GOP burst).
 *
 *   npm run bench:webrtc -- --browser [--seconds 20]
 */
import { execSync } from 'node:child_process';
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import type { AddressInfo } from 'node:net';
import { CHROMIUM_PATH, launchChromium } from '../core/testing/chromium.js';
import { startEngine, TEST_TOKEN } from '../media/engine-test-kit.js';
import { createWebHandler } from '../web/serve.js';
import { percentile } from '../stress/report/percentile.js';
import { fixed, formatTable } from '../stress/report/table.js';
import { CAMERA, startClockCamera } from './lib/clock-camera.js';

const { width: W, height: H, fps: FPS, bits: BITS, block: BLOCK } = CAMERA;

/** Runs in the page: collects glass-to-glass samples for `ms` after `skipMs`, returns them. */
const MEASURE = `(async ({ bits, block, skipMs, ms }) => {
  const video = document.getElementById('video');
  const canvas = document.createElement('canvas');
  canvas.width = ${W}; canvas.height = ${H};
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const mod = 2 ** bits;
  const samples = [];
  let bad = 0, frames = 0;
  const start = performance.now();
  await new Promise((resolve) => {
    const onFrame = (now, meta) => {
      const t = performance.now() - start;
      if (t > skipMs + ms) return resolve();
      if (t >= skipMs) {
        frames++;
        ctx.drawImage(video, 0, 0, ${W}, ${H});
        const a = ctx.getImageData(0, block / 2, ${W}, 1).data;
        const b = ctx.getImageData(0, block + block / 2, ${W}, 1).data;
        let clock = 0, ok = true;
        for (let i = 0; i < bits; i++) {
          const x = (i * block + block / 2) * 4;
          const on = a[x] > 128, inv = b[x] > 128;
          if (on === inv) ok = false;
          clock = clock * 2 + (on ? 1 : 0);
        }
        if (!ok) bad++;
        else {
          const shown = Math.round(performance.timeOrigin + (meta.expectedDisplayTime ?? now));
          samples.push((((shown - clock) % mod) + mod) % mod);
        }
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  });
  return { samples, bad, frames };
})`;

interface Run { kind: string; samples: number[]; bad: number; frames: number; error?: string }

async function main(): Promise<void> {
  const arg = (name: string, def: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1]! : def;
  };
  const seconds = Math.min(120, Math.max(5, Number(arg('seconds', '20'))));
  const h = await startEngine();
  const web = createWebHandler();
  const http = createServer((req, res) => {
    if (!h.engine.handleHttp(req, res)) web(req, res);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const camera = startClockCamera(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`);

  const browser = await launchChromium();
  const version = execSync(`${CHROMIUM_PATH} --version 2>/dev/null`).toString().trim();
  const runs: Run[] = [];
  try {
    await new Promise((r) => setTimeout(r, 3000));
    for (const [kind, query] of [
      ['WHEP (WebRTC)', `whep=${encodeURIComponent(`${base}/live/room1/whep?token=${TEST_TOKEN}`)}`],
      ['HTTP-FLV (mpegts.js)', `flv=${encodeURIComponent(`${base}/live/room1.flv?token=${TEST_TOKEN}`)}`],
    ] as const) {
      const page = await browser.newPage();
      try {
        await page.goto(`${base}/test-player.html?${query}`);
        // Polled with evaluate (CDP): waitForFunction evaluates a string in the page, which its CSP refuses.
        const until = Date.now() + 30_000;
        let state = null as { kind: string | null; error: string | null } | null;
        while (Date.now() < until && !(state?.kind || state?.error)) {
          await new Promise((r) => setTimeout(r, 200));
          state = (await page.evaluate('window.playerState ? { kind: window.playerState.kind, error: window.playerState.error } : null')) as typeof state;
        }
        if (!state?.kind) throw new Error(state?.error ?? 'the player never started');
        const r = await page.evaluate(`${MEASURE}(${JSON.stringify({ bits: BITS, block: BLOCK, skipMs: 3000, ms: seconds * 1000 })})`) as Omit<Run, 'kind'>;
        runs.push({ kind, ...r });
      } catch (err) {
        runs.push({ kind, samples: [], bad: 0, frames: 0, error: (err as Error).message });
      } finally {
        await page.close();
      }
      console.log(`${kind}: done`);
    }
  } finally {
    camera.stop();
    await browser.close();
    http.closeAllConnections();
    http.close();
    await h.close();
  }
  console.log(`\nonair bench:webrtc --browser: glass-to-glass in headless Chromium (${version}), ${W}x${H} ${FPS} fps x264 zerolatency 800 kb/s, ${seconds} s per player after 3 s of start-up, ${cpus().length} cores`);
  console.log(formatTable(['player', 'frames', 'read', 'g2g p50 ms', 'g2g p95 ms', 'min', 'max', 'error'], runs.map((r) => [
    r.kind, r.frames, r.samples.length, fixed(percentile(r.samples, 50)), fixed(percentile(r.samples, 95)),
    fixed(r.samples.length ? Math.min(...r.samples) : undefined), fixed(r.samples.length ? Math.max(...r.samples) : undefined), r.error ?? '',
  ])));
  console.log(`uptime: ${execSync('uptime').toString().trim()}`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
