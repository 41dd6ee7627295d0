/**
 * WHIP publishers connecting from one client address are capped at ONAIR_MEDIA_PLAYERS_PER_ADDRESS
 * (AddressSlots, as WHEP's offers): the engine holds at most 64 publishers connecting in all, and
 * before, one anchor with many rooms posted offers that never connect and every other anchor got 503.
 * Behind a trusted proxy, as whep-connecting.test.ts (loopback is never capped).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine, testConfig, type EngineHarness } from '../../engine-test-kit.js';
import { NEVER_CONNECTING_WHIP_OFFER } from '../../testing/never-connecting-offer.js';
import type { PublishRequest, StreamHooks } from '../../../core/media/media-contract.js';

describe('WHIP publishers connecting per client address', () => {
  let h: EngineHarness;
  const publishes: PublishRequest[] = [];
  /** The key "key-{room}" publishes room {room}: one anchor with many rooms. */
  const hooks: StreamHooks = {
    async authorizePublish(req) {
      publishes.push(req);
      const room = /^key-([a-z0-9]+)$/.exec(req.streamKey)?.[1];
      return room ? { allow: true, streamName: room, record: false, sessionId: `s-${room}` } : { allow: false, reason: 'bad key' };
    },
    async authorizePlay() {
      return { allow: false, reason: 'no play here' };
    },
  };
  before(async () => {
    const config = testConfig({ playersPerAddress: 4, firstMediaTimeout: 30_000 });
    config.http.trustedProxies = ['127.0.0.1']; // the test is the edge: its X-Forwarded-For names the client
    h = await startEngine({ config, hooks });
  });
  after(async () => {
    await h.close();
  });

  const offer = async (room: string, client: string, key = `key-${room}`) => {
    const res = await fetch(`http://127.0.0.1:${h.httpPort}/live/${room}/whip`, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${key}`, 'X-Forwarded-For': client }, body: NEVER_CONNECTING_WHIP_OFFER,
    });
    const body = res.status === 201 ? undefined : ((await res.json()) as { error: { code: string; message: string } }).error;
    return { status: res.status, body, location: res.headers.get('location') };
  };

  it('one address gets 429 too_many_publishers past the cap, before the hook; another anchor is still answered; a refused key holds nothing', async () => {
    assert.equal((await offer('r0', '203.0.113.9', 'forged')).status, 403);
    const answered = [];
    for (let i = 1; i <= 4; i++) answered.push(await offer(`r${i}`, '203.0.113.9'));
    assert.deepEqual(answered.map((a) => a.status), [201, 201, 201, 201], 'the refused offer took no place');
    const asked = publishes.length;
    const refused = await offer('r5', '203.0.113.9');
    assert.equal(refused.status, 429);
    assert.equal(refused.body?.code, 'too_many_publishers');
    assert.match(refused.body?.message ?? '', /too many WebRTC publishers connecting from your address/);
    assert.equal(publishes.length, asked, 'the publish hook was not asked');
    assert.equal(publishes[0]!.clientIp, '203.0.113.9', 'the hook is told the client behind the proxy');
    assert.equal((await offer('other', '198.51.100.7')).status, 201, 'an anchor elsewhere is not locked out');
    // A publisher that ends (here before it connected: DELETE) gives its place back.
    assert.equal((await fetch(`http://127.0.0.1:${h.httpPort}${answered[0]!.location}`, { method: 'DELETE' })).status, 200);
    assert.equal((await offer('r6', '203.0.113.9')).status, 201);
  });
});
