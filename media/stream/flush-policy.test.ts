import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUSY_SHARE, FlushPolicy, FULL_WRITE_BYTES, tickStart } from './flush-policy.js';

/** A policy that has measured `costMs` per viewer over many ticks (bytes too alike to tell apart). */
function measured(costMs: number, ceilingMs = 100): FlushPolicy {
  const p = new FlushPolicy(ceilingMs);
  for (let i = 0; i < 100; i++) p.recordTick(1000, 1000 * 4000, 1000 * costMs);
  return p;
}

/** Ticks of `n` viewers whose bytes per viewer vary (audio-only ticks, keyframe ticks), costing `perViewer` + `perByte`. */
function ticks(p: FlushPolicy, n: number, perViewer: number, perByte: number, count = 60): void {
  const sizes = [400, 4000, 9000, 27_000, 90_000];
  for (let i = 0; i < count; i++) {
    const bytes = n * sizes[i % sizes.length]!;
    p.recordTick(n, bytes, n * perViewer + bytes * perByte);
  }
}

/** Right after a tick, one small packet (an audio frame) per viewer queued. */
const afterTick = (viewers: number) => ({ dirtyViewers: viewers, queuedBytes: viewers * 400, sinceLastTickMs: 0 });

describe(FlushPolicy.name, () => {
  it('writes a single viewer at once, even right after a tick', () => {
    assert.equal(measured(0.01).waitMs(afterTick(1)), 0);
  });

  it('waits longer as the audience grows, and never past the ceiling (ONAIR_FLUSH_INTERVAL)', () => {
    const p = measured(0.005);
    const waits = [1, 40, 400, 1600, 4000, 10_000].map((n) => p.waitMs(afterTick(n)));
    for (let i = 1; i < waits.length; i++) assert.ok(waits[i]! >= waits[i - 1]!, `non-decreasing: ${waits.join(', ')}`);
    assert.equal(waits[0], 0, 'one viewer: now');
    assert.ok(waits[1]! < 5, `40 viewers: a few ms (${waits[1]})`);
    assert.ok(waits[2]! > 20 && waits[2]! < 60, `400 viewers: ~38 ms (${waits[2]})`);
    assert.ok(waits[5]! > 99 && waits[5]! <= 100, `thousands: the ceiling, as before (${waits[5]})`);
  });

  it('keeps writing ticks to its share of the time: the wait is the work times (1 - share) / share', () => {
    const p = measured(0.01);
    const n = 200; // 2 ms of work
    const expected = (2 * (1 - BUSY_SHARE)) / BUSY_SHARE;
    assert.ok(Math.abs(p.waitMs(afterTick(n)) - expected) < 0.01 * expected);
  });

  it('counts the wait from the end of the last tick: data after a quiet spell goes out at once', () => {
    const p = measured(0.01);
    const full = p.waitMs(afterTick(400));
    assert.ok(full > 5);
    assert.ok(Math.abs(p.waitMs({ ...afterTick(400), sinceLastTickMs: 5 }) - (full - 5)) < 1e-9);
    assert.equal(p.waitMs({ ...afterTick(400), sinceLastTickMs: full + 1 }), 0);
    assert.equal(p.waitMs({ ...afterTick(400), sinceLastTickMs: Infinity }), 0, 'before any tick');
  });

  it('waits less when the viewers already hold large writes (a keyframe), not at all at a full write', () => {
    const p = measured(0.01);
    const small = p.waitMs(afterTick(400));
    const half = p.waitMs({ dirtyViewers: 400, queuedBytes: 400 * (FULL_WRITE_BYTES / 2), sinceLastTickMs: 0 });
    assert.ok(Math.abs(half - small / 2) < small * 0.02, `${half} ~ ${small} / 2`);
    assert.equal(p.waitMs({ dirtyViewers: 400, queuedBytes: 400 * FULL_WRITE_BYTES * 2, sinceLastTickMs: 0 }), 0);
  });

  it('follows the measured cost: a slower or busier process coalesces more, a faster one less', () => {
    const p = new FlushPolicy(100);
    const before = p.waitMs(afterTick(100));
    for (let i = 0; i < 60; i++) p.recordTick(100, 100 * 4000, 100 * 0.03); // writes got 3x dearer (load)
    const slow = p.waitMs(afterTick(100));
    assert.ok(slow > 2.5 * before, `${slow} > 2.5 x ${before}`);
    for (let i = 0; i < 60; i++) p.recordTick(100, 100 * 4000, 100 * 0.002);
    assert.ok(p.waitMs(afterTick(100)) < before / 2);
  });

  it('counts only the fixed cost of writes: bytes cost the same however they are grouped, so they do not make it wait', () => {
    const fixedOnly = new FlushPolicy(100);
    ticks(fixedOnly, 400, 0.005, 0);
    const withBytes = new FlushPolicy(100);
    ticks(withBytes, 400, 0.005, 0.0000005); // 0.5 ns per byte: a 90 KB keyframe costs 9x a write's fixed cost
    assert.ok(Math.abs(withBytes.costPerViewer - 0.005) < 0.0005, `fixed cost per viewer ${withBytes.costPerViewer}`);
    assert.ok(Math.abs(withBytes.costPerByte - 0.0000005) < 0.00000005, `cost per byte ${withBytes.costPerByte}`);
    const a = fixedOnly.waitMs(afterTick(400));
    const b = withBytes.waitMs(afterTick(400));
    assert.ok(Math.abs(a - b) < 0.05 * a, `same wait with or without byte costs (${a}, ${b})`);
  });

  it('counts all of the work as fixed cost when the ticks cannot tell bytes from writes apart', () => {
    const p = new FlushPolicy(100);
    for (let i = 0; i < 60; i++) p.recordTick(400, 400 * 9000, 400 * 0.008);
    assert.ok(Math.abs(p.costPerViewer - 0.008) < 1e-9);
    assert.equal(p.costPerByte, 0);
  });

  it('one odd tick moves the estimate only partly, and empty or broken measurements are ignored', () => {
    const p = new FlushPolicy(100);
    ticks(p, 1000, 0.01, 0);
    p.recordTick(1000, 1000 * 9000, 1000 * 1); // a tick preempted by something else: 100x the cost
    assert.ok(p.costPerViewer < 0.3, `${p.costPerViewer}`);
    const c = p.costPerViewer;
    p.recordTick(0, 0, 5);
    p.recordTick(10, 100, Number.NaN);
    p.recordTick(10, Number.NaN, 1);
    assert.equal(p.costPerViewer, c);
  });

  it('waits for nobody when nobody is waiting', () => {
    assert.equal(measured(0.01).waitMs({ dirtyViewers: 0, queuedBytes: 0, sinceLastTickMs: 0 }), 0);
  });
});

describe(tickStart.name, () => {
  it('starts the ticks at places spread evenly over the viewers, so the last to join is not the last written every tick', () => {
    const n = 400;
    const ticks = 2000;
    const quarters = [0, 0, 0, 0];
    let sum = 0;
    for (let t = 0; t < ticks; t++) {
      const s = tickStart(t, n);
      assert.ok(Number.isInteger(s) && s >= 0 && s < n, `start ${s}`);
      // The place of the viewer that joined last (index n - 1) when the writes go from s round to s - 1.
      const place = (n - 1 - s + n) % n;
      sum += place;
      quarters[Math.floor((place * 4) / n)]!++;
    }
    assert.ok(Math.abs(sum / ticks - (n - 1) / 2) < n * 0.02, `mean place ${sum / ticks} ~ ${(n - 1) / 2}`);
    for (const q of quarters) assert.ok(Math.abs(q - ticks / 4) < ticks * 0.02, `each quarter of the order about as often: ${quarters.join(', ')}`);
  });

  it('does not start two successive ticks close together', () => {
    const n = 1000;
    for (let t = 1; t < 200; t++) {
      const d = Math.abs(tickStart(t, n) - tickStart(t - 1, n));
      assert.ok(Math.min(d, n - d) > n / 5, `ticks ${t - 1} and ${t}: ${tickStart(t - 1, n)}, ${tickStart(t, n)}`);
    }
  });

  it('starts at the first viewer when there is no choice, or the input makes no sense', () => {
    assert.equal(tickStart(7, 1), 0);
    assert.equal(tickStart(7, 0), 0);
    assert.equal(tickStart(Number.NaN, 10), 0);
    assert.equal(tickStart(-1, 10), 0);
    assert.equal(tickStart(Infinity, 10), 0);
  });
});
