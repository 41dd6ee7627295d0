import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { testAdapterSets, type TestPorts } from '../../core/testing/test-ports.js';
import { missingTool } from '../../core/testing/tools.js';
import { startRedisServer, type TestRedisServer } from '../../core/testing/redis-server.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { RedisCache } from '../../core/cache/redis-cache.js';
import { RedisStreamEventBus } from '../../core/event-bus/redis-stream-event-bus.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import { silentLogger } from '../../core/logging/logger.js';
import { cssSign } from '../../core/callbacks/css-signature.js';
import { createControl, type Control } from '../main.js';
import { RecordingMediaControl } from '../testing/control-kit.js';

/**
 * Redis goes away under a running control (killed: connections reset; frozen: connections open,
 * nothing answers). Requests that need it must fail fast with 503 and a clear code, never hang,
 * and everything must recover by itself when Redis is back. The bound below is a correctness
 * bound (the command timeout plus slack on a noisy machine), not a benchmark.
 */
const FAST_MS = 1500;
const CALLBACK_KEY = 'outage-callback-key';

const skip = missingTool('redis-server', '--version');

for (const set of testAdapterSets()) {
  describe(`a Redis outage on ${set.name}`, { skip }, () => {
    let redis: TestRedisServer;
    let ports: TestPorts;
    let cache: RedisCache;
    let bus: RedisStreamEventBus<BusEvents>;
    let control: Control;
    let server: Server;
    let base: string;
    let roomId: string;

    const call = async (method: string, path: string, body?: unknown, token?: string) => {
      const started = Date.now();
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      let json: any = text;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status, body: json, ms: Date.now() - started };
    };
    const callback = () => {
      const t = Math.floor(Date.now() / 1000) + 60;
      return call('POST', '/api/v1/callback', { event_type: 321, stream_id: 'outage', sequence: String(Date.now()), t, sign: cssSign(CALLBACK_KEY, t) });
    };

    /** While Redis is away: each request that needs it is a quick 503 with a code naming the cause. */
    const assertFailsFast = async () => {
      for (let i = 0; i < 3; i++) {
        const room = await call('GET', `/api/v1/rooms/${roomId}`);
        assert.equal(room.status, 503, `GET /rooms/:id during the outage: ${JSON.stringify(room.body)}`);
        assert.equal(room.body.error.code, 'cache_unavailable');
        assert.ok(room.ms < FAST_MS, `GET /rooms/:id answered after ${room.ms} ms`);
        const cb = await callback();
        assert.equal(cb.status, 503, `POST /callback during the outage: ${JSON.stringify(cb.body)}`);
        assert.equal(cb.body.error.code, 'bus_unavailable');
        assert.ok(cb.ms < FAST_MS, `POST /callback answered after ${cb.ms} ms`);
      }
      const health = await call('GET', '/healthz');
      assert.equal(health.status, 503);
      assert.equal(health.body.checks.cache, 'down');
      assert.ok(health.ms < FAST_MS, `/healthz answered after ${health.ms} ms`);
    };
    const assertRecovers = async () => {
      await waitFor('GET /rooms/:id to answer 200 again', async () => (await call('GET', `/api/v1/rooms/${roomId}`)).status === 200, 15_000, 100);
      await waitFor('POST /callback to answer 200 again', async () => (await callback()).status === 200, 15_000, 100);
      assert.equal((await call('GET', '/healthz')).status, 200);
    };

    before(async () => {
      redis = await startRedisServer();
      ports = await set.make({ callbacks: { key: CALLBACK_KEY } });
      cache = new RedisCache({ url: redis.url, prefix: 'outage:' });
      await cache.ping();
      bus = new RedisStreamEventBus<BusEvents>({ url: redis.url, prefix: 'outage:' });
      control = createControl({
        config: ports.config, log: silentLogger(), db: ports.db, cache, bus, media: new RecordingMediaControl(), metrics: new Registry(), refusalDelayMs: 0,
      });
      await control.bootstrap();
      server = createServer((req, res) => control.handle(req, res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const password = 'outage-test-password';
      assert.equal((await call('POST', '/api/v1/auth/register', { username: 'outage_anchor', password, role: 'anchor' })).status, 201);
      const token = (await call('POST', '/api/v1/auth/login', { username: 'outage_anchor', password })).body.token as string;
      const room = await call('POST', '/api/v1/rooms', { title: 'outage' }, token);
      assert.equal(room.status, 201);
      roomId = room.body.id as string;
      assert.equal((await call('GET', `/api/v1/rooms/${roomId}`)).status, 200);
      assert.equal((await callback()).status, 200);
    });
    after(async () => {
      redis?.thaw();
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      await control?.close();
      await bus?.close();
      await cache?.close();
      await ports?.close();
      await redis?.stop();
    });

    it('answers 503 cache_unavailable / bus_unavailable at once while Redis is killed, and recovers when it restarts', async () => {
      await redis.kill();
      await assertFailsFast();
      await redis.restart();
      await assertRecovers();
    });

    it('does the same while Redis hangs (process stopped, connections open), and recovers when it resumes', async () => {
      redis.freeze();
      try {
        await assertFailsFast();
      } finally {
        redis.thaw();
      }
      await assertRecovers();
    });
  });
}
