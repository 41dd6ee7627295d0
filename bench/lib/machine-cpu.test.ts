import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { busySeconds, coreBusySeconds, coreTimes, parseSchedstat, schedMs, ticksByGroup, type ProcEntry } from './machine-cpu.js';
import { parseProcStat, readProcessTable } from '../../stress/report/server-usage.js';

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

  it('splits one core\'s time into its fields', () => {
    assert.deepEqual(coreTimes(STAT, 0), { user: 7, nice: 0.1, system: 3, idle: 40, iowait: 0.2, irq: 0.15, softirq: 2.5, steal: 0.05 });
    assert.equal(coreTimes(STAT, 2), undefined);
  });
});

describe('bench CPU accounting by process tree', () => {
  it('parses a /proc stat line whose command name holds spaces and parentheses', () => {
    const line = '4242 (Chrome (Renderer) x) S 4000 4242 1 0 -1 4194560 100 0 0 0 731 269 0 0 20 0 9 0 500 1000 200 18446744073709551615';
    assert.deepEqual(parseProcStat(line), { ppid: 4000, comm: 'Chrome (Renderer) x', ticks: 1000, utime: 731, stime: 269, rssPages: 200 });
    assert.equal(parseProcStat('garbage'), undefined);
  });

  it('sums each process into its nearest named ancestor, the rest of the tree into the root, and leaves other processes out', () => {
    const t = new Map<number, ProcEntry>([
      [1, { ppid: 0, comm: 'init', ticks: 9999 }],
      [10, { ppid: 1, comm: 'node', ticks: 100 }], // the bench (root)
      [11, { ppid: 10, comm: 'node', ticks: 300 }], // the media server
      [12, { ppid: 10, comm: 'ffmpeg', ticks: 50 }],
      [13, { ppid: 10, comm: 'chromium', ticks: 20 }],
      [14, { ppid: 13, comm: 'chromium', ticks: 70 }], // a renderer
      [15, { ppid: 14, comm: 'zygote', ticks: 5 }],
      [16, { ppid: 10, comm: 'sh', ticks: 1 }],
      [20, { ppid: 1, comm: 'chromium', ticks: 4444 }], // another helper's browser: not in the tree
    ]);
    const role = (pid: number, e: ProcEntry) => (pid === 11 ? 'server' : e.comm === 'ffmpeg' ? 'camera' : e.comm === 'chromium' ? 'chromium' : undefined);
    assert.deepEqual(Object.fromEntries(ticksByGroup(t, 10, role, 'bench')), { bench: 101, server: 300, camera: 50, chromium: 95 });
  });

  it('reads this process into the table', () => {
    const me = readProcessTable().get(process.pid);
    assert.ok(me);
    assert.equal(me.ppid, parseProcStat(readFileSync('/proc/self/stat', 'latin1'))!.ppid);
  });

  it('reads run and run-queue wait time in ms from schedstat, summed over a process\'s threads', () => {
    assert.deepEqual(parseSchedstat('2500000000 125000000 42\n'), { runMs: 2500, waitMs: 125 });
    assert.equal(parseSchedstat(''), undefined);
    const mine = schedMs(process.pid);
    assert.ok(mine && mine.runMs > 0 && mine.waitMs >= 0);
    const main = schedMs(process.pid, true);
    assert.ok(main && main.runMs > 0 && main.runMs <= mine.runMs);
    assert.equal(schedMs(-1), undefined);
  });
});
