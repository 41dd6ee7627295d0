import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseS3Url, S3Target } from '../config/s3-url.js';
import { LocalObjectStore } from '../object-store/local-object-store.js';
import { MinioObjectStore } from '../object-store/minio-object-store.js';
import type { ObjectStore } from '../object-store/object-store.port.js';
import { startTestS3Server, type TestS3Server } from './s3-test-server.js';

/**
 * Object stores for tests, both adapters, always: a LocalObjectStore in a temporary folder, and a
 * MinioObjectStore against s3rver on loopback (s3-test-server.ts; a fresh bucket per make()), or
 * against the S3/MinIO that ONAIR_TEST_S3_URL names (a fresh key prefix per make()).
 *
 *   const factories = testObjectStores();
 *   after(() => Promise.all(factories.map((f) => f.close())));
 *   for (const f of factories) describe(`replays on ${f.name}`, () => { ... const { store } = await f.make() ... });
 */
export interface TestObjectStore {
  store: ObjectStore;
  /** The s3rver behind a MinIO store (absent for local, or with ONAIR_TEST_S3_URL). */
  s3?: TestS3Server;
  /** Closes the store and removes what it stored. */
  close(): Promise<void>;
}

export interface TestObjectStoreFactory {
  name: 'local' | 'minio';
  /** `partSize`: the multipart part size (MinIO; at least 5 MiB); tests use 5 MiB to reach the multipart path with small files. */
  make(options?: { partSize?: number }): Promise<TestObjectStore>;
  /** Stops the factory's s3rver, if it started one. */
  close(): Promise<void>;
}

export function testObjectStores(): TestObjectStoreFactory[] {
  return [localFactory(), minioFactory(process.env.ONAIR_TEST_S3_URL || undefined)];
}

function localFactory(): TestObjectStoreFactory {
  return {
    name: 'local',
    async make() {
      const dir = mkdtempSync(join(tmpdir(), 'onair-objects-'));
      const store = new LocalObjectStore(dir);
      return {
        store,
        async close() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    async close() {},
  };
}

function minioFactory(realUrl: string | undefined): TestObjectStoreFactory {
  let server: Promise<TestS3Server> | undefined;
  return {
    name: 'minio',
    async make(options = {}) {
      const query = options.partSize ? `partSize=${options.partSize}` : '';
      let target: S3Target;
      let s3: TestS3Server | undefined;
      if (realUrl) {
        const base = parseS3Url(realUrl);
        target = new S3Target(base.endPoint, base.port, base.useSSL, base.accessKey, base.secretKey, base.bucket,
          `${base.prefix}onair-test-${randomBytes(5).toString('hex')}/`, base.region, options.partSize ?? base.partSize, base.publicEndpoint);
      } else {
        server ??= startTestS3Server();
        s3 = await server;
        target = parseS3Url(s3.url(`t-${randomBytes(6).toString('hex')}`, query));
      }
      const store = new MinioObjectStore({ target });
      return {
        store,
        s3,
        async close() {
          // A real server keeps what tests stored: remove it (a page at a time, bounded).
          if (realUrl) {
            for (let page = 0; page < 100; page++) {
              const { items, next } = await store.list('');
              for (const item of items) await store.delete(item.key);
              if (!next) break;
            }
          }
          await store.close();
        },
      };
    },
    async close() {
      if (server) await (await server).close();
      server = undefined;
    },
  };
}
