import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describeObjectStoreContract } from './object-store.contract.js';
import { LocalObjectStore } from './local-object-store.js';
import { ConflictError } from '../errors.js';
import { testObjectStores } from '../testing/test-object-stores.js';

const local = testObjectStores().find((f) => f.name === 'local')!;
describeObjectStoreContract('LocalObjectStore', () => local.make());

describe('LocalObjectStore specifics', () => {
  const fresh = () => {
    const root = mkdtempSync(join(tmpdir(), 'onair-local-'));
    return { root, store: new LocalObjectStore(root) };
  };

  it('serves a file put in the folder by hand, with a type from its extension and an etag from size and mtime', async () => {
    const { root, store } = fresh();
    mkdirSync(join(root, 'manual'));
    writeFileSync(join(root, 'manual', 'clip.mp4'), 'abc');
    const info = await store.stat('manual/clip.mp4');
    assert.equal(info?.contentType, 'video/mp4');
    assert.equal(info?.size, 3);
    assert.match(info!.etag, /^3-[0-9a-f]+$/);
    assert.deepEqual((await store.list('')).items.map((i) => i.key), ['manual/clip.mp4']);
  });

  it('a failed upload leaves no temporary file; a delete leaves no empty folder', async () => {
    const { root, store } = fresh();
    await assert.rejects(store.put('a/b/c.bin', { stream: Readable.from([Buffer.alloc(5)]), size: 6 }));
    assert.deepEqual(readdirSync(join(root, '.tmp')), []);
    await store.put('a/b/c.bin', { bytes: Buffer.alloc(6) });
    await store.put('a/keep.bin', { bytes: Buffer.alloc(1) });
    await store.delete('a/b/c.bin');
    assert.equal(existsSync(join(root, 'a', 'b')), false);
    assert.equal(existsSync(join(root, '.meta', 'a', 'b')), false);
    assert.equal(existsSync(join(root, 'a', 'keep.bin')), true);
  });

  it('takes segments up to the 250 characters the key rule allows (the sidecar adds .json)', async () => {
    const { store } = fresh();
    const k = `long/${'y'.repeat(250)}`;
    await store.put(k, { bytes: Buffer.from('ok') }, { contentType: 'text/plain' });
    assert.equal((await store.stat(k))?.contentType, 'text/plain');
  });

  it('a key cannot also be a folder of other keys (S3 allows it; a filesystem cannot): ConflictError', async () => {
    const { store } = fresh();
    await store.put('x/y', { bytes: Buffer.from('1') });
    await assert.rejects(store.put('x', { bytes: Buffer.from('2') }), ConflictError);
    await assert.rejects(store.put('x/y/z', { bytes: Buffer.from('3') }), ConflictError);
    assert.equal((await store.stat('x/y'))?.size, 1);
  });
});
