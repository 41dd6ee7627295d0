import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { INTERVAL_MS, JOIN_QUIET_MS, JoinRate, MAX_PER_TICK, RAMP_JOINS_PER_S, RAMP_MAX_MS, SHARE, SUSTAIN_MS, ShedPolicy } from './shed-policy.js';

describe(ShedPolicy.name, () => {
  it('sheds nobody while the engine keeps up', () => {
    const p = new ShedPolicy();
    for (let t = 0; t < 10_000; t += INTERVAL_MS) assert.deepEqual(p.decide(t, false, 5000), { shed: 0, spellStarted: false, spellEnded: false, spellShed: 0 });
  });

  it('sheds nobody during an overload shorter than SUSTAIN_MS (a GC pause, a connect burst), and forgets it once healthy', () => {
    const p = new ShedPolicy();
    for (let t = 0; t < SUSTAIN_MS; t += INTERVAL_MS) assert.equal(p.decide(t, true, 5000).shed, 0);
    assert.equal(p.decide(SUSTAIN_MS, false, 5000).spellEnded, false, 'no spell began');
    // A new overload counts from its own start.
    for (let t = SUSTAIN_MS + INTERVAL_MS; t < 2 * SUSTAIN_MS + INTERVAL_MS; t += INTERVAL_MS) assert.equal(p.decide(t, true, 5000).shed, 0);
  });

  it('past SUSTAIN_MS of overload sheds SHARE of the audience per decision, starts the spell once, and ends it when the lag recovers', () => {
    const p = new ShedPolicy();
    p.decide(0, true, 5000);
    const first = p.decide(SUSTAIN_MS, true, 5000);
    assert.deepEqual(first, { shed: Math.floor(5000 * SHARE), spellStarted: true, spellEnded: false, spellShed: 100 });
    const second = p.decide(SUSTAIN_MS + INTERVAL_MS, true, 4900);
    assert.deepEqual(second, { shed: Math.floor(4900 * SHARE), spellStarted: false, spellEnded: false, spellShed: 198 });
    const end = p.decide(SUSTAIN_MS + 2 * INTERVAL_MS, false, 4802);
    assert.deepEqual(end, { shed: 0, spellStarted: false, spellEnded: true, spellShed: 198 });
    // The next spell starts afresh: its own sustain, its own count.
    assert.equal(p.decide(SUSTAIN_MS + 3 * INTERVAL_MS, true, 4802).shed, 0);
    const again = p.decide(2 * SUSTAIN_MS + 3 * INTERVAL_MS, true, 4802);
    assert.equal(again.spellStarted, true);
    assert.equal(again.spellShed, again.shed);
  });

  it('sheds at least one viewer of a small audience and at most MAX_PER_TICK of a huge one, never more than there are', () => {
    const p = new ShedPolicy();
    p.decide(0, true, 3);
    assert.equal(p.decide(SUSTAIN_MS, true, 3).shed, 1);
    const q = new ShedPolicy();
    q.decide(0, true, 1_000_000);
    assert.equal(q.decide(SUSTAIN_MS, true, 1_000_000).shed, MAX_PER_TICK);
    const r = new ShedPolicy({ share: 1 });
    r.decide(0, true, 2);
    assert.equal(r.decide(SUSTAIN_MS, true, 2).shed, 2);
  });

  it('with no viewers left there is nothing to shed and no spell to log', () => {
    const p = new ShedPolicy();
    p.decide(0, true, 0);
    assert.deepEqual(p.decide(SUSTAIN_MS * 2, true, 0), { shed: 0, spellStarted: false, spellEnded: false, spellShed: 0 });
    assert.equal(p.decide(SUSTAIN_MS * 3, false, 0).spellEnded, false);
  });

  it('takes its spell and pace from options (tests)', () => {
    const p = new ShedPolicy({ sustainMs: 100, share: 0.5, maxPerTick: 3 });
    p.decide(0, true, 100);
    assert.equal(p.decide(50, true, 100).shed, 0);
    assert.equal(p.decide(100, true, 100).shed, 3);
  });

  it('sheds nobody while viewers keep trying to join (a ramp: the guard refuses them), and starts once the joins stopped for JOIN_QUIET_MS', () => {
    const p = new ShedPolicy();
    // Overloaded from t = 0 with a join attempt every 10 ms until t = 4 s (800 joins/s, most refused).
    let t = 0;
    for (; t <= 4000; t += INTERVAL_MS) assert.equal(p.decide(t, true, 2000, t - 10).shed, 0, `no shed at ${t} ms during the ramp`);
    const lastJoin = 3990;
    // Still behind after the ramp: held until JOIN_QUIET_MS after the last join, then the spell starts.
    for (; t < lastJoin + JOIN_QUIET_MS; t += INTERVAL_MS) assert.equal(p.decide(t, true, 2000, lastJoin).shed, 0, `no shed at ${t} ms, ${t - lastJoin} ms after the last join`);
    const d = p.decide(t, true, 2000, lastJoin);
    assert.equal(d.spellStarted, true);
    assert.equal(d.shed, Math.floor(2000 * SHARE));
  });

  it('a ramp that the engine absorbs (healthy again once the joins stop) sheds nobody', () => {
    const p = new ShedPolicy();
    for (let t = 0; t <= 4000; t += INTERVAL_MS) assert.equal(p.decide(t, true, 2000, t - 10).shed, 0);
    assert.deepEqual(p.decide(4500, false, 2000, 3990), { shed: 0, spellStarted: false, spellEnded: false, spellShed: 0 });
  });

  it('joins that never stop hold shedding off for RAMP_MAX_MS of overload at most (no collapse under a join flood)', () => {
    const p = new ShedPolicy();
    let t = 0;
    for (; t < RAMP_MAX_MS; t += INTERVAL_MS) assert.equal(p.decide(t, true, 2000, t - 10).shed, 0);
    const d = p.decide(t, true, 2000, t - 10);
    assert.equal(d.spellStarted, true);
    assert.ok(d.shed > 0);
  });

  it('once a spell runs, new join attempts do not pause it', () => {
    const p = new ShedPolicy();
    p.decide(0, true, 2000);
    assert.ok(p.decide(SUSTAIN_MS, true, 2000).shed > 0);
    assert.ok(p.decide(SUSTAIN_MS + INTERVAL_MS, true, 1960, SUSTAIN_MS + INTERVAL_MS - 5).shed > 0);
  });

  it('JoinRate: 800 joins a second is a ramp until they stop; a trickle (one a second, or a burst of a few) never is', () => {
    const r = new JoinRate();
    for (let t = 0; t < 4000; t += 1.25) r.note(t);
    assert.ok(Math.abs(r.perSecond(4000) - 800) < 50, `~800/s, got ${r.perSecond(4000)}`);
    assert.ok(r.lastRampAt > 3990);
    assert.ok(r.perSecond(4000 + 5 * 1000) < RAMP_JOINS_PER_S, 'the rate decays once the joins stop');
    const trickle = new JoinRate();
    for (let t = 0; t < 60_000; t += 1000) trickle.note(t);
    for (let t = 60_000; t < 60_005; t++) trickle.note(t); // five at once
    assert.equal(trickle.lastRampAt, -Infinity);
  });

  it('a trickle of joins (no ramp) does not hold shedding off: the spell starts after SUSTAIN_MS', () => {
    const r = new JoinRate();
    const p = new ShedPolicy();
    let d;
    for (let t = 0; t <= SUSTAIN_MS; t += INTERVAL_MS) {
      r.note(t - 1);
      d = p.decide(t, true, 2000, r.lastRampAt);
    }
    assert.equal(d!.spellStarted, true);
  });
});
