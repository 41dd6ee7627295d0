import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './load.js';
import { parseDuration } from './duration.js';
import { ValidationError } from '../errors.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'onair-config-'));

describe('loadConfig', () => {
  it('runs on one machine with no environment at all', () => {
    const dir = tmp();
    const config = loadConfig({ ONAIR_DATA_DIR: dir });
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.http.port, 8080);
    assert.equal(config.rtmp.port, 1935);
    assert.equal(config.live.reconnectGrace, 10_000);
    assert.equal(config.media.hookTimeout, 3_000);
    assert.equal(config.database.url, undefined);
  });

  it('generates a secret once and keeps it in the data folder, readable by its owner only', () => {
    const dir = tmp();
    const first = loadConfig({ ONAIR_DATA_DIR: dir }).secret;
    const second = loadConfig({ ONAIR_DATA_DIR: dir }).secret;
    assert.ok(first && first.length >= 32);
    assert.equal(first, second);
    assert.equal(readFileSync(join(dir, 'secret'), 'utf8').trim(), first);
    assert.equal(statSync(join(dir, 'secret')).mode & 0o077, 0);
  });

  it('reads ONAIR_* variables, durations and booleans', () => {
    const config = loadConfig({
      ONAIR_DATA_DIR: tmp(), ONAIR_HTTP_PORT: '9000', ONAIR_RECONNECT_GRACE: '2s', ONAIR_RECORD: 'yes',
      ONAIR_SECRET: 'a-secret-of-enough-length',
    });
    assert.equal(config.http.port, 9000);
    assert.equal(config.live.reconnectGrace, 2000);
    assert.equal(config.media.record, true);
    assert.equal(config.secret, 'a-secret-of-enough-length');
  });

  it('names the variable of every bad value', () => {
    assert.throws(
      () => loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_HTTP_PORT: 'eighty', ONAIR_RECONNECT_GRACE: 'soon' }),
      (err: unknown) => err instanceof ValidationError && /ONAIR_HTTP_PORT/.test(err.message) && /ONAIR_RECONNECT_GRACE/.test(err.message),
    );
  });

  it('reads the hardening settings: address lists, push auth, callback window, recordings dir', () => {
    const dir = tmp();
    const config = loadConfig({
      ONAIR_DATA_DIR: dir, ONAIR_CALLBACK_ALLOW: '10.0.0.0/8, 2001:db8::/32', ONAIR_TRUSTED_PROXIES: '127.0.0.1',
      ONAIR_HOOK_SECRET: 'a-hook-secret-of-16+', ONAIR_PUSH_AUTH: 'signed', ONAIR_CALLBACK_WINDOW: '5m', ONAIR_LIVE_EVENTS_RETENTION: '30d',
    });
    assert.deepEqual(config.callbacks.allow, ['10.0.0.0/8', '2001:db8::/32']);
    assert.deepEqual(config.http.trustedProxies, ['127.0.0.1']);
    assert.deepEqual(config.hooks.allow, []);
    assert.equal(config.live.pushAuth, 'signed');
    assert.equal(config.callbacks.window, 300_000);
    assert.equal(config.callbacks.eventsRetention, 30 * 86_400_000);
    assert.equal(config.media.recordingsDir, join(dir, 'recordings'));
    const defaults = loadConfig({ ONAIR_DATA_DIR: dir });
    assert.equal(defaults.live.pushAuth, 'key');
    assert.equal(defaults.callbacks.window, 11 * 60_000);
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: dir, ONAIR_CALLBACK_ALLOW: '10.0.0.0/40' }), /ONAIR_CALLBACK_ALLOW/);
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: dir, ONAIR_PUSH_AUTH: 'maybe' }), /ONAIR_PUSH_AUTH/);
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: dir, ONAIR_HOOK_SECRET: 'short' }), /ONAIR_HOOK_SECRET/);
  });

  it('reads rate limits as N/duration or off, and names a bad one', () => {
    const config = loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_RATE_LOGIN: '5/30s', ONAIR_RATE_REGISTER: 'off', ONAIR_LOGIN_LOCK_MAX: '1h' });
    assert.deepEqual(config.rateLimit.login, { points: 5, durationMs: 30_000 });
    assert.equal(config.rateLimit.register, null);
    assert.deepEqual(config.rateLimit.playToken, { points: 600, durationMs: 60_000 });
    assert.equal(config.rateLimit.loginLockMax, 3_600_000);
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_RATE_LOGIN: 'lots' }), /ONAIR_RATE_LOGIN/);
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_LOGIN_LOCK: '1h', ONAIR_LOGIN_LOCK_MAX: '1m' }), /ONAIR_LOGIN_LOCK_MAX/);
  });

  it('checks the metrics settings and the password minimum', () => {
    const config = loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_METRICS_ADDRESS: '127.0.0.1:9464', ONAIR_METRICS_TOKEN: 'a-token-of-16-chars' });
    assert.equal(config.metrics.address, '127.0.0.1:9464');
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_METRICS_ADDRESS: 'somewhere' }), /ONAIR_METRICS_ADDRESS/);
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_METRICS_TOKEN: 'short' }), /ONAIR_METRICS_TOKEN/);
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_PASSWORD_MIN_LENGTH: '6' }), /ONAIR_PASSWORD_MIN_LENGTH/);
    assert.equal(loadConfig({ ONAIR_DATA_DIR: tmp() }).shutdownTimeout, 10_000);
    assert.equal(loadConfig({ ONAIR_DATA_DIR: tmp() }).redis.commandTimeout, 500);
  });

  it('refuses an admin user without a password', () => {
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_ADMIN_USER: 'root' }), /ONAIR_ADMIN_PASSWORD/);
  });
});

describe('parseDuration', () => {
  for (const [text, ms] of [['250ms', 250], ['3s', 3000], ['1.5s', 1500], ['10m', 600_000], ['1h', 3_600_000], ['1d', 86_400_000], ['42', 42]] as const) {
    it(`${text} is ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  }
  it('reads the transcoder and replay settings, with their defaults and limits', () => {
    const d = loadConfig({ ONAIR_DATA_DIR: tmp() });
    assert.deepEqual(
      [d.transcoder.enabled, d.transcoder.keepSource, d.transcoder.concurrency, d.transcoder.lease, d.transcoder.maxAttempts, d.replays.retention, d.replays.urlTtl, d.media.recordSegment],
      [true, false, 1, 600_000, 3, 0, 3_600_000, 0],
    );
    const c = loadConfig({
      ONAIR_DATA_DIR: tmp(), ONAIR_TRANSCODER: 'off', ONAIR_RECORD_KEEP_SOURCE: 'on', ONAIR_TRANSCODER_CONCURRENCY: '2', ONAIR_TRANSCODER_LEASE: '2m',
      ONAIR_TRANSCODER_MAX_ATTEMPTS: '5', ONAIR_FFPROBE_PATH: '/opt/ffprobe', ONAIR_REPLAY_RETENTION: '30d', ONAIR_REPLAY_URL_TTL: '10m', ONAIR_RECORD_SEGMENT: '30m',
    });
    assert.deepEqual(
      [c.transcoder.enabled, c.transcoder.keepSource, c.transcoder.concurrency, c.transcoder.lease, c.transcoder.maxAttempts, c.transcoder.ffprobePath, c.replays.retention, c.replays.urlTtl, c.media.recordSegment],
      [false, true, 2, 120_000, 5, '/opt/ffprobe', 30 * 86_400_000, 600_000, 1_800_000],
    );
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_TRANSCODER_LEASE: '500ms' }), /ONAIR_TRANSCODER_LEASE/);
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_REPLAY_URL_TTL: '8d' }), /ONAIR_REPLAY_URL_TTL/);
    assert.throws(() => loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_TRANSCODER_CONCURRENCY: '0' }), /ONAIR_TRANSCODER_CONCURRENCY/);
  });

  it('rejects nonsense', () => {
    assert.throws(() => parseDuration('ten seconds'), TypeError);
    assert.throws(() => parseDuration('-1s'), TypeError);
  });
});
