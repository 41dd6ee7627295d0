import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemoryPubSub, MemoryPubSubHub } from '../pubsub/memory-pubsub.js';
import { RedisPubSub } from '../pubsub/redis-pubsub.js';
import type { PubSub } from '../pubsub/pubsub.port.js';
import { requireEnv } from './test-bus.js';

/**
 * Pub/sub for tests, on every adapter this machine has: MemoryPubSub always, RedisPubSub when
 * ONAIR_TEST_REDIS_URL is set (required under ONAIR_STRICT=1). A cluster's nodes share one broker
 * (one hub, or one Redis under a prefix of their own), so a test can put two "control nodes" on it:
 *
 *   for (const make of testPubSubs()) describe(`chat on ${make.name}`, () => { ... await make.cluster() ... });
 */
export interface TestPubSubCluster {
  /** A new node (one control process) on this cluster's broker. */
  node(): Promise<PubSub>;
  /** How many nodes receive `channel` (Redis: PUBSUB NUMSUB). */
  numSub(channel: string): Promise<number>;
  /** Redis only: a node on this cluster's broker reached through `url` (a TCP proxy the test can cut). */
  nodeVia?(url: string): Promise<PubSub>;
  /** Redis only: kills every connection of this cluster's nodes (CLIENT KILL), as a network blip would. */
  dropConnections?(): Promise<void>;
  /** Closes every node and deletes the cluster's Redis keys. */
  close(): Promise<void>;
}

export interface TestPubSubFactory {
  name: 'memory' | 'redis';
  cluster(options?: { historySize?: number; historyTtlMs?: number }): Promise<TestPubSubCluster>;
}

export function testPubSubs(): TestPubSubFactory[] {
  const factories: TestPubSubFactory[] = [{ name: 'memory', cluster: async (options) => memoryCluster(options) }];
  const url = requireEnv('ONAIR_TEST_REDIS_URL');
  if (url) factories.push({ name: 'redis', cluster: async (options) => redisCluster(url, options) });
  return factories;
}

function memoryCluster(options: { historySize?: number; historyTtlMs?: number } = {}): TestPubSubCluster {
  const hub = new MemoryPubSubHub(options);
  const nodes: PubSub[] = [];
  return {
    async node() {
      const node = new MemoryPubSub({ hub });
      nodes.push(node);
      return node;
    },
    async numSub(channel) {
      return hub.numSub(channel);
    },
    async close() {
      for (const node of nodes) await node.close();
    },
  };
}

function redisCluster(url: string, options: { historySize?: number; historyTtlMs?: number } = {}): TestPubSubCluster {
  const prefix = `onair-test:${randomBytes(5).toString('hex')}:`;
  const nodes: RedisPubSub[] = [];
  // A connection of the test's own for NUMSUB, CLIENT LIST/KILL and the cleanup; never a node's.
  const admin = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  return {
    async node() {
      const node = new RedisPubSub({ url, prefix, ...options });
      nodes.push(node);
      return node;
    },
    async nodeVia(via) {
      const node = new RedisPubSub({ url: via, prefix, ...options });
      nodes.push(node);
      return node;
    },
    async numSub(channel) {
      const reply = (await admin.call('PUBSUB', 'NUMSUB', prefix + channel)) as [string, number];
      return Number(reply[1]);
    },
    async dropConnections() {
      // Connection names start with the prefix (RedisPubSub names them), so only this cluster's connections die.
      const namePrefix = prefix.replace(/[^\w:.-]/g, '_');
      const list = (await admin.call('CLIENT', 'LIST')) as string;
      const ids = list.split('\n')
        .map((line) => Object.fromEntries(line.trim().split(' ').map((kv) => kv.split('=') as [string, string])))
        .filter((c) => c.name?.startsWith(namePrefix) && c.id)
        .map((c) => c.id as string);
      if (ids.length === 0) throw new Error('no connection of this cluster to kill');
      for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
    },
    async close() {
      for (const node of nodes) await node.close();
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        if (keys.length) await admin.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await admin.quit().catch(() => admin.disconnect());
    },
  };
}
