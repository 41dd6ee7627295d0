import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { auditVerdict } from './audit-severity.js';

describe('audit severity mapping', () => {
  const image: Array<[Record<string, unknown>, string]> = [
    [{ suggestion: 'Pass', label: 'Normal', score: [3] }, 'pass'],
    [{ suggestion: 'Review', label: 'Porn', score: [70] }, 'light'],
    [{ suggestion: 'Block', label: 'Ad', score: [99] }, 'medium'],
    [{ suggestion: 'Block', label: 'Porn', score: [80] }, 'medium'],
    [{ suggestion: 'Block', label: 'Porn', score: [40, 95] }, 'severe'],
    [{ suggestion: 'Block', label: 'Terror', score: [90] }, 'severe'],
    [{ label: 'Porn', score: [99] }, 'pass'],
  ];
  for (const [body, severity] of image) {
    it(`317 ${JSON.stringify(body)} -> ${severity}`, () => assert.equal(auditVerdict(317, body).severity, severity));
  }
  const audio: Array<[Record<string, unknown>, string]> = [
    [{ HitFlag: 0, Score: 99, label: 'Porn' }, 'pass'],
    [{ HitFlag: 1, Score: 30, label: 'Abuse' }, 'light'],
    [{ HitFlag: 1, Score: 75, label: 'Abuse' }, 'medium'],
    [{ HitFlag: 1, Score: 95, label: 'Abuse' }, 'medium'],
    [{ HitFlag: 1, Score: 95, label: 'Polity' }, 'severe'],
    [{ suggestion: 'Block', Score: 20, label: 'Ad' }, 'medium'],
  ];
  for (const [body, severity] of audio) {
    it(`315 ${JSON.stringify(body)} -> ${severity}`, () => assert.equal(auditVerdict(315, body).severity, severity));
  }
  it('keeps the evidence and the highest score', () => {
    const v = auditVerdict(317, { suggestion: 'Block', label: 'Porn', score: [10, 96], img: 'http://x/1.jpg' });
    assert.deepEqual(v, { kind: 'image', severity: 'severe', suggestion: 'Block', label: 'Porn', score: 96, evidenceUrl: 'http://x/1.jpg' });
  });
});
