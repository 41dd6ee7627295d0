/**
 * A burst of WHIP offers whose peers never connect (many anchors' keys, many client addresses)
 * must not lock a legitimate anchor out. Before, each answered offer was a publish at once: a
 * registry stream with the plugins' work (the frame grabber's ffmpeg, HLS, recording) and its
 * publish.ended 5 s later; against the all-in-one server ~30 such offers made control's publish
 * hook time out for everyone (503 'publish authorization unavailable'), the victim included.
 * Now the publish begins when the peer connects, and the places of a burst are counted while its
 * hooks run, so the excess is refused at once (429/503 with Retry-After), before the hook.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine, testConfig, type EngineHarness } from '../../engine-test-kit.js';
import { NEVER_CONNECTING_WHIP_OFFER } from '../../testing/never-connecting-offer.js';
import type { PublishEnded, PublishRequest, StreamHooks } from '../../../core/media/media-contract.js';
import type { MediaPlugin } from '../../plugin.js';

describe('a burst of WHIP offers that never connect', () => {
  let h: EngineHarness;
  const asked: PublishRequest[] = [];
  /** Streams the plugins were given (each one an ffmpeg for the frame grabber, an HLS muxer...). */
  const pluginPublishes: string[] = [];
  /** Rooms claimed by an allowed publish, as control does: released by publish.started or publish.ended. */
  const claimed = new Set<string>();
  const hooks: StreamHooks = {
    async authorizePublish(req) {
      asked.push(req);
      const room = /^key-([a-z0-9]+)$/.exec(req.streamKey)?.[1];
      if (!room) return { allow: false, reason: 'bad key' };
      if (claimed.has(room)) return { allow: false, reason: 'already_publishing' };
      claimed.add(room);
      return { allow: true, streamName: room, record: false, sessionId: `s-${room}` };
    },
    async authorizePlay() {
      return { allow: false, reason: 'no play here' };
    },
  };
  const plugin: MediaPlugin = {
    name: 'publishes',
    start: (ctx) => void ctx.streams.on('publish', (s) => pluginPublishes.push(s.name)),
    close: async () => {},
  };
  before(async () => {
    const config = testConfig({ playersPerAddress: 4, firstMediaTimeout: 1500 });
    config.http.trustedProxies = ['127.0.0.1']; // the test is the edge: its X-Forwarded-For names the client
    h = await startEngine({ config, hooks, plugins: [plugin] });
    h.engine.on('publish.started', (e) => claimed.delete(e.streamName));
    h.engine.on('publish.ended', (e) => claimed.delete(e.streamName));
  });
  after(async () => {
    await h.close();
  });

  const offer = async (room: string, client: string, body = NEVER_CONNECTING_WHIP_OFFER) => {
    const t0 = performance.now();
    const res = await fetch(`http://127.0.0.1:${h.httpPort}/live/${room}/whip`, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer key-${room}`, 'X-Forwarded-For': client }, body,
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    return { status: res.status, retryAfter: res.headers.get('retry-after'), message: res.status === 201 ? '' : text, ms, location: res.headers.get('location') };
  };
  const settled = async () => {
    const deadline = Date.now() + 10_000;
    while (h.engine.whip!.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(h.engine.whip!.size, 0, 'every unconnected peer was dropped');
  };

  it('40 offers from 40 addresses, then an anchor elsewhere: every one answered, none of them a publish; the anchor gets 201 promptly', async () => {
    const burst = Array.from({ length: 40 }, (_, i) => offer(`b${i}`, `203.0.113.${i + 1}`));
    await new Promise((r) => setTimeout(r, 50));
    const victim = await offer('victim', '198.51.100.7');
    const results = await Promise.all(burst);
    assert.equal(victim.status, 201, victim.message);
    assert.ok(victim.ms < 2500, `the anchor's answer took ${Math.round(victim.ms)} ms`);
    for (const r of results) {
      assert.equal(r.status, 201, r.message);
    }
    // Answered, not published: nothing is live, no plugin started work for a peer that never connected.
    assert.deepEqual(await h.engine.listStreams(), []);
    assert.deepEqual(pluginPublishes, []);
    assert.equal(h.engine.whip!.size, 41);
    await settled();
    // Each allowed publish ends (control releases its claim on the room), none ever started.
    const ended = h.events.filter((e) => e.name === 'publish.ended').map((e) => e.payload as PublishEnded);
    assert.equal(ended.length, 41);
    assert.ok(ended.every((e) => e.reason === 'idle' && e.bytesIn === 0), JSON.stringify(ended[0]));
    assert.equal(h.events.filter((e) => e.name === 'publish.started').length, 0);
    assert.deepEqual(pluginPublishes, []);
  });

  it('an offer DELETEd before its peer connected ends its publish at once: the anchor\'s next offer is not refused as already publishing', async () => {
    const first = await offer('again', '198.51.100.8');
    assert.equal(first.status, 201, first.message);
    assert.equal((await fetch(`http://127.0.0.1:${h.httpPort}${first.location}`, { method: 'DELETE' })).status, 200);
    const ended = h.events.filter((e) => e.name === 'publish.ended').map((e) => e.payload as PublishEnded).filter((e) => e.streamName === 'again');
    assert.deepEqual(ended.map((e) => e.reason), ['unpublished']);
    const retry = await offer('again', '198.51.100.8');
    assert.equal(retry.status, 201, retry.message);
    // An allowed offer the answer cannot take (H.264 without packetization-mode 1): 415, and its end releases the room too.
    const unusable = await offer('mode0', '198.51.100.8', NEVER_CONNECTING_WHIP_OFFER.replace('packetization-mode=1', 'packetization-mode=0'));
    assert.equal(unusable.status, 415, unusable.message);
    const mode0 = h.events.filter((e) => e.name === 'publish.ended').map((e) => e.payload as PublishEnded).filter((e) => e.streamName === 'mode0');
    assert.deepEqual(mode0.map((e) => e.reason), ['error']);
    assert.equal((await offer('mode0', '198.51.100.8')).status, 201);
    await settled();
  });

  it('one address posting 12 offers at once: 4 reach the hook, 8 get 429 with Retry-After before it', async () => {
    const before = asked.length;
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => offer(`one${i}`, '203.0.113.200')));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [...Array(4).fill(201), ...Array(8).fill(429)]);
    for (const r of results.filter((x) => x.status === 429)) {
      assert.equal(r.retryAfter, '2');
      assert.match(r.message, /too_many_publishers/);
    }
    assert.equal(asked.length - before, 4, 'the hook was asked only for the offers that had a place');
    await settled();
  });

  it('70 offers from 70 addresses at once: at most 64 reach the hook, the rest get 503 with Retry-After before it, none a timeout', async () => {
    const before = asked.length;
    const results = await Promise.all(Array.from({ length: 70 }, (_, i) => offer(`m${i}`, `198.18.${Math.floor(i / 200)}.${(i % 200) + 1}`)));
    const ok = results.filter((r) => r.status === 201).length;
    const busy = results.filter((r) => r.status === 503);
    assert.equal(ok + busy.length, 70, `statuses: ${results.map((r) => r.status).join(',')}`);
    assert.equal(ok, 64);
    for (const r of busy) {
      assert.equal(r.retryAfter, '2');
      assert.match(r.message, /too many WebRTC publishers connecting/);
      assert.doesNotMatch(r.message, /authorization unavailable/);
    }
    assert.equal(asked.length - before, 64, 'the hook was asked only for the offers that had a place');
    assert.deepEqual(pluginPublishes, []);
    await settled();
  });
});
