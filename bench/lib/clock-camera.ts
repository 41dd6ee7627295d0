/**
 * The Chromium benchmarks' camera: every 1/30 s this process writes a 640x360 raw frame into
 * ffmpeg (libx264 veryfast zerolatency, no B-frames, 2 s GOP, 800 kb/s, RTMP push) with the wall
 * clock of that moment (Date.now(), low 26 bits) drawn as a row of 26 black/white blocks, the same
 * bits inverted in the row below (a frame whose two rows disagree is not counted), noise below (a
 * camera's worth of bits: a flat picture makes tiny frames that encode, travel and decode
 * unrealistically fast). A page reads the clock back with CLOCK_READER (same machine, one clock).
 */
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { hasTaskset } from './child.js';

export const CAMERA = { width: 640, height: 360, fps: 30, bits: 26, block: 24, kbps: 800 } as const;
const { width: W, height: H, bits: BITS, block: BLOCK } = CAMERA;

/** A 4:2:0 frame with `clock`'s low BITS bits as blocks in rows 0-23 and inverted in rows 24-47, noise below. */
export function clockFrame(clock: number): Buffer {
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

/**
 * Page-side source (a function expression) that reads the clock from the current frame of `video`
 * into `ctx` (a W x H canvas 2d context): the clock, or -1 when the two rows disagree.
 */
export const CLOCK_READER = `((video, ctx) => {
  ctx.drawImage(video, 0, 0, ${W}, ${H});
  const a = ctx.getImageData(0, ${BLOCK / 2}, ${W}, 1).data;
  const b = ctx.getImageData(0, ${BLOCK + BLOCK / 2}, ${W}, 1).data;
  let clock = 0;
  for (let i = 0; i < ${BITS}; i++) {
    const x = (i * ${BLOCK} + ${BLOCK / 2}) * 4;
    const on = a[x] > 128, inv = b[x] > 128;
    if (on === inv) return -1;
    clock = clock * 2 + (on ? 1 : 0);
  }
  return clock;
})`;

/** Glass-to-glass ms from a display time (wall clock ms) and the clock read from the frame. */
export const CLOCK_MOD = 2 ** BITS;

/** Starts the camera pushing to `rtmpUrl` (ffmpeg pinned to `pinCpu` when taskset exists); stop() ends it. */
export function startClockCamera(rtmpUrl: string, pinCpu?: string): { stop(): void } {
  const argv = [
    'ffmpeg', '-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-framerate', String(CAMERA.fps), '-i', 'pipe:0',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-bf', '0', '-g', String(CAMERA.fps * 2), '-b:v', `${CAMERA.kbps}k`, '-pix_fmt', 'yuv420p',
    '-flush_packets', '1', '-f', 'flv', rtmpUrl,
  ];
  const [cmd, ...args] = pinCpu && hasTaskset() ? ['taskset', '-c', pinCpu, ...argv] : argv;
  const ffmpeg = spawn(cmd!, args, { stdio: ['pipe', 'ignore', 'inherit'] });
  ffmpeg.stdin!.on('error', () => {});
  const t0 = Date.now();
  let n = 0;
  const timer = setInterval(() => {
    // Frames on the 30 fps grid of wall time; a late tick writes the frames it owes, each with now.
    while (n <= ((Date.now() - t0) * CAMERA.fps) / 1000) {
      ffmpeg.stdin!.write(clockFrame(Date.now() % CLOCK_MOD));
      n++;
    }
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      ffmpeg.stdin!.end();
      ffmpeg.kill('SIGKILL');
    },
  };
}
