import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseS3Url, DEFAULT_PART_SIZE } from './s3-url.js';
import { loadConfig } from './load.js';
import { ValidationError } from '../errors.js';

const SECRET = 'sup3r/secret+key';
const enc = encodeURIComponent(SECRET);

describe('parseS3Url', () => {
  it('reads the forms README documents', () => {
    const compose = parseS3Url('http://onair:onair-secret@minio:9000/onair');
    assert.deepEqual(
      { e: compose.endPoint, p: compose.port, ssl: compose.useSSL, a: compose.accessKey, s: compose.secretKey, b: compose.bucket, pre: compose.prefix, r: compose.region, ps: compose.partSize },
      { e: 'minio', p: 9000, ssl: false, a: 'onair', s: 'onair-secret', b: 'onair', pre: '', r: 'us-east-1', ps: DEFAULT_PART_SIZE },
    );
    const s3 = parseS3Url(`s3://AKIA:${enc}@s3.example.com/media-bucket/replays/v1/?region=eu-west-1&partSize=64MiB&publicUrl=https://cdn.example.com`);
    assert.equal(s3.useSSL, true);
    assert.equal(s3.port, 443);
    assert.equal(s3.secretKey, SECRET);
    assert.equal(s3.prefix, 'replays/v1/');
    assert.equal(s3.region, 'eu-west-1');
    assert.equal(s3.partSize, 64 * 1024 * 1024);
    assert.deepEqual(s3.publicEndpoint, { endPoint: 'cdn.example.com', port: 443, useSSL: true });
    const plain = parseS3Url('s3://k:s@127.0.0.1:9000/b0b?ssl=false&partSize=5242880');
    assert.equal(plain.useSSL, false);
    assert.equal(plain.port, 9000);
    assert.equal(plain.partSize, 5 * 1024 * 1024);
    assert.equal(parseS3Url('https://k:s@host/bucket').port, 443);
  });

  it('refuses bad URLs with messages that never contain the secret', () => {
    const bad = [
      'not a url', `ftp://k:${enc}@h/b`, `http://h:9000/bucket`, `http://k@h/bucket`, `http://k:${enc}@h/`,
      `http://k:${enc}@h/Bucket_Upper`, `http://k:${enc}@h/ab`, `http://k:${enc}@h/bucket/../x`, `http://k:${enc}@h/bucket/.hidden`,
      `http://k:${enc}@h/bucket?regoin=us-east-1`, `http://k:${enc}@h/bucket?ssl=false`, `s3://k:${enc}@h/bucket?ssl=maybe`,
      `http://k:${enc}@h/bucket?partSize=1MiB`, `http://k:${enc}@h/bucket?partSize=lots`, `http://k:${enc}@h/bucket?publicUrl=ftp://x`,
      `http://k:${enc}@h/bucket?publicUrl=https://cdn/path`, `http://k:${enc}@h/bucket?region=US EAST`,
    ];
    for (const url of bad) {
      assert.throws(() => parseS3Url(url), (err: Error) => {
        assert.ok(err instanceof TypeError, url);
        assert.ok(!err.message.includes('sup3r') && !err.message.includes(enc), `leaks the secret: ${err.message}`);
        return true;
      }, url);
    }
  });

  it('prints and serialises without the secret', () => {
    const t = parseS3Url(`http://AK:${enc}@minio:9000/onair/p`);
    for (const shown of [JSON.stringify(t), inspect(t), String(inspect({ nested: { t } })), t.describe()]) {
      assert.ok(!shown.includes('sup3r'), shown);
    }
    assert.match(t.describe(), /^http:\/\/minio:9000\/onair\/p\/$/);
  });
});

describe('ONAIR_S3_URL in the configuration', () => {
  const dataDir = () => mkdtempSync(join(tmpdir(), 'onair-s3cfg-'));

  it('is parsed into config.s3.target, and absent by default (the local folder)', () => {
    assert.deepEqual(loadConfig({ ONAIR_DATA_DIR: dataDir() }).s3, { url: undefined, target: undefined });
    const config = loadConfig({ ONAIR_DATA_DIR: dataDir(), ONAIR_S3_URL: 'http://onair:onair-secret@minio:9000/onair' });
    assert.equal(config.s3.target?.bucket, 'onair');
  });

  it('a bad URL fails startup naming the variable, not the secret', () => {
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: dataDir(), ONAIR_S3_URL: `http://k:${enc}@minio:9000/` }), (err: Error) => {
      assert.ok(err instanceof ValidationError);
      assert.match(err.message, /'s3\.url' \(ONAIR_S3_URL\): the path must start with a bucket name/);
      assert.ok(!err.message.includes('sup3r'));
      return true;
    });
  });
});
