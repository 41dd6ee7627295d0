import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { alignNow, BUSY_SHARE, FlushPolicy, FrameAlign, FULL_WRITE_BYTES, MEDIAN_BOOST_MAX, MEDIAN_RATE, tickStart } from './flush-policy.js';

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

  it('keeps a room far past its budget at the ceiling when its writes are partly full: a long tick does not bring the next one sooner', () => {
    // 4,800 viewers at 15 us a write: the budget would space ticks >1 s apart, so the ceiling holds them.
    // A tick that took 80 ms leaves every viewer ~21 KB (80 ms of a 2.15 Mb/s stream) when the next is
    // decided; shortening the ceiling by that share made a busier core write more often (more fixed costs).
    const p = measured(0.015);
    const n = 4800;
    assert.equal(p.waitMs({ dirtyViewers: n, queuedBytes: n * 400, sinceLastTickMs: 0 }), 100);
    assert.equal(p.waitMs({ dirtyViewers: n, queuedBytes: n * 21_500, sinceLastTickMs: 0 }), 100);
    assert.equal(p.waitMs({ dirtyViewers: n, queuedBytes: n * (FULL_WRITE_BYTES / 2), sinceLastTickMs: 0 }), 100);
    // Past the budget by less than the writes' fullness: shorter, as for small rooms.
    assert.ok(p.waitMs({ dirtyViewers: n, queuedBytes: n * FULL_WRITE_BYTES * 0.99, sinceLastTickMs: 0 }) < 20);
    assert.equal(p.waitMs({ dirtyViewers: n, queuedBytes: n * FULL_WRITE_BYTES, sinceLastTickMs: 0 }), 0, 'a keyframe: now');
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

/** 30 fps. */
const FRAME = 1000 / 30;

describe('aligning ticks to video frames', () => {
  it('gives a tick near its due time no window without a frame interval (audio only): the wait is as before', () => {
    const p = measured(0.008);
    const w = { dirtyViewers: 400, queuedBytes: 400 * 400, sinceLastTickMs: 3 };
    assert.deepEqual(p.plan(w), { waitMs: p.waitMs(w), earlyMs: 0, lateMs: 0 });
    assert.deepEqual(p.plan(w, 0, 0), p.plan(w));
    assert.deepEqual(p.plan(w, 0, Number.NaN), p.plan(w));
  });

  it('lets a tick move half a frame interval either way, and never past the ceiling', () => {
    const p = measured(0.008);
    const at400 = p.plan(afterTick(400), 0, FRAME);
    assert.ok(at400.waitMs > 40 && at400.waitMs < 80, `400 viewers wait ~61 ms (${at400.waitMs})`);
    assert.ok(Math.abs(at400.earlyMs - FRAME / 2) < 1e-9 && Math.abs(at400.lateMs - FRAME / 2) < 1e-9, `half a frame either way (${at400.earlyMs}, ${at400.lateMs})`);
    // Thousands: at the ceiling no later; earlier by half a frame (no later tick can make up for it).
    const at4000 = p.plan(afterTick(4000), 0, FRAME);
    assert.ok(at4000.waitMs + at4000.lateMs <= 100 + 1e-9 && at4000.lateMs < 1, `at the ceiling: no later (${at4000.waitMs} + ${at4000.lateMs})`);
    assert.ok(Math.abs(at4000.earlyMs - FRAME / 2) < 1e-9, `${at4000.earlyMs}`);
    // Near the ceiling the late side shrinks so that due + late stays within it.
    for (const n of [500, 550, 600, 640, 660]) {
      const plan = p.plan(afterTick(n), 0, FRAME);
      assert.ok(plan.waitMs + plan.lateMs <= 100 + 1e-9, `${n} viewers: ${plan.waitMs} + ${plan.lateMs} within the ceiling`);
    }
    // A small room is written at once: nothing to align.
    assert.deepEqual(p.plan(afterTick(1), 5, FRAME), { waitMs: 0, earlyMs: 0, lateMs: 0 });
  });

  it('makes up for a tick moved early with a later one, and the other way round, within the ceiling', () => {
    const p = measured(0.008);
    const base = p.plan(afterTick(400), 0, FRAME);
    assert.ok(Math.abs(p.plan(afterTick(400), 10, FRAME).waitMs - (base.waitMs + 10)) < 1e-9);
    assert.ok(Math.abs(p.plan(afterTick(400), -10, FRAME).waitMs - (base.waitMs - 10)) < 1e-9);
    const late = p.plan(afterTick(600), 50, FRAME);
    assert.ok(late.waitMs <= 100 && late.waitMs + late.lateMs <= 100 + 1e-9, `carry bounded by the ceiling (${late.waitMs} + ${late.lateMs})`);
  });

  it('starts a tick at a frame only within the window', () => {
    const half = { earlyMs: 16, lateMs: 16 };
    assert.equal(alignNow(10, half), true);
    assert.equal(alignNow(-5, half), true, 'after the due time, before the fallback timer');
    assert.equal(alignNow(20, half), false);
    assert.equal(alignNow(-20, half), false);
    assert.equal(alignNow(-5, { earlyMs: 16, lateMs: 0 }), false, 'at the ceiling: not after the due time');
    assert.equal(alignNow(0, { earlyMs: 0, lateMs: 0 }), false, 'no window: the timer decides');
  });

  it('raises a budget of a quarter to a half tick per frame to MEDIAN_RATE ticks per frame, and only that', () => {
    const cost = 0.008;
    const p = measured(cost);
    // The period of a tick is its gap plus its writes; its rate in ticks per frame, with and without frames.
    const rate = (n: number, frame: number) => FRAME / (p.plan(afterTick(n), 0, frame).waitMs + n * cost);
    for (const n of [400, 450, 600, 800]) {
      const budget = rate(n, 0);
      assert.ok(budget >= MEDIAN_RATE / MEDIAN_BOOST_MAX && budget < MEDIAN_RATE, `${n} viewers: the budget's ${budget.toFixed(3)} ticks per frame`);
      assert.ok(Math.abs(rate(n, FRAME) - MEDIAN_RATE) < 0.01, `${n} viewers with frames: ${rate(n, FRAME)} ticks per frame`);
    }
    // Over MEDIAN_RATE already, or so far under it that raising it costs over MEDIAN_BOOST_MAX: the budget's.
    // (2,000 and 4,800 sit at the 100 ms ceiling, whose rate is not the budget's: the budget's own is under the window.)
    for (const n of [100, 300, 2000, 4800]) {
      const budget = rate(n, 0);
      if (n <= 300) assert.ok(budget >= MEDIAN_RATE, `${n}: ${budget}`);
      assert.ok(Math.abs(p.plan(afterTick(n), 0, FRAME).waitMs - p.plan(afterTick(n)).waitMs) < 1e-9, `${n} viewers: as the budget says`);
    }
  });
});

describe(FrameAlign.name, () => {
  it('measures the interval of the leading stream\'s frames from their timestamps', () => {
    const a = new FrameAlign();
    assert.equal(a.frameIntervalMs(0), 0, 'none before two frames');
    for (let i = 0; i < 40; i++) assert.equal(a.frame(400, 400, Math.round(i * 40), i * 40), true);
    assert.ok(Math.abs(a.frameIntervalMs(39 * 40) - 40) < 0.5, `25 fps: ${a.frameIntervalMs(39 * 40)}`);
    assert.equal(a.frameIntervalMs(39 * 40 + 1000), 0, 'no leading frame for a second: no alignment');
  });

  it('follows a frame only when it went to most of the waiting viewers: streams of alike audiences are not aligned', () => {
    const a = new FrameAlign();
    assert.equal(a.frame(400, 450, 0, 0), true, 'one large audience among small ones');
    assert.equal(a.frame(200, 400, 33, 33), false, 'two streams of 200: neither leads');
    assert.equal(a.frame(100, 400, 66, 66), false);
    assert.equal(a.frame(0, 0, 66, 66), false);
  });

  it('takes no interval from another stream leading in turn, a dropped frame, a pause, or timestamps going back', () => {
    const a = new FrameAlign();
    // Stream A (30 fps, its clock near 1000 s) leads; every third leading frame is stream B's (its
    // clock 40-140 ms ahead of A's, varying, as two publishers' are): seqs tell nothing (both count from 1).
    let t = 1_000_000;
    for (let i = 0; i < 90; i++) {
      t += FRAME;
      const now = i * FRAME;
      a.frame(300, 500, Math.round(t), now);
      if (i % 3 === 2) a.frame(300, 500, Math.round(t + 40 + ((i * 37) % 100)), now + 1);
      if (i % 10 === 5) t += FRAME; // a dropped frame: a double gap
    }
    const got = a.frameIntervalMs(89 * FRAME + 1);
    assert.ok(Math.abs(got - FRAME) < 0.5, `stream A's interval: ${got}`);
    a.frame(10, 10, 5, 89 * FRAME + 2); // back in time
    a.frame(10, 10, 90_000, 89 * FRAME + 3); // a pause
    assert.ok(Math.abs(a.frameIntervalMs(89 * FRAME + 3) - got) < 1e-9, `${a.frameIntervalMs(89 * FRAME + 3)}`);
  });
});
