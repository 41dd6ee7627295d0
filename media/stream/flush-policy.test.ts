import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALIGN_EARLY_AT_CEILING, alignNow, BUSY_SHARE, FlushPolicy, FrameAlign, FULL_WRITE_BYTES, tickStart } from './flush-policy.js';

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

/** 30 fps. */
const FRAME = 1000 / 30;

/**
 * The scheduler's decisions over `seconds` of one stream (video at 30 fps, AAC audio every ~21 ms)
 * for `viewers` viewers, with ticks of `workMs` of writes: the next tick is decided at the first
 * packet after a tick (FlushPolicy.plan), armed on the timer at its due time plus the window, and
 * started at once by a video frame within the window (alignNow); `align` false passes no frame
 * interval (as for audio-only streams, or before this change). Returns the ticks written and how
 * long each video frame waited for its tick.
 */
function simulate(p: FlushPolicy, viewers: number, workMs: number, align: boolean, seconds = 60): { ticks: number; frameWaits: number[]; aligned: number } {
  const packets: { t: number; video: boolean }[] = [];
  for (let t = 7; t < seconds * 1000; t += FRAME) packets.push({ t, video: true });
  for (let t = 0; t < seconds * 1000; t += 1024 / 48) packets.push({ t, video: false });
  packets.sort((a, b) => a.t - b.t);
  let ticks = 0;
  let aligned = 0;
  let lastEnd = -Infinity;
  let carry = 0;
  let timer: { due: number; earlyMs: number; lateMs: number } | undefined;
  let waiting: number[] = []; // arrival times of the video frames not yet written
  let dirty = false;
  const frameWaits: number[] = [];
  const tick = (at: number): void => {
    for (const f of waiting) frameWaits.push(at - f);
    waiting = [];
    dirty = false;
    timer = undefined;
    ticks++;
    lastEnd = at + workMs;
  };
  const lateness = (at: number) => Math.max(-timer!.lateMs, Math.min(timer!.earlyMs, timer!.due - at));
  for (const pk of packets) {
    if (timer && timer.due + timer.lateMs <= pk.t) {
      const at = timer.due + timer.lateMs;
      carry = lateness(at);
      tick(at);
    }
    const at = Math.max(pk.t, lastEnd); // data during a tick's writes is decided when they end
    if (pk.video) waiting.push(pk.t);
    if (!dirty) {
      dirty = true;
      const plan = p.plan({ dirtyViewers: viewers, queuedBytes: viewers * 400, sinceLastTickMs: at - lastEnd }, carry, align ? FRAME : 0);
      carry = 0;
      if (plan.waitMs <= 0) {
        tick(at);
        continue;
      }
      timer = { due: at + plan.waitMs, earlyMs: plan.earlyMs, lateMs: plan.lateMs };
    }
    if (pk.video && timer && alignNow(timer.due - at, timer)) {
      carry = lateness(at);
      aligned++;
      tick(at);
    }
  }
  return { ticks, frameWaits, aligned };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

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
    // Thousands: at the ceiling no later; earlier only as far as ALIGN_EARLY_AT_CEILING says (no later tick can make up for it).
    const at4000 = p.plan(afterTick(4000), 0, FRAME);
    assert.ok(at4000.waitMs + at4000.lateMs <= 100 + 1e-9 && at4000.lateMs < 1, `at the ceiling: no later (${at4000.waitMs} + ${at4000.lateMs})`);
    assert.ok(Math.abs(at4000.earlyMs - Math.min(FRAME / 2, FRAME * ALIGN_EARLY_AT_CEILING)) < 1e-9, `${at4000.earlyMs}`);
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

  it('one stream: frames wait less at the same rate of ticks (P ~ 2 frames and ~ 3 frames)', () => {
    for (const [cost, work] of [[0.008, 3], [0.0115, 4]] as const) {
      const before = simulate(measured(cost), 400, work, false);
      const after = simulate(measured(cost), 400, work, true);
      const rate = after.ticks / before.ticks;
      assert.ok(rate > 0.97 && rate < 1.02, `cost ${cost}: ticks ${after.ticks} against ${before.ticks}`);
      assert.ok(after.aligned > 0.8 * after.ticks, `most ticks at a frame (${after.aligned} of ${after.ticks})`);
      const a = mean(after.frameWaits);
      const b = mean(before.frameWaits);
      assert.ok(a < 0.75 * b, `cost ${cost}: mean frame wait ${a.toFixed(1)} ms against ${b.toFixed(1)}`);
    }
  });

  it('at the ceiling (thousands of viewers) adds at most the ticks ALIGN_EARLY_AT_CEILING allows', () => {
    for (const work of [5, 20, 40, 60]) {
      const before = simulate(measured(0.008), 4000, work, false);
      const after = simulate(measured(0.008), 4000, work, true);
      const bound = 1 + (ALIGN_EARLY_AT_CEILING * FRAME) / (100 + work);
      assert.ok(after.ticks <= before.ticks * bound + 2, `work ${work}: ticks ${after.ticks} against ${before.ticks} (bound x ${bound.toFixed(3)})`);
      if ((ALIGN_EARLY_AT_CEILING as number) === 0) assert.deepEqual(after.frameWaits, before.frameWaits);
      else assert.ok(mean(after.frameWaits) <= mean(before.frameWaits) + 1, `work ${work}: ${mean(after.frameWaits)} against ${mean(before.frameWaits)}`);
    }
  });
});

describe(FrameAlign.name, () => {
  it('measures the interval of the leading stream\'s frames from their timestamps', () => {
    const a = new FrameAlign();
    assert.equal(a.frameIntervalMs(0), 0, 'none before two frames');
    let seq = 1;
    for (let i = 0; i < 40; i++, seq += 3) assert.equal(a.frame(400, 400, Math.round(i * 40), seq, i * 40), true);
    assert.ok(Math.abs(a.frameIntervalMs(39 * 40) - 40) < 0.5, `25 fps: ${a.frameIntervalMs(39 * 40)}`);
    assert.equal(a.frameIntervalMs(39 * 40 + 1000), 0, 'no leading frame for a second: no alignment');
  });

  it('follows a frame only when it went to most of the waiting viewers: streams of alike audiences are not aligned', () => {
    const a = new FrameAlign();
    assert.equal(a.frame(400, 450, 0, 1, 0), true, 'one large audience among small ones');
    assert.equal(a.frame(200, 400, 33, 4, 33), false, 'two streams of 200: neither leads');
    assert.equal(a.frame(100, 400, 66, 7, 66), false);
    assert.equal(a.frame(0, 0, 66, 7, 66), false);
  });

  it('takes no interval from frames of another stream, a pause, or timestamps going back', () => {
    const a = new FrameAlign();
    a.frame(10, 10, 1000, 10, 0);
    a.frame(10, 10, 1033, 12, 33);
    assert.ok(Math.abs(a.frameIntervalMs(33) - 33) < 1e-9);
    a.frame(10, 10, 5000, 500, 66); // another stream's frame (seqs far apart)
    a.frame(10, 10, 4900, 502, 99); // back in time
    a.frame(10, 10, 9000, 504, 132); // a pause
    assert.ok(Math.abs(a.frameIntervalMs(132) - 33) < 1e-9, `${a.frameIntervalMs(132)}`);
  });
});
