import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RefusalSpell } from './refusal-spell.js';

describe('RefusalSpell: one log line per spell of refusals, not one per refused viewer', () => {
  it('admitted joins outside a spell log nothing', () => {
    const s = new RefusalSpell();
    for (let t = 0; t < 100; t++) assert.equal(s.note(true, t), undefined);
    assert.equal(s.refusing, false);
  });

  it('a thousand refusals make one start and, at the next admitted join, one end with their count and duration', () => {
    const s = new RefusalSpell();
    const notes = [];
    for (let i = 0; i < 1000; i++) notes.push(s.note(false, 1000 + i));
    assert.deepEqual(notes.filter(Boolean), [{ kind: 'started' }]);
    assert.equal(s.refusing, true);
    assert.deepEqual(s.note(true, 4000), { kind: 'ended', refused: 1000, durationMs: 3000 });
    assert.equal(s.refusing, false);
    assert.equal(s.note(true, 4001), undefined);
  });

  it('a second spell counts only its own refusals', () => {
    const s = new RefusalSpell();
    s.note(false, 0);
    s.note(false, 1);
    s.note(true, 10);
    assert.deepEqual(s.note(false, 20), { kind: 'started' });
    assert.equal(s.note(false, 21), undefined);
    assert.deepEqual(s.note(true, 50), { kind: 'ended', refused: 2, durationMs: 30 });
  });
});
