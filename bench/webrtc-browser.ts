/**
 * `npm run bench:webrtc -- --browser`: glass-to-glass latency in headless Chromium (Debian's),
 * WHEP and HTTP-FLV (mpegts.js, the room page's player) one after the other in the same run.
 *
 * The "camera" is this process: every 1/30 s it writes a 640x360 raw frame into ffmpeg (libx264
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
import { execSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { randomFillSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { CHROMIUM_PATH, launchChromium } from '../core/testing/chromium.js';
import { startEngine, TEST_TOKEN } from '../media/engine-test-kit.js';
import { createWebHandler } from '../web/serve.js';
import { percentile } from '../stress/report/percentile.js';
import { fixed, formatTable } from '../stress/report/table.js';

const W = 640;
const H = 360;
const FPS = 30;
const BITS = 26;
const BLOCK = 24;

/**
 * A 4:2:0 frame with `clock`'s low BITS bits as blocks in rows 0-23 and inverted in rows 24-47;
 * below them noise, new every frame, so the encoder has a camera's work to do and the frames fill
 * the bit rate (a flat picture makes tiny frames that encode, travel and decode unrealistically fast).
 */
function frame(clock: number): Buffer {
  const y = Buffer.alloc(W * H, 128);
  randomFillSync(y, 2 * BLOCK * W);
  for (let b = 0; b < BITS; b++) {
    const bit = Math.floor(clock / 2 ** (BITS - 1 - b)) % 2;
    for (let row = 0; row < 2 * BLOCK; row++) {
      const on = row < BLOCK ? bit : 1 - bit;
      y.fill(on ? 235 : 16, row * W + b * BLOCK, row * W + (b + 1) * BLOCK);
    }
  }
  return Buffer.concat([y, Buffer.alloc((W * H) / 2, 128)]);
}

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

  const ffmpeg = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-framerate', String(FPS), '-i', 'pipe:0',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-bf', '0', '-g', String(FPS * 2), '-b:v', '800k', '-pix_fmt', 'yuv420p',
    '-flush_packets', '1', '-f', 'flv', `rtmp://127.0.0.1:${h.rtmpPort}/live/X`,
  ], { stdio: ['pipe', 'ignore', 'inherit'] });
  ffmpeg.stdin.on('error', () => {});
  const t0 = Date.now();
  let n = 0;
  const camera = setInterval(() => {
    // Frames on the 30 fps grid of wall time; a late tick writes the frames it owes, each with now.
    while (n <= ((Date.now() - t0) * FPS) / 1000) {
      ffmpeg.stdin.write(frame(Date.now() % 2 ** BITS));
      n++;
    }
  }, 5);

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
    clearInterval(camera);
    ffmpeg.stdin.end();
    ffmpeg.kill('SIGKILL');
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
