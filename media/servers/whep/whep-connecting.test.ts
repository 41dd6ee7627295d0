/**
 * WHEP offers connecting from one client address are capped at ONAIR_MEDIA_PLAYERS_PER_ADDRESS:
 * the engine holds at most 256 offers connecting in all, and before, one client with one play token
 * posted 256 offers that never connect (~4 s) and every other WebRTC viewer got 503 for the 15 s
 * connect timeout, again and again. Behind a trusted proxy, as players-per-address.test.ts (loopback is never capped).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { RtmpClient } from '../rtmp/client.js';
import { startEngine, testConfig, type EngineHarness, TEST_STREAM, TEST_TOKEN } from '../../engine-test-kit.js';

/** An offer with ICE credentials and a fingerprint that nobody will ever complete. */
const fingerprint = Array.from({ length: 32 }, (_, i) => ((i * 7) % 256).toString(16).padStart(2, '0').toUpperCase()).join(':');
const OFFER = [
  'v=0', 'o=- 0 0 IN IP4 0.0.0.0', 's=-', 't=0 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1', 'a=mid:0', 'a=recvonly', 'a=rtcp-mux', 'a=setup:actpass', 'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789012345678901', `a=fingerprint:sha-256 ${fingerprint}`, '',
].join('\r\n');

describe('WHEP offers connecting per client address', () => {
  let h: EngineHarness;
  let pub: RtmpClient;
  before(async () => {
    const config = testConfig({ playersPerAddress: 4, webrtcAudio: false });
    config.http.trustedProxies = ['127.0.0.1']; // the test is the edge: its X-Forwarded-For names the client
    h = await startEngine({ config });
    pub = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await pub.connect('live');
    pub.publish('X');
    await pub.nextStatus();
  });
  after(async () => {
    pub.close();
    await h.close();
  });

  const offer = (client: string) => new Promise<number>((resolve, reject) => {
    const r = request(`http://127.0.0.1:${h.httpPort}/live/${TEST_STREAM}/whep?token=${TEST_TOKEN}`, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp', 'X-Forwarded-For': client },
    }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    r.on('error', reject);
    r.end(OFFER);
  });

  it('one address gets 429 past the cap while its offers connect; another address is still answered', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await offer('203.0.113.9'));
    assert.deepEqual(statuses, [201, 201, 201, 201, 429, 429]);
    assert.equal(await offer('198.51.100.7'), 201, 'a viewer elsewhere is not locked out');
  });
});
