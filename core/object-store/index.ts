import { join } from 'node:path';
import type { Logger } from '../logging/logger.js';
import type { S3Target } from '../config/s3-url.js';
import type { ObjectStore } from './object-store.port.js';
import { LocalObjectStore } from './local-object-store.js';

export type * from './object-store.port.js';
export { LocalObjectStore } from './local-object-store.js';
export { assertSafeKey, assertSafePrefix } from './object-key.js';
export { sendObject, parseRange, type SendObjectOptions } from './serve-object.js';
// MinioObjectStore is not re-exported here: import it from './minio-object-store.js' where needed.

export interface CreateObjectStoreConfig {
  dataDir: string;
  /** config.s3: the parsed ONAIR_S3_URL, or nothing for the local folder. */
  s3: { target?: S3Target };
}

/**
 * S3/MinIO when ONAIR_S3_URL is set, the folder DATA_DIR/objects otherwise. The minio client is
 * loaded only in the first case: it adds about 30 MB to a process that never uses it.
 */
export async function createObjectStore(config: CreateObjectStoreConfig, log?: Logger): Promise<ObjectStore> {
  const target = config.s3.target;
  if (target) {
    const { MinioObjectStore } = await import('./minio-object-store.js');
    log?.info({ objectStore: target.describe() }, 'object storage on S3');
    return new MinioObjectStore({ target, log });
  }
  return new LocalObjectStore(join(config.dataDir, 'objects'));
}
