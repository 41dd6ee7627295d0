/**
 * An encoder that reconnects within the grace keeps its audience: ffmpeg is killed with -9 and a
 * second ffmpeg publishes the same key; an HTTP-FLV viewer and an RTMP viewer stay connected, get
 * the new sequence headers and keep receiving video with timestamps that never go back. Past the
 * grace, the viewers end as the stream did.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { missingTool } from '../../core/testing/tools.js';
import { startEngine, testConfig, ffmpegPublish, waitForEvent, killHard, httpGet, until, sleep, type EngineHarness } from '../engine-test-kit.js';
import { FlvParser } from '../protocols/flv/flv-parser.js';
import { isSequenceHeader } from '../protocols/flv/flv-tag.js';
import { RtmpClient } from '../servers/rtmp/client.js';

const GRACE = 3000;

/** What a viewer saw of the video: timestamps in order, and when sequence headers came. */
class VideoLog {
  ts: number[] = [];
  headersAt: number[] = [];
  add(timestamp: number, body: Buffer): void {
    if (isSequenceHeader(9, body)) this.headersAt.push(this.ts.length);
    else this.ts.push(timestamp);
  }
  /** Indexes where the timestamp went back. */
  backwards(): number[] {
    const out: number[] = [];
    for (let i = 1; i < this.ts.length; i++) if (this.ts[i]! < this.ts[i - 1]!) out.push(i);
    return out;
  }
}

describe('viewers through an encoder reconnect', { skip: missingTool('ffmpeg') }, () => {
  let h: EngineHarness;
  let ff: ChildProcess | undefined;
  before(async () => {
    h = await startEngine({ config: testConfig({}, {}, { reconnectGrace: GRACE }) });
  });
  after(async () => {
    killHard(ff);
    await h.close();
  });

  it('keeps HTTP-FLV and RTMP viewers through kill -9 and a republish, with new headers and monotonic timestamps', async () => {
    ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`, { seconds: 120, size: '320x240' });
    await waitForEvent(h, 'publish.started');

    const flv = new VideoLog();
    const res = await httpGet(h.httpPort, '/live/room1.flv?token=good');
    assert.equal(res.statusCode, 200);
    let flvClosed = false;
    res.on('close', () => (flvClosed = true));
    const parser = new FlvParser();
    res.on('data', (d: Buffer) => {
      for (const t of parser.push(d)) if (t.type === 9) flv.add(t.timestamp, t.body);
    });
    const rtmp = new VideoLog();
    const player = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    let rtmpClosed = false;
    player.on('close', () => (rtmpClosed = true));
    player.on('message', (m) => void (m.typeId === 9 && rtmp.add(m.timestamp, m.payload)));
    await player.connect('live');
    player.play('room1?token=good');
    // And a player: ffmpeg decoding the HTTP-FLV stream, reporting its frame count.
    const decoder = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-progress', 'pipe:1', '-i', `http://127.0.0.1:${h.httpPort}/live/room1.flv?token=good`, '-f', 'null', '-']);
    let decoded = 0;
    decoder.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/frame=(\d+)/g)) decoded = Number(m[1]);
    });
    assert.ok(await until(() => flv.ts.length > 30 && rtmp.ts.length > 30 && decoded > 10, 10_000), 'the viewers play');

    ff.kill('SIGKILL');
    await waitForEvent(h, 'publish.ended', () => true, 3000);
    const before = { flv: flv.ts.length, rtmp: rtmp.ts.length, decoded };
    await sleep(1000);
    assert.equal(flvClosed || rtmpClosed, false, 'the viewers wait for the publisher');

    h.events.length = 0;
    ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`, { seconds: 120, size: '320x240' });
    await waitForEvent(h, 'publish.started', () => true, 10_000);
    assert.ok(await until(() => flv.ts.length > before.flv + 60 && rtmp.ts.length > before.rtmp + 60, 10_000), 'both viewers get the new video');
    assert.ok(await until(() => decoded > before.decoded + 60, 10_000), `ffmpeg decodes on through the reconnect (${before.decoded} -> ${decoded} frames)`);
    assert.equal(decoder.exitCode, null, 'and stays connected');
    for (const [name, log] of [['HTTP-FLV', flv], ['RTMP', rtmp]] as const) {
      assert.deepEqual(log.backwards(), [], `${name} timestamps never go back`);
      assert.ok(log.headersAt.some((i) => i >= before[name === 'RTMP' ? 'rtmp' : 'flv']), `${name} got the new sequence header`);
    }
    assert.equal(flvClosed || rtmpClosed, false);
    assert.deepEqual(h.events.filter((e) => e.name === 'play.ended'), [], 'nobody left');
    decoder.kill('SIGKILL');

    // A publisher that does not come back within the grace ends the show for its viewers.
    ff.kill('SIGKILL');
    const kill = Date.now();
    const ended = await waitForEvent(h, 'play.ended', (e) => e.reason !== 'closed', GRACE + 3000); // 'closed': the ffmpeg player we stopped
    assert.equal(ended.reason, 'stream-ended');
    assert.ok(Date.now() - kill >= GRACE - 200, 'not before the grace');
    assert.ok(await until(() => flvClosed && rtmpClosed, 3000), 'both connections closed');
    res.destroy();
    player.close();
  });

  it('ends waiting viewers at once when the show is ended (kickPublisher)', async () => {
    ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`, { seconds: 120, size: '320x240' });
    h.events.length = 0;
    await waitForEvent(h, 'publish.started', () => true, 10_000);
    const res = await httpGet(h.httpPort, '/live/room1.flv?token=good');
    res.resume();
    await waitForEvent(h, 'play.started');
    ff.kill('SIGKILL');
    await waitForEvent(h, 'publish.ended', () => true, 3000);
    const t0 = Date.now();
    await h.engine.kickPublisher('room1');
    const ended = await waitForEvent(h, 'play.ended', () => true, 1000);
    assert.equal(ended.reason, 'stream-ended');
    assert.ok(Date.now() - t0 < 1000);
    res.destroy();
  });
});
