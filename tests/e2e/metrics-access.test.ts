/**
 * Issue 9, point 14: /metrics was public on every role. The operator can now require a bearer
 * token (ONAIR_METRICS_TOKEN) and/or move /metrics to a listener of its own (ONAIR_METRICS_ADDRESS),
 * on the all-in-one process, control alone (its real entry point, control/main.ts) and media alone.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config/load.js';
import { silentLogger } from '../../core/logging/logger.js';
import { startMediaService } from '../../media/main.js';
import { startControlAlone } from '../../core/testing/role-process.js';
import { freePort } from './edge-kit.js';
import { startStack } from './onair-stack.js';

const TOKEN = 'metrics-token-0123456789';

async function get(url: string, token?: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** /metrics at `url`: refused without the token or with a wrong one, Prometheus text with it. */
async function assertTokenProtected(url: string, metric: RegExp): Promise<void> {
  const open = await get(url);
  assert.equal(open.status, 401, `${url} without a token`);
  assert.match(open.headers.get('www-authenticate') ?? '', /^Bearer/);
  assert.ok(!metric.test(open.text));
  assert.equal((await get(url, 'wrong-token-0123456789')).status, 401, `${url} with a wrong token`);
  const ok = await get(url, TOKEN);
  assert.equal(ok.status, 200, `${url} with the token`);
  assert.match(ok.text, metric);
}

describe('who may read /metrics', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('all-in-one: a bearer token', async () => {
    const stack = await startStack({ ONAIR_METRICS_TOKEN: TOKEN });
    cleanups.push(() => stack.close());
    await assertTokenProtected(`http://127.0.0.1:${stack.httpPort}/metrics`, /onair_http_requests_total|process_cpu/);
    // The rest of the port is unaffected.
    assert.equal((await get(`http://127.0.0.1:${stack.httpPort}/healthz`)).status, 200);
  });

  it('all-in-one: a listener of its own (and the token there), nothing on the public port', async () => {
    const stack = await startStack({ ONAIR_METRICS_TOKEN: TOKEN, ONAIR_METRICS_ADDRESS: '127.0.0.1:0' });
    cleanups.push(() => stack.close());
    assert.ok(stack.metricsListener, 'the metrics listener runs');
    const main = await get(`http://127.0.0.1:${stack.httpPort}/metrics`, TOKEN);
    assert.equal(main.status, 404);
    await assertTokenProtected(`http://127.0.0.1:${stack.metricsListener.port}/metrics`, /onair_media_|process_cpu/);
    assert.equal((await get(`http://127.0.0.1:${stack.metricsListener.port}/api/v1/rooms`, TOKEN)).status, 404, 'only /metrics there');
  });

  it('media alone: token and listener', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'onair-media-metrics-'));
    const config = loadConfig({
      ONAIR_DATA_DIR: dataDir, ONAIR_HTTP_PORT: '0', ONAIR_RTMP_PORT: '0', ONAIR_LOG_LEVEL: 'silent', ONAIR_HLS: 'false',
      ONAIR_METRICS_TOKEN: TOKEN, ONAIR_METRICS_ADDRESS: '127.0.0.1:0',
    });
    const refuse = async () => ({ allow: false as const, reason: 'test' });
    const media = await startMediaService(config, silentLogger(), { hooks: { authorizePublish: refuse, authorizePlay: refuse } });
    cleanups.push(async () => {
      await media.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    assert.equal((await get(`http://127.0.0.1:${media.httpPort}/metrics`, TOKEN)).status, 404);
    await assertTokenProtected(`http://127.0.0.1:${media.metricsListener!.port}/metrics`, /onair_media_/);
  });

  it('control alone (control/main.ts as compose runs it): token and listener', async () => {
    const metricsPort = await freePort();
    const control = await startControlAlone({ ONAIR_METRICS_TOKEN: TOKEN, ONAIR_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` });
    cleanups.push(() => control.close());
    const httpPort = control.port;
    assert.equal((await get(`http://127.0.0.1:${httpPort}/metrics`, TOKEN)).status, 404);
    await assertTokenProtected(`http://127.0.0.1:${metricsPort}/metrics`, /onair_http_requests_total|process_cpu/);
  });
});
