import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ladder, parseMediaBenchArgs, stepsOf, MEDIA_HELP } from './media-options.js';
import { OptionsError } from '../../stress/options.js';
import { nginxRtmpConfig } from './nginx-rtmp.js';

describe('bench:media options', () => {
  it('climbs the documented ladder, then by 800 up to --max', () => {
    assert.deepEqual(ladder(3200), [100, 400, 800, 1600, 2400, 3200]);
    assert.deepEqual(ladder(1000), [100, 400, 800]);
    assert.deepEqual(ladder(5600), [100, 400, 800, 1600, 2400, 3200, 4000, 4800, 5600]);
  });
  it('defaults to every target over HTTP-FLV with 20 s steps', () => {
    const o = parseMediaBenchArgs([]);
    assert.deepEqual(o.targets, ['onair', 'onair-media', 'nms', 'nginx']);
    assert.deepEqual(stepsOf(o), [100, 400, 800, 1600, 2400, 3200]);
    assert.deepEqual(o.protocols, ['http-flv']);
    assert.deepEqual([o.max, o.stepMs, o.settleMs, o.rampPerSec, o.healthyStop, o.keepGoing], [3200, 20_000, 3000, 800, 0.95, false]);
  });
  it('climbs to 9,600 viewers (the issue 15 ladder), and --keep-going runs every step', () => {
    assert.deepEqual(ladder(9600).slice(-4), [7200, 8000, 8800, 9600]);
    assert.equal(parseMediaBenchArgs(['--max', '9600']).max, 9600);
    assert.equal(parseMediaBenchArgs(['--keep-going']).keepGoing, true);
    assert.ok(MEDIA_HELP.includes('--keep-going'));
  });
  it('parses and checks options', () => {
    const o = parseMediaBenchArgs(['--targets', 'nms,nginx', '--protocols', 'http-flv,rtmp', '--max', '800', '--step-seconds', '10', '--json', '/tmp/x.json']);
    assert.deepEqual([o.targets, o.protocols, o.max, o.stepMs, o.json], [['nms', 'nginx'], ['http-flv', 'rtmp'], 800, 10_000, '/tmp/x.json']);
    assert.deepEqual(stepsOf(parseMediaBenchArgs(['--steps', '3200, 800'])), [3200, 800]);
    for (const bad of [['--steps', '0'], ['--steps', '1,x'], ['--targets', 'srs'], ['--protocols', 'hls'], ['--max', '0'], ['--max', '99999'], ['--step-seconds', '1'], ['--ramp', '0'], ['--what']]) {
      assert.throws(() => parseMediaBenchArgs(bad), OptionsError, bad.join(' '));
    }
    for (const flag of ['--targets', '--protocols', '--max', '--steps', '--step-seconds', '--settle', '--ramp', '--json', '--help']) assert.ok(MEDIA_HELP.includes(flag), flag);
  });
  it('writes an nginx-rtmp config bound to loopback, without a daemon', () => {
    const conf = nginxRtmpConfig('/tmp/p', 19350);
    assert.match(conf, /listen 127\.0\.0\.1:19350;/);
    assert.match(conf, /daemon off;/);
    assert.match(conf, /load_module \/usr\/lib\/nginx\/modules\/ngx_rtmp_module\.so;/);
  });
});

describe('machine CPU', () => {
  it('sums busy jiffies of the aggregate cpu line (idle and iowait excluded)', async () => {
    const { busySeconds } = await import('./machine-cpu.js');
    const stat = 'cpu  100 20 30 5000 70 1 2 3 0 0\ncpu0 50 10 15 2500 35 0 1 1 0 0\nintr 1\n';
    assert.equal(busySeconds(stat), (100 + 20 + 30 + 1 + 2 + 3) / 100);
    assert.equal(busySeconds('nothing'), 0);
  });
});

describe('bench:media --nice', () => {
  it('takes a negative value in the --nice=N form and checks the range', () => {
    assert.equal(parseMediaBenchArgs(['--nice=-10']).nice, -10);
    assert.equal(parseMediaBenchArgs([]).nice, 0);
    assert.throws(() => parseMediaBenchArgs(['--nice=-21']), OptionsError);
  });
});
