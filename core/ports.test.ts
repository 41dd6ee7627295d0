import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openPorts } from './ports.js';
import { testConfig } from './testing/test-ports.js';
import { silentLogger } from './logging/logger.js';
import { InvalidStateError } from './errors.js';
import { MemoryPubSub } from './pubsub/memory-pubsub.js';
import { RedisPubSub } from './pubsub/redis-pubsub.js';
import { LocalObjectStore } from './object-store/local-object-store.js';
import { MinioObjectStore } from './object-store/minio-object-store.js';
import { requireEnv } from './testing/test-bus.js';
import { startTestS3Server } from './testing/s3-test-server.js';
import { waitFor } from './testing/wait-for.js';
import type { Delivery } from './pubsub/pubsub.port.js';

describe('openPorts', () => {
  it('embedded: in-process pub/sub and the folder DATA_DIR/objects; close() closes them', async () => {
    const config = testConfig();
    const ports = await openPorts(config, silentLogger());
    assert.ok(ports.pubsub instanceof MemoryPubSub);
    assert.ok(ports.objects instanceof LocalObjectStore);
    await ports.objects.put('posters/1.jpg', { bytes: Buffer.from('jpeg') });
    assert.ok(existsSync(join(config.dataDir, 'objects', 'posters', '1.jpg')));
    const got: Delivery[] = [];
    await ports.pubsub.subscribe('room:1', (d) => void got.push(d));
    await ports.pubsub.publish('room:1', { hello: 'room' });
    await waitFor('delivery', () => got.length === 1);
    await ports.close();
    await assert.rejects(ports.pubsub.publish('room:1', 1), InvalidStateError);
    await assert.rejects(ports.objects.stat('posters/1.jpg'), InvalidStateError);
  });

  const redisUrl = requireEnv('ONAIR_TEST_REDIS_URL');
  if (redisUrl) {
    const s3 = startTestS3Server();
    after(async () => (await s3).close());

    it('cluster: Redis pub/sub across two nodes, and MinIO from ONAIR_S3_URL', async () => {
      const s3Url = (await s3).url(`ports-${randomBytes(4).toString('hex')}`);
      const [a, b] = await Promise.all([1, 2].map(() => openPorts(testConfig({ redis: { url: redisUrl }, s3: { url: s3Url } }), silentLogger())));
      assert.ok(a!.pubsub instanceof RedisPubSub);
      assert.ok(a!.objects instanceof MinioObjectStore);
      const channel = `room:ports-test-${randomBytes(6).toString('hex')}`;
      const got: Delivery[] = [];
      await b!.pubsub.subscribe(channel, (d) => void got.push(d));
      await a!.pubsub.publish(channel, 'from node a');
      await waitFor('node b hears node a', () => got.length === 1);
      await a!.objects.put('rec/x.mp4', { bytes: Buffer.from('mp4') });
      assert.equal((await b!.objects.stat('rec/x.mp4'))?.size, 3);
      assert.ok(await b!.objects.presignGet('rec/x.mp4', { expiresInMs: 60_000 }));
      await a!.close();
      await b!.close();
    });

    it('cluster: rate limits count per ONAIR_REDIS_PREFIX, so two deployments on one Redis never share a limit', async () => {
      const id = randomBytes(4).toString('hex');
      const open = (prefix: string) => openPorts(testConfig({ redis: { url: redisUrl, prefix } }), silentLogger());
      const [a, sameDeployment, other] = await Promise.all([open(`onair:t:${id}:a:`), open(`onair:t:${id}:a:`), open(`onair:t:${id}:b:`)]);
      const options = { points: 2, durationMs: 60_000 };
      for (let i = 0; i < 2; i++) assert.equal((await a!.rateLimits.counter('register', options).consume('127.0.0.1')).allowed, true);
      assert.equal((await sameDeployment!.rateLimits.counter('register', options).consume('127.0.0.1')).allowed, false, 'nodes of one deployment share the count');
      assert.equal((await other!.rateLimits.counter('register', options).consume('127.0.0.1')).allowed, true, 'another prefix counts apart');
      await Promise.all([a!.close(), sameDeployment!.close(), other!.close()]);
    });
  }
});
