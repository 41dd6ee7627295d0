/**
 * WHIP signalling in Node (the media path is tests/e2e/whip-browser.test.ts, Chromium): the
 * publish hook decides from the bearer before any peer, the answer is 201 with a Location and the
 * configured ICE servers as Link headers, and the publish exists as the engine's stream.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { startEngine, testConfig, testHooks, type EngineHarness, type TestHooks, TEST_KEY, TEST_STREAM } from '../../engine-test-kit.js';
import { gathered } from '../whep/peer.js';

async function h264Offer(): Promise<{ pc: RTCPeerConnection; sdp: string }> {
  const pc = new RTCPeerConnection({
    codecs: { video: [new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1' })] },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    bundlePolicy: 'max-bundle',
  });
  pc.addTransceiver('video', { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc, 2000);
  return { pc, sdp: pc.localDescription!.sdp };
}

describe('WHIP signalling', () => {
  let h: EngineHarness;
  let hooks: TestHooks;
  const url = (room = TEST_STREAM) => `http://127.0.0.1:${h.httpPort}/live/${room}/whip`;
  const post = (body: string, headers: Record<string, string>, room?: string) =>
    fetch(url(room), { method: 'POST', headers: { 'Content-Type': 'application/sdp', ...headers }, body });

  before(async () => {
    hooks = testHooks();
    // A STUN and a TURN server that never answer: gathering gives up after its bound (werift is given
    // the STUN server only: a TURN allocation that never completes held the answer forever).
    h = await startEngine({ hooks, config: testConfig({ webrtcIceServers: 'stun:127.0.0.1:9,turn:u:p@127.0.0.1:9' as never }) });
  });
  after(async () => {
    await h?.close();
  });

  it('refuses a missing key (401) and a forged or another room\'s key (403) before any peer; a VP8-only offer (415) before the hook', async () => {
    const { pc, sdp } = await h264Offer();
    try {
      const missing = await post(sdp, {});
      assert.equal(missing.status, 401);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'unauthorized');
      assert.equal((await post(sdp, { Authorization: 'Bearer forged' })).status, 403);
      assert.equal((await post(sdp, { Authorization: `Bearer ${TEST_KEY}` }, 'another-room')).status, 403);
      const asked = hooks.publishes.length;
      const vp8 = sdp.replace(/H264\/90000/g, 'VP8/90000');
      assert.equal((await post(vp8, { Authorization: `Bearer ${TEST_KEY}` })).status, 415);
      assert.equal(hooks.publishes.length, asked, 'the hook was not asked for a VP8 offer');
      assert.equal(h.engine.whip!.size, 0);
      assert.equal(h.engine.streams.size, 0);
    } finally {
      await pc.close();
    }
  });

  it('answers 201 with a Location and the ICE servers as Link headers; the stream exists once the peer connects; DELETE ends it', async () => {
    const { pc, sdp } = await h264Offer();
    try {
      const res = await post(sdp, { Authorization: `Bearer ${TEST_KEY}` });
      assert.equal(res.status, 201, await res.clone().text());
      assert.match(res.headers.get('location') ?? '', /^\/live\/room1\/whip\/[A-Za-z0-9_-]+$/);
      assert.equal(res.headers.get('link'), '<stun:127.0.0.1:9>; rel="ice-server", <turn:127.0.0.1:9>; rel="ice-server"; username="u"; credential="p"; credential-type="password"');
      const answer = await res.text();
      assert.match(answer, /^v=0/);
      // Answered, not yet a publish: the stream begins when ICE and DTLS are up (whip-burst.test.ts).
      assert.equal(h.engine.streams.get(TEST_STREAM), undefined);
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      const deadline = Date.now() + 10_000;
      while (!h.engine.streams.get(TEST_STREAM) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(h.engine.streams.get(TEST_STREAM), 'published once the peer connected');
      assert.equal(h.engine.whip!.size, 1);
      const del = await fetch(`http://127.0.0.1:${h.httpPort}${res.headers.get('location')}`, { method: 'DELETE' });
      assert.equal(del.status, 200);
      assert.equal(h.engine.streams.get(TEST_STREAM), undefined);
      assert.equal(h.engine.whip!.size, 0);
    } finally {
      await pc.close();
    }
  });
});
