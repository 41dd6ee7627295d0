/**
 * The provisioned Grafana dashboards against a running stack. The overview (grafana/dashboards/
 * onair.json) is what an operator opens first: it charts every figure an alert fires on and each
 * role's load and health (control, media, transcoder), with one health figure of each role in its
 * first row; every metric its PromQL names is on /metrics. Every onair_* family on /metrics is
 * charted on some dashboard (the overview or a role's: control, media, transcoder hold the
 * details). The overview is wired to the provisioned data source and the folder compose mounts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { exposedMetricNames, metricFamilies, promqlMetricNames, readJson } from './observability-kit.js';
import { startStack, type Stack } from './onair-stack.js';

const root = new URL('../../', import.meta.url).pathname;
/** Series Prometheus makes itself for each target; they never appear on /metrics. */
const PROMETHEUS_SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Array<{ expr: string; refId: string; datasource?: { uid: string } }>;
}
const dashboard = readJson<{ uid: string; title: string; panels: Panel[] }>(`${root}grafana/dashboards/onair.json`);
const dataPanels = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = dataPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
/** The PromQL of every provisioned dashboard (the overview and the per-role ones; the Loki one has none). */
const allPromExprs = readdirSync(`${root}grafana/dashboards`).filter((f) => f.endsWith('.json')).flatMap((f) =>
  readJson<{ panels: Panel[] }>(`${root}grafana/dashboards/${f}`).panels
    .filter((p) => p.type !== 'row' && p.datasource?.type === 'prometheus')
    .flatMap((p) => (p.targets ?? []).map((t) => t.expr)));
/** Every metric name some alert rule reads: the operator paged for one finds it on the overview. */
const alertMetrics = (parse(readFileSync(`${root}infra/prometheus/alerts.yml`, 'utf8')) as { groups: Array<{ rules: Array<{ expr: string }> }> })
  .groups.flatMap((g) => g.rules).flatMap((r) => promqlMetricNames(r.expr));
/** Each role's load and health beyond the alerts, read at a glance on the overview. */
const OVERVIEW_FIGURES = {
  control: ['onair_http_requests_total', 'onair_http_request_duration_seconds', 'onair_callback_backlog', 'onair_callback_dead_letters', 'onair_chat_sockets'],
  media: ['onair_media_streams', 'onair_media_viewers', 'onair_media_bytes_in_total', 'onair_media_bytes_out_total', 'onair_media_overloaded', 'onair_media_flush_lag_seconds'],
  transcoder: ['onair_transcoder_queue_depth', 'onair_transcoder_jobs_total'],
  processes: ['up', 'process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds'],
};
/** Whether `family` (a histogram's too, through its samples) is among the metric names `used`. */
const charts = (used: Set<string>, family: string) => [family, `${family}_bucket`, `${family}_sum`, `${family}_count`].some((n) => used.has(n));

describe('promqlMetricNames', () => {
  it('finds metric names and ignores functions, labels, grouping, ranges and variables', () => {
    assert.deepEqual(
      promqlMetricNames('histogram_quantile(0.95, sum by (le, route) (rate(onair_http_request_duration_seconds_bucket{status=~"5.."}[$__rate_interval])))'),
      ['onair_http_request_duration_seconds_bucket'],
    );
    assert.deepEqual(
      promqlMetricNames('sum(rate(a_total[5m])) / sum without (job) (b_count offset 1h) * 8 + 1e3').sort(),
      ['a_total', 'b_count'],
    );
    assert.deepEqual(promqlMetricNames('up'), ['up']);
  });
});

describe('Grafana dashboard over onair metrics', () => {
  let stack: Stack;
  let metricsText: string;

  before(async () => {
    stack = await startStack();
    const res = await fetch(`http://127.0.0.1:${stack.httpPort}/metrics`);
    assert.equal(res.status, 200);
    metricsText = await res.text();
  });
  after(async () => {
    await stack?.close();
  });

  it('references only metrics that a running stack exposes', () => {
    const exposed = exposedMetricNames(metricsText);
    assert.ok(exprs.length >= 20, `only ${exprs.length} queries`);
    const unknown: string[] = [];
    for (const { panel, expr } of exprs) {
      const names = promqlMetricNames(expr);
      assert.ok(names.length > 0, `panel "${panel}": no metric in ${expr}`);
      for (const name of names) if (!exposed.has(name) && !PROMETHEUS_SYNTHETIC.has(name)) unknown.push(`${panel}: ${name}`);
    }
    assert.deepEqual(unknown, [], 'dashboard names metrics that /metrics does not have');
  });

  it('the overview charts every figure an alert reads and each role\'s key health figures', () => {
    const used = new Set(exprs.flatMap(({ expr }) => promqlMetricNames(expr)));
    const wanted = [...new Set([...alertMetrics, ...Object.values(OVERVIEW_FIGURES).flat()])];
    assert.ok(alertMetrics.length >= 10, `only ${alertMetrics.length} metrics in the alert rules`);
    assert.deepEqual(wanted.filter((f) => !charts(used, f.replace(/_(bucket|sum|count)$/, ''))), [], 'figures the overview does not chart');
  });

  it('the overview\'s first row holds a health figure of each role', () => {
    const firstRow = dashboard.panels[0]!;
    assert.equal(firstRow.type, 'row');
    const nextRow = dashboard.panels.find((p) => p.type === 'row' && p.gridPos.y > firstRow.gridPos.y)!;
    const top = dataPanels.filter((p) => p.gridPos.y < nextRow.gridPos.y);
    const used = new Set(top.flatMap((p) => (p.targets ?? []).flatMap((t) => promqlMetricNames(t.expr))));
    for (const role of ['control', 'media', 'transcoder'] as const) {
      assert.ok(OVERVIEW_FIGURES[role].some((f) => charts(used, f)), `no ${role} figure in the overview's first row "${firstRow.title}"`);
    }
  });

  it('charts every onair_* metric family the stack exposes (on the overview or a role\'s dashboard)', () => {
    const used = new Set(allPromExprs.flatMap((expr) => promqlMetricNames(expr)));
    const charted = (family: string) => charts(used, family);
    const families = metricFamilies(metricsText).filter((f) => f.startsWith('onair_'));
    assert.ok(families.length >= 10, `only ${families.length} onair_ families on /metrics`);
    assert.deepEqual(families.filter((f) => !charted(f)), [], 'metric families on no dashboard in grafana/dashboards/');
    for (const basic of ['process_cpu_seconds_total', 'process_resident_memory_bytes']) assert.ok(used.has(basic), basic);
  });

  it('is a well-formed dashboard wired to the provisioned data source and folder', () => {
    assert.ok(dashboard.uid && dashboard.title);
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const datasourceYaml = readFileSync(`${root}grafana/provisioning/datasources/prometheus.yaml`, 'utf8');
    const uid = /^\s*uid:\s*(\S+)\s*$/m.exec(datasourceYaml)?.[1];
    assert.ok(uid, 'the provisioned data source has a fixed uid');
    for (const p of dataPanels) {
      assert.equal(p.datasource?.uid, uid, `panel "${p.title}" data source`);
      assert.ok(p.targets && p.targets.length > 0, `panel "${p.title}" has queries`);
      for (const t of p.targets) assert.equal(t.datasource?.uid ?? uid, uid);
      assert.ok(p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `panel "${p.title}" fits the 24-column grid`);
    }
    // The dashboards provider reads the folder compose mounts grafana/dashboards into.
    const provider = readFileSync(`${root}grafana/provisioning/dashboards/onair.yaml`, 'utf8');
    const path = /^\s*path:\s*(\S+)\s*$/m.exec(provider)?.[1];
    const compose = readFileSync(`${root}compose.yaml`, 'utf8');
    assert.ok(path && compose.includes(`./grafana/dashboards:${path}`), `compose mounts grafana/dashboards at ${path}`);
  });
});
