/**
 * POST /rooms/{id}/share's share_url is the room's page at the address viewers reach the site at:
 * ONAIR_EDGE_URL when set; else, from ONAIR_TRUSTED_PROXIES only, the forwarded scheme and host;
 * else the request's Host header. It was always http://{ONAIR_PUBLIC_HOST}:{ONAIR_HTTP_PORT}, wrong
 * behind HTTPS or the nginx edge. Both adapter sets.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

async function liveRoom(kit: Kit): Promise<string> {
  const room = await kit.anchorWithRoom();
  const d = await kit.control.hooks.authorizePublish({ app: 'live', streamKey: room.streamKey, query: {}, clientIp: '127.0.0.1' });
  assert.ok(d.allow);
  await kit.control.liveSessions.markLive({ streamName: room.roomId, app: 'live', publisherId: 'p', sessionId: d.sessionId, clientIp: '127.0.0.1', at: Date.now() });
  return room.roomId;
}

for (const set of testAdapterSets()) {
  describe(`share_url names the public address on ${set.name}`, () => {
    const kits: Kit[] = [];
    after(async () => {
      for (const kit of kits) await kit.close();
    });
    const share = async (kit: Kit, roomId: string, auth: { Authorization: string }, headers: Record<string, string>) => {
      const req = kit.http.post(`/api/v1/rooms/${roomId}/share`).set(auth);
      for (const [k, v] of Object.entries(headers)) req.set(k, v);
      const res = await req;
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.share_url as string;
    };

    it('without a proxy: the request\'s Host (its port included); forwarded headers from an untrusted peer are ignored', async () => {
      const kit = await makeKit(set, { publicHost: 'wrong.example' });
      kits.push(kit);
      const roomId = await liveRoom(kit);
      const viewer = await kit.user('viewer');
      assert.equal(await share(kit, roomId, viewer.auth, { Host: 'live.example.com:8443' }), `http://live.example.com:8443/watch/${roomId}`);
      assert.equal(await share(kit, roomId, viewer.auth, { Host: 'live.example.com', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example' }), `http://live.example.com/watch/${roomId}`);
      assert.equal(await share(kit, roomId, viewer.auth, { Host: '[::1]:8080' }), `http://[::1]:8080/watch/${roomId}`);
      // No usable Host: ONAIR_PUBLIC_HOST and the HTTP port, as before.
      assert.equal(await share(kit, roomId, viewer.auth, { Host: 'bad host/x' }), `http://wrong.example:${kit.ports.config.http.port}/watch/${roomId}`);
    });

    it('behind a trusted proxy: its X-Forwarded-Proto and host; ONAIR_EDGE_URL first when set', async () => {
      const kit = await makeKit(set, { http: { trustedProxies: ['127.0.0.1', '::1'] } });
      kits.push(kit);
      const roomId = await liveRoom(kit);
      const viewer = await kit.user('viewer');
      assert.equal(await share(kit, roomId, viewer.auth, { Host: 'live.example.com', 'X-Forwarded-Proto': 'https' }), `https://live.example.com/watch/${roomId}`);
      assert.equal(await share(kit, roomId, viewer.auth, { Host: 'control:8080', 'X-Forwarded-Proto': 'https, http', 'X-Forwarded-Host': 'live.example.com' }), `https://live.example.com/watch/${roomId}`);
      assert.equal(await share(kit, roomId, viewer.auth, { Host: 'live.example.com', 'X-Forwarded-Proto': 'gopher' }), `http://live.example.com/watch/${roomId}`);
      kit.ports.config.edge = { ...kit.ports.config.edge, url: 'https://edge.example.com:8443', secret: 'edge-secret-of-the-share-tests' };
      assert.equal(await share(kit, roomId, viewer.auth, { Host: 'control:8080', 'X-Forwarded-Proto': 'http' }), `https://edge.example.com:8443/watch/${roomId}`);
    });
  });
}
