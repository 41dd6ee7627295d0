/**
 * Interop with GStreamer (gst-launch-1.0): rtmp2sink and rtmpsink (librtmp) publishers stop
 * cleanly, and rtmp2src plays. rtmp2sink used to fail every stop with "connection closed
 * remotely": the server dropped the socket on FCUnpublish/deleteStream instead of answering
 * NetStream.Unpublish.Success and letting the client close, as nginx-rtmp does.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { missingTool } from '../../../core/testing/tools.js';
import { startEngine, ffmpegPublish, waitForEvent, killHard, type EngineHarness } from '../../engine-test-kit.js';

const skip = missingTool('gst-launch-1.0', '--version') || missingTool('ffmpeg');

/** Runs gst-launch-1.0 to its end (bounded): exit code and everything it printed. */
function gstLaunch(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn('gst-launch-1.0', ['-e', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

/** Three seconds of H.264 + AAC test media, muxed to FLV, into `sink`. */
const publishPipeline = (sink: string[]) => [
  'videotestsrc', 'num-buffers=90', 'is-live=true', '!', 'video/x-raw,width=320,height=240,framerate=30/1', '!',
  'x264enc', 'tune=zerolatency', 'key-int-max=30', 'speed-preset=ultrafast', '!', 'h264parse', '!',
  'flvmux', 'streamable=true', 'name=m', '!', ...sink,
  'audiotestsrc', 'num-buffers=130', 'is-live=true', '!', 'avenc_aac', '!', 'aacparse', '!', 'm.',
];

describe('GStreamer interop', { skip }, () => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngine();
  });
  after(() => h.close());

  for (const [name, sink] of [
    ['rtmp2sink', (port: number) => ['rtmp2sink', `location=rtmp://127.0.0.1:${port}/live/X`]],
    ['rtmpsink (librtmp)', (port: number) => ['rtmpsink', `location=rtmp://127.0.0.1:${port}/live/X live=1`]],
  ] as const) {
    it(`takes a ${name} publish and lets it stop without an error`, async () => {
      h.events.length = 0;
      const res = await gstLaunch(publishPipeline(sink(h.rtmpPort)));
      assert.doesNotMatch(res.out, /ERROR|closed remotely/, res.out);
      assert.equal(res.code, 0, res.out);
      const started = await waitForEvent(h, 'publish.started', () => true, 1000);
      assert.equal(started.video?.codec, 'H264');
      assert.equal(started.audio?.codec, 'AAC');
      const ended = await waitForEvent(h, 'publish.ended', () => true, 3000);
      assert.equal(ended.reason, 'unpublished');
      assert.ok(ended.bytesIn > 10_000, `${ended.bytesIn} bytes in`);
    });
  }

  it('plays to rtmp2src: H.264 decodes from the stream, and the player stops cleanly', async () => {
    h.events.length = 0;
    const ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`, { seconds: 60, size: '320x240' });
    try {
      await waitForEvent(h, 'publish.started', (e) => e.streamName === 'room1', 15_000);
      const res = await gstLaunch([
        'rtmp2src', `location=rtmp://127.0.0.1:${h.rtmpPort}/live/room1?token=good`, '!', 'flvdemux', 'name=d',
        'd.video', '!', 'queue', '!', 'h264parse', '!', 'avdec_h264', '!', 'fakesink', 'num-buffers=45', 'sync=false',
      ]);
      assert.doesNotMatch(res.out, /ERROR/, res.out);
      assert.equal(res.code, 0, res.out);
      const ended = await waitForEvent(h, 'play.ended', (e) => e.protocol === 'rtmp', 6000);
      assert.equal(ended.reason, 'closed');
      assert.ok(ended.bytesOut > 10_000);
    } finally {
      killHard(ff);
    }
  });
});
