import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, quantiles } from './percentile.js';
import { summarizeViewers, type ViewerFigures } from './viewer-summary.js';
import { parseProcStat, parseProcessMetrics, usageBetween } from './server-usage.js';
import { formatTable } from './table.js';

describe('percentile (nearest rank)', () => {
  it('picks the nearest-rank value from unsorted input', () => {
    const v = [15, 20, 35, 40, 50];
    assert.equal(percentile(v, 50), 35);
    assert.equal(percentile(v, 95), 50);
    assert.equal(percentile(v, 0), 15);
    assert.equal(percentile(v, 100), 50);
    assert.equal(percentile([3, 1, 2], 30), 1);
    assert.equal(percentile(Array.from({ length: 100 }, (_, i) => 100 - i), 95), 95);
  });
  it('is undefined for no values and refuses a bad p', () => {
    assert.equal(percentile([], 50), undefined);
    assert.deepEqual(quantiles([]), { p50: undefined, p95: undefined, count: 0 });
    assert.throws(() => percentile([1], 101), RangeError);
    assert.throws(() => percentile([1], Number.NaN), RangeError);
  });
});

describe('summarizeViewers', () => {
  const rate = 250_000; // bytes/s = 2 Mb/s
  const base = (over: Partial<ViewerFigures>): ViewerFigures => ({ protocol: 'http-flv', startedAt: 0, bytes: 0, stalls: 0, ...over });

  it('judges health per viewer against 90 % of the stream bytes in its window', () => {
    const viewers = [
      // window 10 s: 2.5 MB expected; 2.25 MB is exactly 90 % -> healthy
      base({ firstByteAt: 10, firstFrameAt: 40, baselineAt: 3000, baselineBytes: 1000, bytes: 1000 + 2_250_000 }),
      // 80 % -> unhealthy
      base({ firstByteAt: 20, firstFrameAt: 60, baselineAt: 3000, baselineBytes: 0, bytes: 2_000_000, stalls: 2 }),
      // never connected
      base({ error: 'ECONNREFUSED' }),
      // connected but its window is too short to judge
      base({ protocol: 'rtmp', firstByteAt: 30, baselineAt: 12_500, baselineBytes: 0, bytes: 100_000, error: 'closed-by-server' }),
    ];
    const s = summarizeViewers({ viewers, expectedBytesPerSec: rate, endAt: 13_000 });
    assert.equal(s.viewers, 4);
    assert.equal(s.connected, 3);
    assert.equal(s.judged, 2);
    assert.equal(s.healthy, 1);
    assert.equal(s.healthyShare, 0.25);
    assert.deepEqual(s.errors, { ECONNREFUSED: 1, 'closed-by-server': 1 });
    assert.deepEqual(s.byProtocol, { 'http-flv': 3, rtmp: 1 });
    assert.equal(s.stalledViewers, 1);
    assert.equal(s.stalls, 2);
    assert.deepEqual([s.ttfbMs.p50, s.ttfbMs.p95], [20, 30]);
    assert.deepEqual([s.ttffMs.p50, s.ttffMs.p95], [40, 60]);
    // (2.25 MB + 2 MB + 0.1 MB) * 8 over the 10 s from the earliest window start
    assert.ok(Math.abs(s.mbps - (4_350_000 * 8) / 1e6 / 10) < 1e-9);
  });

  it('counts the viewers whose first byte came a second or more after they started (a SYN retransmitted)', () => {
    const viewers = [
      base({ firstByteAt: 999 }),
      base({ firstByteAt: 1000, error: 'http-503' }),
      base({ startedAt: 500, firstByteAt: 7600 }),
      base({ error: 'ETIMEDOUT' }),
    ];
    const s = summarizeViewers({ viewers, expectedBytesPerSec: rate, endAt: 10_000 });
    assert.equal(s.slowFirstByte, 2);
  });

  it('reports zero for no viewers', () => {
    const s = summarizeViewers({ viewers: [], expectedBytesPerSec: rate, endAt: 1000 });
    assert.equal(s.healthyShare, 0);
    assert.equal(s.mbps, 0);
  });
});

describe('server usage', () => {
  it('reads ppid, CPU ticks and RSS pages from /proc/PID/stat, even with spaces in the name', () => {
    const line = '4242 (nginx: worker (x)) S 4241 4241 4241 0 -1 4194624 100 0 0 0 150 50 0 0 20 0 1 0 500 123456789 3000 18446744073709551615';
    assert.deepEqual(parseProcStat(line), { ppid: 4241, comm: 'nginx: worker (x)', ticks: 200, utime: 150, stime: 50, rssPages: 3000 });
    assert.equal(parseProcStat('garbage'), undefined);
  });
  it('reads the process metrics from Prometheus text', () => {
    const text = '# HELP process_cpu_seconds_total x\nprocess_cpu_seconds_total 12.5\nprocess_resident_memory_bytes 104857600\nprocess_cpu_user_seconds_total 9\n';
    assert.deepEqual(parseProcessMetrics(text), { cpuSeconds: 12.5, rssBytes: 104857600 });
  });
  it('turns samples into CPU % of one core, last and peak RSS', () => {
    const u = usageBetween([{ at: 0, cpuSeconds: 10, rssBytes: 50e6 }, { at: 1000, cpuSeconds: 10.3, rssBytes: 80e6 }, { at: 2000, cpuSeconds: 10.5, rssBytes: 70e6 }], 'x');
    assert.ok(u);
    assert.ok(Math.abs(u.cpuPercent - 25) < 1e-9);
    assert.equal(u.rssMB, 70);
    assert.equal(u.peakRssMB, 80);
    assert.equal(usageBetween([{ at: 0, cpuSeconds: 1, rssBytes: 1 }], 'x'), undefined);
  });
});

describe('formatTable', () => {
  it('aligns columns and shows missing values as -', () => {
    assert.equal(formatTable(['a', 'bb'], [['x', 1], ['yyy', undefined]]), 'a    bb\n---  --\nx     1\nyyy   -');
  });
});
