import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HELP, OptionsError, parseKbps, parseSeconds, parseStressArgs } from './options.js';

describe('stress options', () => {
  it('has defaults that target a local onair through its API', () => {
    const o = parseStressArgs([]);
    assert.equal(o.api, 'http://127.0.0.1:8080');
    assert.deepEqual([o.publishers, o.viewers, o.rampPerSec, o.durationMs, o.settleMs, o.stallMs], [1, 100, 200, 30_000, 3000, 1000]);
    assert.deepEqual(o.protocols, ['http-flv']);
    assert.deepEqual(o.sample, { videoKbps: 2022, audioKbps: 128, width: 1280, height: 720, fps: 30, gopSeconds: 2, seconds: 10 });
    assert.equal(o.probe, true);
    assert.equal(o.allowRemote, false);
  });

  it('parses every option', () => {
    const o = parseStressArgs(['--key', 'a', '--key', 'b', '--url', 'http://127.0.0.1:8000/live/{key}.flv', '--publish', 'rtmp://127.0.0.1:1936/live',
      '--viewers', '500', '--ramp', '100/s', '--duration', '2m', '--settle', '5', '--stall', '500ms', '--bitrate', '4M', '--audio-bitrate', '96k',
      '--size', '640x360', '--fps', '25', '--gop', '1', '--sample-seconds', '4', '--no-probe', '--pid', '123', '--json', '--no-live', '--allow-remote']);
    assert.deepEqual(o.keys, ['a', 'b']);
    assert.equal(o.publishers, 2, 'one publisher per key');
    assert.equal(o.api, undefined);
    assert.deepEqual([o.viewers, o.rampPerSec, o.durationMs, o.settleMs, o.stallMs], [500, 100, 120_000, 5000, 500]);
    assert.deepEqual(o.sample, { videoKbps: 3904, audioKbps: 96, width: 640, height: 360, fps: 25, gopSeconds: 1, seconds: 4 });
    assert.deepEqual([o.probe, o.pid, o.json, o.live, o.allowRemote], [false, 123, true, false, true]);
  });

  it('publishes nothing when only play URLs are given', () => {
    const o = parseStressArgs(['--url', 'http://127.0.0.1:8000/live/x.flv']);
    assert.equal(o.publishers, 0);
    assert.equal(o.api, undefined);
  });

  it('refuses bad values and values past the caps', () => {
    const bad: string[][] = [
      ['--viewers', '5001'], ['--viewers', '-1'], ['--publishers', '51'], ['--duration', '2h'], ['--duration', '1s'],
      ['--ramp', 'fast'], ['--ramp', '0/s'], ['--protocol', 'srt'], ['--size', '1281x720'], ['--bitrate', '100k', '--audio-bitrate', '128k'],
      ['--key', 'a'], ['--settle', '40s'], ['--unknown'], ['--stall', '10ms'],
    ];
    for (const args of bad) assert.throws(() => parseStressArgs(args), OptionsError, args.join(' '));
  });

  it('parses durations and bitrates', () => {
    assert.equal(parseSeconds('30', 'x'), 30_000);
    assert.equal(parseSeconds('1.5', 'x'), 1500);
    assert.equal(parseSeconds('250ms', 'x'), 250);
    assert.equal(parseKbps('2150k', 'x'), 2150);
    assert.equal(parseKbps('2.5M', 'x'), 2500);
    assert.equal(parseKbps('128000', 'x'), 128);
    assert.throws(() => parseKbps('lots', 'x'), OptionsError);
  });

  it('documents every option in --help', () => {
    for (const flag of ['--api', '--username', '--password', '--key', '--url', '--publish', '--publishers', '--viewers', '--protocol', '--ramp', '--duration',
      '--settle', '--stall', '--no-probe', '--bitrate', '--audio-bitrate', '--size', '--fps', '--gop', '--sample-seconds', '--cache-dir', '--pid', '--metrics',
      '--json', '--no-live', '--allow-remote', '--help']) {
      assert.ok(HELP.includes(flag), flag);
    }
  });
});
