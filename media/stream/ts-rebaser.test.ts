import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DISCONTINUITY_STEP_MS, TimestampRebaser, type Discontinuity } from './ts-rebaser.js';

const A = 8;
const V = 9;

/** Feeds [type, ts] pairs; answers the outgoing stamps and the discontinuities reported. */
function run(frames: [number, number][]): { out: number[]; seen: Discontinuity[] } {
  const r = new TimestampRebaser();
  const seen: Discontinuity[] = [];
  r.onDiscontinuity = (d) => seen.push(d);
  return { out: frames.map(([t, ts]) => r.media(t, ts)), seen };
}

/** Interleaved 30 fps video and ~43 fps audio from `from` for `ms`. */
function av(from: number, ms: number): [number, number][] {
  const f: [number, number][] = [];
  for (let t = 0; t < ms; t += 1) {
    if (t % 33 === 0) f.push([V, (from + t) >>> 0]);
    if (t % 23 === 0) f.push([A, (from + t) >>> 0]);
  }
  return f;
}

const nonDecreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);

describe('TimestampRebaser', () => {
  it('starts the outgoing timeline at 0 and passes a steady stream through unchanged', () => {
    const { out, seen } = run(av(5000, 3000));
    assert.equal(out[0], 0);
    assert.deepEqual(out, av(5000, 3000).map(([, ts]) => ts - 5000));
    assert.equal(seen.length, 0);
  });

  it('continues after a reset to 0 one step after the newest stamp, with one offset for audio and video', () => {
    const frames = [...av(0, 60_000), ...av(0, 2000)];
    const { out, seen } = run(frames);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.kind, 'backward');
    assert.ok(nonDecreasing(out), 'monotonic');
    const firstOfSecond = av(0, 60_000).length;
    const last = Math.max(...out.slice(0, firstOfSecond));
    assert.equal(out[firstOfSecond], last + DISCONTINUITY_STEP_MS);
    // A/V relation kept: every second-half frame is its own stamp plus the same offset.
    const offset = out[firstOfSecond]! - frames[firstOfSecond]![1];
    for (let i = firstOfSecond; i < frames.length; i++) assert.equal(out[i]! - frames[i]![1], offset);
  });

  it('treats a forward jump past 10 s as a discontinuity, but not a 5 s gap', () => {
    const jump = run([...av(0, 1000), ...av(1_000_000, 1000)]);
    assert.equal(jump.seen.length, 1);
    assert.equal(jump.seen[0]!.kind, 'forward');
    assert.ok(Math.max(...jump.out) < 2100, `continuous: ${Math.max(...jump.out)}`);
    const gap = run([...av(0, 1000), ...av(6000, 1000)]);
    assert.equal(gap.seen.length, 0);
    assert.equal(Math.max(...gap.out), Math.max(...av(6000, 1000).map(([, ts]) => ts)));
  });

  it('rebases a broken encoder jumping by 2^31 (either way)', () => {
    const up = run([...av(1000, 1000), ...av(1000 + 2 ** 31, 1000)]);
    assert.equal(up.seen.length, 1);
    assert.ok(nonDecreasing(up.out) && Math.max(...up.out) < 2100);
    const down = run([...av(2 ** 31 + 5000, 1000), ...av(5000, 1000)]);
    assert.equal(down.seen.length, 1);
    assert.ok(nonDecreasing(down.out) && Math.max(...down.out) < 2100);
  });

  it('carries a 32-bit wrap on with its real step', () => {
    const frames = av(2 ** 32 - 500, 2000); // wraps to 0 half a second in
    const { out, seen } = run(frames);
    assert.deepEqual(seen.map((d) => d.kind), ['wrap']);
    assert.deepEqual(out, frames.map((_, i) => frames.slice(0, i + 1).length && (frames[i]![1] - frames[0]![1] + 2 ** 32) % 2 ** 32));
    assert.ok(nonDecreasing(out));
  });

  it('keeps jitter, interleave slightly out of order and a lagging audio track as sent', () => {
    // Video 200 ms ahead of audio, both jittering by a few ms, audio sent in bursts behind video.
    const frames: [number, number][] = [];
    for (let i = 0; i < 300; i++) {
      frames.push([V, 200 + i * 33 + (i % 3)]);
      if (i % 4 === 3) for (let k = 0; k < 4; k++) frames.push([A, (i - 3 + k) * 33 + (k % 2)]);
    }
    const { out, seen } = run(frames);
    assert.equal(seen.length, 0);
    // The publish starts at its first frame (video at 200): audio stamped before it is placed at 0.
    assert.deepEqual(out, frames.map(([, ts]) => Math.max(0, ts - 200)));
  });

  it('leaves B-frame streams alone (the RTMP stamp is the decode time; composition offsets are in the body)', () => {
    // Decode times steady, plus an encoder that stamps presentation order (steps back by 2 frames).
    const pts = [0, 100, 33, 66, 200, 133, 166, 300, 233, 266];
    const { out, seen } = run(pts.map((ts) => [V, ts]));
    assert.equal(seen.length, 0);
    assert.deepEqual(out, pts);
  });

  it('stamps headers with the newest outgoing time, 0 before media', () => {
    const r = new TimestampRebaser();
    assert.equal(r.header(), 0);
    r.media(V, 90_000);
    r.media(V, 90_040);
    assert.equal(r.header(), 40);
  });
});
