import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OTHER_WORK, SATURATED, judgeStep } from './ladder-limit.js';

const base = { viewers: 1000, healthy: 1000, serverCpuPercent: 40, loadCpuPercent: 50, refused: 0, shed: 0 };

describe('judgeStep', () => {
  it('goes on with no limit met while every viewer is healthy and both cores have room', () => {
    assert.deepEqual(judgeStep(base, 0.95), { admittedHealthyShare: 1, keptHealthyShare: 1, limits: [], stop: undefined });
  });

  it('stops when the load core saturates, whatever the server does', () => {
    const v = judgeStep({ ...base, loadCpuPercent: SATURATED + 1 }, 0.95);
    assert.deepEqual(v.limits, ['load core']);
    assert.match(v.stop!, /load core saturated/);
  });

  it('goes on past the ceiling while the admitted viewers stay healthy (refused ones do not count against it)', () => {
    const v = judgeStep({ viewers: 9600, healthy: 6360, serverCpuPercent: 99, loadCpuPercent: 70, refused: 3200, shed: 40 }, 0.95);
    assert.deepEqual(v.limits, ['server core', 'admission']);
    assert.equal(v.admittedHealthyShare, 6360 / 6400);
    assert.equal(v.keptHealthyShare, 1, 'shed viewers count against the admitted share, not the kept one');
    assert.equal(v.stop, undefined);
  });

  it('stops when the admitted audience suffers, saying whether the server core was saturated and whether anything was refused', () => {
    const collapse = judgeStep({ ...base, viewers: 7200, healthy: 1600, serverCpuPercent: 100 }, 0.95);
    assert.match(collapse.stop!, /22\.2 % of admitted viewers healthy.*server core saturated \(100 %\); no admission control/);
    const notSat = judgeStep({ ...base, healthy: 800 }, 0.95);
    assert.match(notSat.stop!, /server core not saturated/);
    const refusedAll = judgeStep({ ...base, refused: 1000, healthy: 0 }, 0.95);
    assert.equal(refusedAll.admittedHealthyShare, 0);
    assert.match(refusedAll.stop!, /admission refused 1000/);
  });

  it('labels a step where other processes took a core\'s share as other work, and says so when it stops', () => {
    const v = judgeStep({ ...base, healthy: 500, refused: 41, serverCpuPercent: 13, otherCpuPercent: OTHER_WORK + 130 }, 0.95);
    assert.deepEqual(v.limits, ['admission', 'other work']);
    assert.match(v.stop!, /server core not saturated; admission refused 41, shed 0; other work on the machine took 180 % of a core/);
  });
});
