import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import request from 'supertest';
import { testAdapterSets, type ConfigOverrides } from '../../core/testing/test-ports.js';
import { silentLogger } from '../../core/logging/logger.js';
import { cssSign } from '../../core/callbacks/css-signature.js';
import { RedisRateLimits } from '../../core/rate-limit/index.js';
import { createControl } from '../main.js';
import { makeKit, RecordingMediaControl, type Kit } from '../testing/control-kit.js';

/**
 * Issue 9, point 11: no rate limiting anywhere (200 wrong passwords in 16 s and then the right one
 * worked; 50 registrations in 3 s). Real HTTP on 127.0.0.1, real counters (memory, or Redis on the
 * real adapter set, where a second control node shares them).
 */
const PASSWORD = 'lamp post at dawn';

async function kitWith(set: ReturnType<typeof testAdapterSets>[number], rateLimit: Record<string, unknown>, extra: ConfigOverrides = {}): Promise<Kit> {
  return makeKit(set, { rateLimit, ...extra });
}

/** An anchor's room, live (publish authorized and marked live, as the engine would). */
async function liveRoom(kit: Kit): Promise<string> {
  const room = await kit.anchorWithRoom();
  const d = await kit.control.hooks.authorizePublish({ app: 'live', streamKey: room.streamKey, query: {}, clientIp: '127.0.0.1' });
  assert.ok(d.allow);
  await kit.control.liveSessions.markLive({ streamName: room.roomId, app: 'live', publisherId: 'p', sessionId: d.sessionId, clientIp: '127.0.0.1', at: Date.now() });
  return room.roomId;
}

const retryAfter = (res: { headers: Record<string, unknown> }) => Number(res.headers['retry-after']);

for (const set of testAdapterSets()) {
  describe(`rate limits on ${set.name}`, () => {
    const kits: Kit[] = [];
    const make = async (rateLimit: Record<string, unknown>, extra?: ConfigOverrides) => {
      const kit = await kitWith(set, rateLimit, extra);
      kits.push(kit);
      return kit;
    };
    after(async () => {
      for (const k of kits) await k.close();
    });

    it('200 wrong passwords lock the username: the right one is then refused (429) until the lock expires', async () => {
      const kit = await make({ login: 'off', loginFreeFailures: 5, loginLock: '1s', loginLockMax: '3s' });
      await kit.http.post('/api/v1/auth/register').send({ username: 'victim', password: PASSWORD }).expect(201);
      const statuses = new Map<number, number>();
      for (let i = 0; i < 200; i++) {
        const res = await kit.http.post('/api/v1/auth/login').send({ username: 'victim', password: `guess-${i}-xyz` });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 429) {
          assert.equal(res.body.error.code, 'login_locked');
          assert.ok(retryAfter(res) >= 1 && retryAfter(res) <= 3, `Retry-After ${String(res.headers['retry-after'])}`);
        }
      }
      assert.deepEqual([...statuses.keys()].sort(), [401, 429]);
      // Progressive: only a handful of the 200 guesses were even checked against the password.
      assert.ok(statuses.get(401)! <= 20, `${statuses.get(401)} guesses were checked`);

      // Make sure at least a second of lock is left, then the right password is refused too.
      let last = await kit.http.post('/api/v1/auth/login').send({ username: 'victim', password: 'one-more-guess' });
      for (let i = 0; i < 100 && !(last.status === 429 && retryAfter(last) >= 2); i++) {
        await new Promise((r) => setTimeout(r, 100));
        last = await kit.http.post('/api/v1/auth/login').send({ username: 'victim', password: 'one-more-guess' });
      }
      assert.ok(last.status === 429 && retryAfter(last) >= 2, 'the account is locked');
      const refused = await kit.http.post('/api/v1/auth/login').send({ username: 'VICTIM', password: PASSWORD });
      assert.equal(refused.status, 429, 'the right password is refused while locked (whatever the case of the name)');
      assert.equal(refused.body.error.code, 'login_locked');

      await new Promise((r) => setTimeout(r, retryAfter(refused) * 1000 + 200));
      await kit.http.post('/api/v1/auth/login').send({ username: 'victim', password: PASSWORD }).expect(200);
      // A success clears the failures: the next typo is an ordinary 401.
      await kit.http.post('/api/v1/auth/login').send({ username: 'victim', password: 'typo' }).expect(401);

      const metrics = await kit.http.get('/metrics').expect(200);
      assert.match(metrics.text, /onair_rate_limited_total\{limit="login_locked"\} \d+/);
    });

    it('limits login attempts per address, whatever the usernames', async () => {
      const kit = await make({ login: '5/1m' });
      for (let i = 0; i < 5; i++) await kit.http.post('/api/v1/auth/login').send({ username: `nobody${i}`, password: 'whatever-guess' }).expect(401);
      const res = await kit.http.post('/api/v1/auth/login').send({ username: 'nobody9', password: 'whatever-guess' }).expect(429);
      assert.equal(res.body.error.code, 'too_many_logins');
      assert.ok(retryAfter(res) > 50 && retryAfter(res) <= 60);
    });

    it('limits registrations per address (429 with Retry-After)', async () => {
      const kit = await make({ register: '3/1h' });
      for (let i = 0; i < 3; i++) await kit.http.post('/api/v1/auth/register').send({ username: `reg_${i}`, password: PASSWORD }).expect(201);
      const res = await kit.http.post('/api/v1/auth/register').send({ username: 'reg_3', password: PASSWORD }).expect(429);
      assert.equal(res.body.error.code, 'too_many_registrations');
      assert.ok(retryAfter(res) > 3500 && retryAfter(res) <= 3600);
    });

    it('limits play tokens per address', async () => {
      const kit = await make({ playToken: '5/1m' });
      const roomId = await liveRoom(kit);
      for (let i = 0; i < 5; i++) await kit.http.get(`/api/v1/rooms/${roomId}/play-token`).expect(200);
      const res = await kit.http.get(`/api/v1/rooms/${roomId}/play-token`).expect(429);
      assert.equal(res.body.error.code, 'too_many_play_tokens');
    });

    it('counts the play tokens /enter hands out under the same limit (the room page enters, it does not call /play-token)', async () => {
      const kit = await make({ playToken: '5/1m' });
      const roomId = await liveRoom(kit);
      const viewer = await kit.user('viewer');
      for (let i = 0; i < 3; i++) await kit.http.get(`/api/v1/rooms/${roomId}/play-token`).expect(200);
      await kit.http.post(`/api/v1/rooms/${roomId}/enter`).expect(200);
      await kit.http.post(`/api/v1/rooms/${roomId}/enter`).set(viewer.auth).expect(200);
      const res = await kit.http.post(`/api/v1/rooms/${roomId}/enter`).expect(429);
      assert.equal(res.body.error.code, 'too_many_play_tokens');
      await kit.http.get(`/api/v1/rooms/${roomId}/play-token`).expect(429);
    });

    it('limits clip requests per user (each new clip is an ffmpeg run in control), not per address', async () => {
      const kit = await make({ clips: '2/1h' });
      const [a, b] = [await kit.user('viewer'), await kit.user('viewer')];
      for (let i = 0; i < 2; i++) await kit.http.post('/api/v1/replays/999999/clips').set(a.auth).send({ start: 0, duration: 1 }).expect(404);
      const res = await kit.http.post('/api/v1/replays/999999/clips').set(a.auth).send({ start: 0, duration: 1 }).expect(429);
      assert.equal(res.body.error.code, 'too_many_clips');
      assert.ok(retryAfter(res) > 3500 && retryAfter(res) <= 3600);
      // Another user on the same address has their own count.
      await kit.http.post('/api/v1/replays/999999/clips').set(b.auth).send({ start: 0, duration: 1 }).expect(404);
    });

    it('limits reports and shares per user (a report is a row in the operators\' queue, a share counts on the show), not per address', async () => {
      const kit = await make({ reports: '2/1h', shares: '2/1h' });
      const roomId = await liveRoom(kit);
      const [a, b] = [await kit.user('viewer'), await kit.user('viewer')];
      for (let i = 0; i < 2; i++) await kit.http.post(`/api/v1/rooms/${roomId}/reports`).set(a.auth).send({ reason: `spam ${i}` }).expect(201);
      const reports = await kit.http.post(`/api/v1/rooms/${roomId}/reports`).set(a.auth).send({ reason: 'spam again' }).expect(429);
      assert.equal(reports.body.error.code, 'too_many_reports');
      assert.ok(retryAfter(reports) > 3500 && retryAfter(reports) <= 3600);
      await kit.http.post(`/api/v1/rooms/${roomId}/reports`).set(b.auth).send({ reason: 'spam' }).expect(201);

      let shares = 0;
      for (let i = 0; i < 2; i++) shares = (await kit.http.post(`/api/v1/rooms/${roomId}/share`).set(a.auth).expect(200)).body.shares;
      const refused = await kit.http.post(`/api/v1/rooms/${roomId}/share`).set(a.auth).expect(429);
      assert.equal(refused.body.error.code, 'too_many_shares');
      // The refused share did not count; another user's does.
      assert.equal((await kit.http.post(`/api/v1/rooms/${roomId}/share`).set(b.auth).expect(200)).body.shares, shares + 1);
    });

    it('limits the likes of one user in one room (each like raises the room in discovery\'s hot ranking)', async () => {
      const kit = await make({ likes: '150/1m' });
      const roomId = await liveRoom(kit);
      const [a, b] = [await kit.user('viewer'), await kit.user('viewer')];
      await kit.http.post(`/api/v1/rooms/${roomId}/like`).set(a.auth).send({ count: 100 }).expect(200);
      const ok = await kit.http.post(`/api/v1/rooms/${roomId}/like`).set(a.auth).send({ count: 50 }).expect(200);
      assert.equal(ok.body.likes, 150);
      const res = await kit.http.post(`/api/v1/rooms/${roomId}/like`).set(a.auth).send({ count: 1 }).expect(429);
      assert.equal(res.body.error.code, 'too_many_likes');
      assert.ok(retryAfter(res) >= 1 && retryAfter(res) <= 60);
      const other = await kit.http.post(`/api/v1/rooms/${roomId}/like`).set(b.auth).send({ count: 5 }).expect(200);
      assert.equal(other.body.likes, 155, 'the refused like was not counted; another user has their own budget');
    });

    it('blocks a source whose callbacks keep failing verification, on the fast path and the hooks', async () => {
      const key = 'rate-limit-css-key';
      const kit = await make({ receiverRefusals: '5/1m' }, { callbacks: { key } });
      const base = await kit.listen();
      const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const t = Math.floor(Date.now() / 1000) + 60;
      const event = { event_type: 321, stream_id: 'rl', sequence: '1', t };
      // Five refusals a minute are tolerated; the sixth is answered as usual and blocks the source.
      for (let i = 0; i < 6; i++) assert.equal((await post('/api/v1/callback', { ...event, sign: 'forged' })).status, 401);
      // A refusal is counted after its answer went out: give it a moment.
      await new Promise((r) => setTimeout(r, 200));
      const blocked = await post('/api/v1/callback', { ...event, sign: cssSign(key, t) });
      assert.equal(blocked.status, 429, 'even a valid signature waits out the block');
      assert.ok(Number(blocked.headers.get('retry-after')) >= 50);
      assert.equal(((await blocked.json()) as { error: { code: string } }).error.code, 'too_many_refusals');
      assert.equal((await post('/api/v1/hook/on_play', { app: 'live', stream: '1', param: '?token=x' })).status, 429);
      // The rest of the API is not affected.
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    });

    it('never throttles a media server: 1,500 on_play hooks from one address, most of them refused viewers, all answered', async () => {
      const hookSecret = 'hook-secret-0123456789abcdef';
      const kit = await make({ receiverRefusals: '5/1m' }, { hooks: { secret: hookSecret } });
      const base = await kit.listen();
      const roomId = await liveRoom(kit);
      const token = (await kit.http.get(`/api/v1/rooms/${roomId}/play-token`).expect(200)).body.token as string;
      const counts = new Map<number, number>();
      let next = 0;
      const worker = async () => {
        while (next < 1500) {
          const i = next++;
          const res = await fetch(`${base}/api/v1/hook/on_play?secret=${hookSecret}`, {
            method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ action: 'on_play', app: 'live', stream: roomId, ip: `10.0.${i >> 8}.${i & 255}`, client_id: i, param: `?token=${i % 5 === 0 ? token : 'expired'}` }),
          });
          await res.arrayBuffer();
          counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: 20 }, worker));
      assert.equal(counts.get(429) ?? 0, 0, `statuses: ${JSON.stringify([...counts])}`);
      assert.equal(counts.get(200), 300);
      assert.equal(counts.get(403), 1200);
    });

    if (set.name !== 'embedded') {
      it('two control nodes on one Redis share the limits: a lock made on one holds on the other', async () => {
        const kit = await make({ login: 'off', register: '3/1h', loginFreeFailures: 3, loginLock: '30s', loginLockMax: '30s' });
        const otherLimits = new RedisRateLimits({ url: kit.ports.redis!.url, prefix: kit.ports.redis!.prefix });
        const other = createControl({
          config: kit.ports.config, log: silentLogger(), db: kit.ports.db, cache: kit.ports.cache, media: new RecordingMediaControl(),
          metrics: new Registry(), refusalDelayMs: 0, rateLimits: otherLimits,
        });
        try {
          const b = request(other.app);
          await kit.http.post('/api/v1/auth/register').send({ username: 'shared_1', password: PASSWORD }).expect(201);
          await b.post('/api/v1/auth/register').send({ username: 'shared_2', password: PASSWORD }).expect(201);
          await kit.http.post('/api/v1/auth/register').send({ username: 'shared_3', password: PASSWORD }).expect(201);
          assert.equal((await b.post('/api/v1/auth/register').send({ username: 'shared_4', password: PASSWORD })).status, 429);

          for (let i = 0; i < 3; i++) await kit.http.post('/api/v1/auth/login').send({ username: 'shared_1', password: 'bad-guess-1' }).expect(401);
          const res = await b.post('/api/v1/auth/login').send({ username: 'shared_1', password: PASSWORD });
          assert.equal(res.status, 429);
          assert.equal(res.body.error.code, 'login_locked');
        } finally {
          await other.close();
          await otherLimits.close();
        }
      });
    }
  });
}
