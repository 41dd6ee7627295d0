import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CATCH_UP_SPEEDUP, VideoRtpSink, type RtpOut } from './video-sink.js';

describe('WHEP video sink timing', () => {
  const sender: RtpOut = { send: () => true };

  it('squeezes the start-up burst towards the live edge; live frames keep their time', () => {
    const sink = new VideoRtpSink(sender, { onBFrames() {} }, 10_000);
    // A 2 s GOP cached from 8000 ms: it lasts 2000 / CATCH_UP_SPEEDUP ms on the RTP clock.
    const burst = [8000, 8033, 9000, 9967, 10_000].map((t) => sink.rtpTimestamp(t));
    assert.equal(burst[0], 10_000 * 90 - Math.round((2000 * 90) / CATCH_UP_SPEEDUP));
    assert.equal(burst.at(-1), 10_000 * 90);
    for (let i = 1; i < burst.length; i++) assert.ok(burst[i]! > burst[i - 1]!, 'monotonic');
    assert.equal(sink.rtpTimestamp(10_033), 10_033 * 90);
  });

  it('without a live edge every frame keeps its time, wrapped to 32 bits', () => {
    const sink = new VideoRtpSink(sender, { onBFrames() {} });
    assert.equal(sink.rtpTimestamp(1000), 90_000);
    assert.equal(sink.rtpTimestamp(0xffff_ffff), (0xffff_ffff * 90) % 0x1_0000_0000);
  });
});
