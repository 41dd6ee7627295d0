import { inspect } from 'node:util';

/**
 * ONAIR_S3_URL, parsed once at startup. The forms:
 *
 *   http://ACCESS_KEY:SECRET_KEY@host:9000/bucket            plain HTTP (MinIO on a private network)
 *   https://ACCESS_KEY:SECRET_KEY@s3.example.com/bucket/prefix
 *   s3://ACCESS_KEY:SECRET_KEY@host:9000/bucket?ssl=false    s3:// is https:// unless ssl=false
 *
 * Query parameters: region (default us-east-1; set it and no request is needed to sign URLs),
 * partSize (multipart part size, bytes or 16MiB / 1GiB; 5MiB..5GiB, default 16MiB), partConcurrency
 * (parts of one upload in flight at once, 1..32, default 4: memory per upload is about
 * partSize x partConcurrency), publicUrl
 * (http(s)://host[:port] that clients reach the store at, when it differs from the address onair
 * uses: presigned URLs are signed for that host), ssl (s3:// only). Key and secret are
 * percent-encoded like any URL userinfo (a '/' in a secret is %2F). An unknown parameter is an
 * error, so a typo does not silently fall back to a default.
 *
 * Error messages never repeat the URL (it holds the secret), and an S3Target prints and
 * serialises without the secret key (pino, JSON.stringify, console.log, util.inspect).
 */

export interface S3Endpoint {
  endPoint: string;
  port: number;
  useSSL: boolean;
}

const MiB = 1024 * 1024;
export const DEFAULT_PART_SIZE = 16 * MiB;
/**
 * Four parts in flight by default: parts are retried on resets and stalls (minio-object-store.ts),
 * and 4 beat 1 in every back-to-back 60-minute bench:transcode run against s3rver (docs/benchmarks.md).
 */
export const DEFAULT_PART_CONCURRENCY = 4;
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * 1024 * MiB;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9!_'()*-][A-Za-z0-9!_.'()*-]*$/;
const KNOWN_PARAMS = new Set(['region', 'partSize', 'partConcurrency', 'publicUrl', 'ssl']);

export class S3Target implements S3Endpoint {
  readonly #secretKey: string;

  constructor(
    readonly endPoint: string,
    readonly port: number,
    readonly useSSL: boolean,
    readonly accessKey: string,
    secretKey: string,
    readonly bucket: string,
    /** '' or a path ending in '/', prepended to every object key. */
    readonly prefix: string,
    readonly region: string,
    readonly partSize: number,
    readonly publicEndpoint: S3Endpoint | undefined,
    /** Parts of one multipart upload sent at once. */
    readonly partConcurrency: number = DEFAULT_PART_CONCURRENCY,
  ) {
    this.#secretKey = secretKey;
  }

  /** The secret, for the one place that needs it (the MinIO client). */
  get secretKey(): string {
    return this.#secretKey;
  }

  /** Where the store is, safe to log: scheme, host, port, bucket and prefix, no credentials. */
  describe(): string {
    return `${this.useSSL ? 'https' : 'http'}://${this.endPoint}:${this.port}/${this.bucket}/${this.prefix}`;
  }

  toJSON() {
    return { endpoint: this.describe(), accessKey: this.accessKey, region: this.region, partSize: this.partSize, partConcurrency: this.partConcurrency };
  }

  [inspect.custom]() {
    return `S3Target(${this.describe()})`;
  }
}

/** Parses the size of a part: '16777216', '16MiB', '1GiB'. */
function parsePartSize(value: string): number {
  const m = /^(\d+)(MiB|GiB)?$/.exec(value);
  if (!m) throw new TypeError("partSize must be bytes or a number with MiB/GiB (e.g. '16MiB')");
  const bytes = Number(m[1]) * (m[2] === 'GiB' ? 1024 * MiB : m[2] === 'MiB' ? MiB : 1);
  if (bytes < MIN_PART || bytes > MAX_PART) throw new TypeError('partSize must be between 5MiB and 5GiB');
  return bytes;
}

function parseEndpoint(raw: string): S3Endpoint {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new TypeError('publicUrl must be an http(s)://host[:port] URL');
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || (u.pathname !== '/' && u.pathname !== '') || u.search) {
    throw new TypeError('publicUrl must be an http(s)://host[:port] URL without path, query or credentials');
  }
  const useSSL = u.protocol === 'https:';
  return { endPoint: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : useSSL ? 443 : 80, useSSL };
}

/** Throws TypeError with a message that never contains the URL or its credentials. */
export function parseS3Url(raw: string): S3Target {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new TypeError('not a URL; expected http(s)://KEY:SECRET@host:port/bucket or s3://KEY:SECRET@host:port/bucket');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 's3:') {
    throw new TypeError(`scheme must be http, https or s3 (got ${u.protocol.replace(/:$/, '')})`);
  }
  if (!u.username || !u.password) throw new TypeError('the access key and the secret key must be in the URL (KEY:SECRET@host)');
  if (!u.hostname) throw new TypeError('the URL has no host');
  for (const name of u.searchParams.keys()) {
    if (!KNOWN_PARAMS.has(name)) throw new TypeError(`unknown parameter '${name}' (known: ${[...KNOWN_PARAMS].join(', ')})`);
  }
  const params = u.searchParams;
  let useSSL = u.protocol === 'https:';
  const ssl = params.get('ssl');
  if (ssl !== null) {
    if (u.protocol !== 's3:') throw new TypeError('ssl= is only for s3:// URLs (http:// and https:// say it already)');
    if (ssl !== 'true' && ssl !== 'false') throw new TypeError('ssl must be true or false');
  }
  if (u.protocol === 's3:') useSSL = ssl !== 'false';
  const segments = u.pathname.split('/').filter((s, i) => i > 0 || s !== '');
  if (segments.at(-1) === '') segments.pop();
  const [bucket = '', ...prefixParts] = segments;
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new TypeError('the path must start with a bucket name: 3-63 of a-z 0-9 . - (e.g. /onair)');
  }
  for (const part of prefixParts) {
    if (!PREFIX_SEGMENT.test(part)) throw new TypeError('the key prefix after the bucket may only hold A-Z a-z 0-9 ! - _ . * \' ( ) segments, none starting with a dot');
  }
  const region = params.get('region') ?? 'us-east-1';
  if (!/^[a-z0-9-]{1,40}$/.test(region)) throw new TypeError('region must be like us-east-1');
  const partSize = params.has('partSize') ? parsePartSize(params.get('partSize')!) : DEFAULT_PART_SIZE;
  const partConcurrency = params.has('partConcurrency') ? Number(params.get('partConcurrency')) : DEFAULT_PART_CONCURRENCY;
  if (!Number.isInteger(partConcurrency) || partConcurrency < 1 || partConcurrency > 32) throw new TypeError('partConcurrency must be a whole number from 1 to 32');
  const publicEndpoint = params.has('publicUrl') ? parseEndpoint(params.get('publicUrl')!) : undefined;
  let accessKey: string;
  let secretKey: string;
  try {
    accessKey = decodeURIComponent(u.username);
    secretKey = decodeURIComponent(u.password);
  } catch {
    throw new TypeError('the access key or secret key is not valid percent-encoding');
  }
  return new S3Target(
    u.hostname.replace(/^\[|\]$/g, ''),
    u.port ? Number(u.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey,
    secretKey,
    bucket,
    prefixParts.length ? `${prefixParts.join('/')}/` : '',
    region,
    partSize,
    publicEndpoint,
    partConcurrency,
  );
}
