/**
 * Sweep (session 7): a signed callback whose fields had the right type but a value the domain event
 * refuses (a negative screenshot width, a negative push_duration, an empty sessionId from media) was
 * answered 200 and then dead-lettered by the consumer: the vendor thought it delivered, the event
 * was never applied. Now the edge either keeps the event (a meaningless optional value dropped or
 * clamped) or refuses it with a 400 the sender sees; nothing it answered 200 to is dead-lettered.
 * Over a real socket to control's request listener (fast path, then express).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cssSign } from '../../core/callbacks/css-signature.js';
import { signMediaCallback } from '../../core/callbacks/media-callback-signature.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

const KEY = 'edge-shapes-callback-key';
const MEDIA_KEY = 'edge-shapes-media-key-0123456789abcdef';
const nowS = () => Math.floor(Date.now() / 1000);

for (const set of testAdapterSets()) {
  describe(`callbacks whose values the domain event refuses, on ${set.name}`, () => {
    let kit: Kit;
    let base: string;
    let op: { auth: { Authorization: string } };
    before(async () => {
      kit = await makeKit(set, { callbacks: { key: KEY, mediaKey: MEDIA_KEY } });
      base = await kit.listen();
      op = await kit.operator();
    });
    after(() => kit.close());

    const css = async (body: Record<string, unknown>) => {
      const t = nowS() + 600;
      const res = await fetch(`${base}/api/v1/callback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, t, sign: cssSign(KEY, t) }) });
      return { status: res.status, body: await res.json() as { error?: { code: string } } };
    };
    const media = async (body: unknown) => {
      const text = JSON.stringify(body);
      const res = await fetch(`${base}/api/v1/callback/media`, { method: 'POST', headers: { 'content-type': 'application/json', ...signMediaCallback(MEDIA_KEY, text) }, body: text });
      return { status: res.status, body: await res.json() as { error?: { code: string } } };
    };
    const dead = async () => (await kit.http.get('/api/v1/admin/callbacks/dead').set(op.auth).expect(200)).body.dead as Array<{ name: string; error: string }>;

    it('a screenshot with a negative width is stored (without the width), not dead-lettered', async () => {
      const a = await kit.anchorWithRoom();
      const shot = await css({ event_type: 200, stream_id: a.roomId, pic_url: `http://cdn.example/${a.roomId}.jpg`, width: -1, height: '-5', create_time: nowS() });
      assert.equal(shot.status, 200);
      const row = await waitFor('the screenshot row', async () => {
        const [r] = await kit.ports.db.sequelize.query('SELECT width, height FROM live_screenshots WHERE room_id = ?', { replacements: [a.roomId], type: 'SELECT' as never }) as unknown as Array<{ width: number | null; height: number | null }>;
        return r;
      }, 10_000);
      assert.equal(row.width, null);
      assert.equal(row.height, null);
      assert.deepEqual((await dead()).map((d) => d.name), []);
    });

    it('a cut-off with a negative or absurd push_duration is applied, not dead-lettered', async () => {
      const a = await kit.anchorWithRoom();
      for (const [i, d] of ['-5', '1e999'].entries()) {
        assert.equal((await css({ event_type: 0, stream_id: a.roomId, sequence: `cut${i}`, push_duration: d, event_time: nowS() })).status, 200);
      }
      // A later good event of the same room is applied after them (the bus keeps a room's order).
      assert.equal((await css({ event_type: 200, stream_id: a.roomId, pic_url: `http://cdn.example/${a.roomId}-b.jpg`, create_time: nowS() })).status, 200);
      await waitFor('the later screenshot', async () => {
        const rows = await kit.ports.db.sequelize.query('SELECT 1 FROM live_screenshots WHERE room_id = ?', { replacements: [a.roomId], type: 'SELECT' as never }) as unknown as unknown[];
        return rows.length > 0 || undefined;
      }, 10_000);
      assert.deepEqual((await dead()).map((d) => d.name), []);
    });

    it('a media callback the domain event refuses (empty sessionId, an end time past any date) is a 400 to media, not a 200 then a dead letter', async () => {
      const a = await kit.anchorWithRoom();
      const ended = { event: 'publish.ended', payload: { streamName: a.roomId, publisherId: 'p1', sessionId: '', at: Date.now(), app: 'live', reason: 'closed', bytesIn: 1, durationMs: 1 } };
      const refused = await media(ended);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error?.code, 'invalid_callback');
      const record = { event: 'record.done', payload: { streamName: a.roomId, publisherId: 'p1', path: '/x.flv', startedAt: 1, endedAt: 1e300, durationMs: 1, size: 1 } };
      assert.equal((await media(record)).status, 400);
      // A good one still passes.
      assert.equal((await media({ ...ended, payload: { ...ended.payload, sessionId: undefined } })).status, 200);
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual((await dead()).map((d) => d.name), []);
    });
  });
}
