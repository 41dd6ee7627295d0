import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { busySeconds, coreBusySeconds } from './machine-cpu.js';

const STAT = `cpu  1000 10 500 9000 50 20 300 5 0 0
cpu0 700 10 300 4000 20 15 250 5 0 0
cpu1 300 0 200 5000 30 5 50 0 0 0
intr 123
`;

describe('machine-cpu', () => {
  it('reads the busy time of one core, softirq and irq included', () => {
    assert.equal(coreBusySeconds(STAT, 0), (700 + 10 + 300 + 15 + 250 + 5) / 100);
    assert.equal(coreBusySeconds(STAT, 1), (300 + 200 + 5 + 50) / 100);
    assert.equal(coreBusySeconds(STAT, 2), 0);
    assert.equal(busySeconds(STAT), (1000 + 10 + 500 + 20 + 300 + 5) / 100);
  });
});
