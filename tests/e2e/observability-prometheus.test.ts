/**
 * Debian's Prometheus on a rendered copy of grafana/prometheus.yml, scraping the all-in-one stack
 * (control's and media's targets both point at its one HTTP port): targets come up, a live
 * publish shows in the media metrics, and every query of the Grafana dashboard is valid PromQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingTool } from '../../core/testing/tools.js';
import { freePort } from './edge-kit.js';
import { PROMETHEUS_YML, readJson, renderPrometheusYml, startPrometheus, type PrometheusServer } from './observability-kit.js';
import { publish, startStack, until, type Stack } from './onair-stack.js';

const skip = missingTool('prometheus', '--version') || missingTool('ffmpeg');
const METRICS_TOKEN = 'scrape-token-0123456789';
const root = new URL('../../', import.meta.url).pathname;

describe('Prometheus scraping onair', { skip }, () => {
  let stack: Stack;
  let prom: PrometheusServer;
  const children: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];

  before(async () => {
    // /metrics protected by a bearer token, as compose can run it: Prometheus must send it.
    stack = await startStack({ ONAIR_METRICS_TOKEN: METRICS_TOKEN });
    const target = `127.0.0.1:${stack.httpPort}`;
    const tokenFile = join(stack.dataDir, 'metrics-token');
    writeFileSync(tokenFile, METRICS_TOKEN);
    const config = renderPrometheusYml(readFileSync(PROMETHEUS_YML, 'utf8'), { 'control:8080': target, 'media:8081': target }, '1s', tokenFile);
    prom = await startPrometheus(config, await freePort());
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await prom?.close();
    await stack?.close();
  });

  it('the real prometheus.yml passes promtool', { skip: missingTool('promtool', '--version') }, () => {
    // --syntax-only: the token file it names exists inside compose's Prometheus container only.
    const res = spawnSync('promtool', ['check', 'config', '--syntax-only', PROMETHEUS_YML], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
  });

  it('scrapes control and media: up == 1 for both jobs', async () => {
    const up = await until('both targets up', async () => {
      const result = await prom.query('up == 1');
      return result.length === 2 ? result : undefined;
    }, 15_000);
    assert.deepEqual(up!.map((r) => r.metric.job).sort(), ['control', 'media']);
    // ...with the token: without it /metrics is refused.
    assert.equal((await fetch(`http://127.0.0.1:${stack.httpPort}/metrics`)).status, 401);
  });

  it('sees a live publish in the media metrics', async () => {
    const anchor = await stack.user('anchor');
    const room = await stack.call('POST', '/rooms', { title: 'scraped' }, anchor.token);
    const start = await stack.call('POST', '/live/start', { room_id: room.body.id }, anchor.token);
    assert.equal(start.status, 200, JSON.stringify(start.body));
    children.push(publish(stack.fixPort(start.body.push_url)));

    const publishers = await until('onair_media_publishers == 1 in Prometheus', async () => {
      const r = await prom.query('max(onair_media_publishers{job="media"})');
      return r[0]?.value[1] === '1' ? r : undefined;
    }, 20_000);
    assert.equal(publishers!.length, 1);
    const bitrate = await until('per-stream bitrate in Prometheus', async () => {
      const r = await prom.query(`onair_media_stream_bitrate_in_kbps{job="media",stream="${room.body.id}"} > 0`);
      return r.length === 1 ? r : undefined;
    }, 20_000);
    assert.ok(Number(bitrate![0]!.value[1]) > 100, `bitrate ${bitrate![0]!.value[1]} kbps`);
    // Counters went through: the API calls above are counted by route.
    const started = await prom.query('onair_http_requests_total{job="control",route="/api/v1/live/start",status="200"}');
    assert.equal(started[0]?.value[1], '1');
  });

  it('accepts every query of the Grafana dashboard', async (t) => {
    const dashboard = readJson<{ panels: Array<{ title: string; targets?: Array<{ expr: string }> }> }>(`${root}grafana/dashboards/onair.json`);
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    assert.ok(exprs.length > 0);
    let withData = 0;
    for (const { panel, expr } of exprs) {
      // Grafana fills $__rate_interval in; Prometheus needs a real duration.
      const result = await prom.query(expr.replaceAll('$__rate_interval', '1m')).catch((err: Error) => assert.fail(`panel "${panel}": ${err.message}`));
      if (result.length > 0) withData++;
    }
    t.diagnostic(`${withData} of ${exprs.length} dashboard queries returned series`);
    // Most panels already have series: the stack has been scraped for several seconds with a live publish.
    assert.ok(withData >= exprs.length / 2, `${withData} of ${exprs.length} dashboard queries returned data`);
  });
});
