/**
 * The alert rules and Grafana dashboards an operator gets: Debian's promtool checks the rules,
 * runs their unit tests (each alert fires on its situation, stays quiet otherwise) and loads them
 * through the real grafana/prometheus.yml; every PromQL expression of the dashboards is valid; every
 * metric is defined in onair's sources (tests/e2e/metrics-exported.test.ts scrapes the running roles
 * for them); every alert points at a runbook section that exists.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { missingTool } from '../../core/testing/tools.js';
import { promqlMetricNames } from '../e2e/observability-kit.js';

const root = new URL('../../', import.meta.url).pathname;
const RULES = join(root, 'infra/prometheus/alerts.yml');
const RULE_TESTS = join(root, 'infra/prometheus/alerts.test.yml');
const skip = missingTool('promtool', '--version');

interface Rule { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
const rules = (): Rule[] => (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);

interface Panel { id: number; type: string; title: string; description?: string; datasource?: { type?: string; uid: string }; gridPos: { w: number; h: number; x: number; y: number }; targets?: Array<{ expr: string; refId: string }> }
interface Dashboard { uid: string; title: string; description?: string; panels: Panel[] }
const dashboardFiles = () => readdirSync(join(root, 'grafana/dashboards')).filter((f) => f.endsWith('.json'));
const dashboard = (file: string) => JSON.parse(readFileSync(join(root, 'grafana/dashboards', file), 'utf8')) as Dashboard;
/** The PromQL of a dashboard (the logs dashboard's LogQL panels name the Loki data source and are checked in compose.test.ts). */
const exprsOf = (d: Dashboard) => d.panels.filter((p) => p.datasource?.type !== 'loki').flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, expr: t.expr })));

const SYNTHETIC = new Set(['up']);

/** Metric names onair's sources define (string literals 'onair_...'), and prom-client's defaults when collected. */
function definedMetrics(): { names: Set<string>; defaults: boolean } {
  const names = new Set<string>();
  let defaults = false;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/['"`](onair_[a-z0-9_]+)['"`]/g)) names.add(m[1]!);
        if (text.includes('collectDefaultMetrics')) defaults = true;
      }
    }
  };
  for (const dir of ['core', 'control', 'media', 'transcoder']) if (existsSync(join(root, dir))) walk(join(root, dir));
  return { names, defaults };
}

/** The family a sample name belongs to (histogram suffixes removed). */
const family = (name: string) => name.replace(/_(bucket|sum|count)$/, '');

function known(name: string, defined: ReturnType<typeof definedMetrics>): boolean {
  if (SYNTHETIC.has(name)) return true;
  if (defined.names.has(name) || defined.names.has(family(name))) return true;
  return defined.defaults && /^(process|nodejs)_/.test(name);
}

function promtool(args: string[]) {
  const res = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

describe('Prometheus alert rules (infra/prometheus/alerts.yml)', { skip }, () => {
  it('pass promtool check rules', () => {
    const res = promtool(['check', 'rules', RULES]);
    assert.equal(res.status, 0, res.output);
    assert.match(res.output, /SUCCESS: \d+ rules found/);
  });

  it('pass their promtool unit tests: each alert fires on its situation and not before', () => {
    const res = promtool(['test', 'rules', RULE_TESTS]);
    assert.equal(res.status, 0, res.output);
    assert.match(res.output, /SUCCESS/);
  });

  it('cover what an operator must hear about, each with a severity, a summary and a runbook section that exists', () => {
    const alerts = rules().filter((r) => r.alert);
    const names = alerts.map((r) => r.alert!);
    for (const must of ['OnairCallbackBacklogGrowing', 'OnairCallbackDeadLetters', 'OnairMediaIngestRefusing', 'OnairStreamBitrateCollapsed', 'OnairTargetDown']) {
      assert.ok(names.includes(must), `alert ${must}`);
    }
    const runbook = readFileSync(join(root, 'docs/runbook.md'), 'utf8');
    // GitHub-style heading anchors: lower case, spaces to dashes, punctuation dropped.
    const anchors = new Set([...runbook.matchAll(/^#+\s+(.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
    for (const a of alerts) {
      assert.ok(['warning', 'critical'].includes(a.labels?.severity ?? ''), `${a.alert}: severity`);
      assert.ok(a.annotations?.summary, `${a.alert}: summary`);
      const link = /docs\/runbook\.md#([\w-]+)/.exec(a.annotations?.description ?? '');
      assert.ok(link, `${a.alert}: description links the runbook`);
      assert.equal(link![1], a.alert!.toLowerCase(), `${a.alert}: the anchor is the alert's name`);
      assert.ok(anchors.has(link![1]!), `docs/runbook.md has no section "${a.alert}"`);
    }
    // Every alert is unit-tested or explicitly left to the runbook's judgement (simple thresholds).
    const tested = new Set([...readFileSync(RULE_TESTS, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    const untested = names.filter((n) => !tested.has(n));
    assert.ok(untested.length <= names.length / 2, `most alerts need unit tests; untested: ${untested.join(', ')}`);
    for (const must of ['OnairCallbackBacklogGrowing', 'OnairCallbackDeadLetters', 'OnairMediaIngestRefusing', 'OnairStreamBitrateCollapsed']) {
      assert.ok(tested.has(must), `${must} is unit-tested`);
    }
  });

  it('load through the real grafana/prometheus.yml (promtool check config, rule files resolved)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onair-prom-'));
    try {
      mkdirSync(join(dir, 'rules'));
      copyFileSync(RULES, join(dir, 'rules/alerts.yml'));
      writeFileSync(join(dir, 'token'), 'scrape-token-0123456789');
      const source = readFileSync(join(root, 'grafana/prometheus.yml'), 'utf8');
      assert.ok(source.includes('/etc/prometheus/rules/*.yml') && source.includes('/prometheus/onair-metrics-token'));
      const config = source.split('/etc/prometheus/rules/').join(`${dir}/rules/`).split('/prometheus/onair-metrics-token').join(`${dir}/token`);
      writeFileSync(join(dir, 'prometheus.yml'), config);
      const res = promtool(['check', 'config', join(dir, 'prometheus.yml')]);
      assert.equal(res.status, 0, res.output);
      assert.match(res.output, new RegExp(`SUCCESS: ${rules().length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Grafana dashboards (grafana/dashboards)', () => {
  const defined = definedMetrics();

  it('are well-formed, wired to the provisioned data source, with unique uids', () => {
    // The provisioned data sources by type (Prometheus, Loki): each panel names one of them.
    const provisioned = new Map<string, string>();
    for (const f of readdirSync(join(root, 'grafana/provisioning/datasources'))) {
      for (const ds of (parse(readFileSync(join(root, 'grafana/provisioning/datasources', f), 'utf8')) as { datasources: Array<{ type: string; uid: string }> }).datasources) provisioned.set(ds.type, ds.uid);
    }
    assert.ok(provisioned.get('prometheus') && provisioned.get('loki'));
    const uids = new Set<string>();
    for (const file of dashboardFiles()) {
      const d = dashboard(file);
      assert.ok(d.uid && d.title, `${file}: uid and title`);
      assert.ok(!uids.has(d.uid), `${file}: uid ${d.uid} is unique`);
      uids.add(d.uid);
      const ids = d.panels.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`);
      for (const p of d.panels.filter((p) => p.type !== 'row')) {
        assert.equal(p.datasource?.uid, provisioned.get(p.datasource?.type ?? 'prometheus'), `${file} "${p.title}": data source`);
        assert.ok(p.targets?.length, `${file} "${p.title}": queries`);
        assert.ok(p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${file} "${p.title}": fits the grid`);
      }
    }
    for (const want of ['onair-media', 'onair-control', 'onair-transcoder', 'onair-logs']) assert.ok(uids.has(want), `dashboard ${want}`);
  });

  it('chart media (streams, viewers, bandwidth, eviction, keyframes), control (API, callbacks, dead letters, chat) and the transcoder (jobs, speed)', () => {
    const uses = (uid: string) => new Set(exprsOf(dashboard(`${uid}.json`)).flatMap(({ expr }) => promqlMetricNames(expr)).map(family));
    const media = uses('onair-media');
    for (const m of ['onair_media_streams', 'onair_media_viewers', 'onair_media_bytes_out_total', 'onair_media_viewer_evictions_total', 'onair_media_stream_keyframe_interval_seconds', 'onair_media_rtmp_refusals_total', 'onair_media_stream_bitrate_in_kbps']) assert.ok(media.has(m), `media: ${m}`);
    const control = uses('onair-control');
    for (const m of ['onair_http_requests_total', 'onair_http_request_duration_seconds', 'onair_callback_backlog', 'onair_callback_dead_letters', 'onair_chat_posts_total']) assert.ok(control.has(m), `control: ${m}`);
    const transcoder = uses('onair-transcoder');
    for (const m of ['onair_transcoder_jobs_total', 'onair_transcoder_queue_depth', 'onair_transcoder_speed_ratio', 'onair_transcoder_job_duration_seconds']) assert.ok(transcoder.has(m), `transcoder: ${m}`);
  });

  it('name only metrics the sources define (no metric is left pending: pending-metrics.json is gone)', () => {
    assert.ok(!existsSync(join(root, 'infra/prometheus/pending-metrics.json')), 'every metric the alerts and dashboards use is exported');
    const unknown: string[] = [];
    for (const file of dashboardFiles()) {
      for (const { panel, expr } of exprsOf(dashboard(file))) {
        const names = promqlMetricNames(expr);
        assert.ok(names.length > 0, `${file} "${panel.title}": no metric in ${expr}`);
        for (const name of names) if (!known(name, defined)) unknown.push(`${file} "${panel.title}": ${name}`);
        assert.doesNotMatch(`${panel.description ?? ''} ${dashboard(file).description ?? ''}`, /pending-metrics/, `${file} "${panel.title}": stale pending note`);
      }
    }
    for (const r of rules()) for (const name of promqlMetricNames(r.expr)) if (!known(name, defined)) unknown.push(`alert ${r.alert}: ${name}`);
    assert.deepEqual(unknown, [], 'metrics no source defines');
  });

  it('aggregate the shared bus figures with max (every replica reports the same count), never sum', () => {
    const shared = ['onair_callback_backlog', 'onair_callback_dead_letters', 'onair_transcoder_queue_depth'];
    const exprs = [
      ...dashboardFiles().flatMap((f) => exprsOf(dashboard(f)).map(({ panel, expr }) => ({ where: `${f} "${panel.title}"`, expr }))),
      ...rules().map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
    ];
    for (const { where, expr } of exprs) {
      for (const name of shared) {
        assert.doesNotMatch(expr, new RegExp(`sum(\\s+by\\s*\\([^)]*\\))?\\s*\\(\\s*${name}\\b`), `${where}: sums ${name} over replicas`);
      }
    }
  });

  it('every dashboard query is valid PromQL (promtool, as recording rules)', { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'onair-promql-'));
    try {
      const exprs = dashboardFiles().flatMap((f) => exprsOf(dashboard(f)).map(({ expr }) => expr.replaceAll('$__rate_interval', '1m')));
      const groups = { groups: [{ name: 'dashboards', rules: exprs.map((expr, i) => ({ record: `onair_dashboard_query_${i}`, expr })) }] };
      writeFileSync(join(dir, 'queries.yml'), JSON.stringify(groups));
      const res = promtool(['check', 'rules', join(dir, 'queries.yml')]);
      assert.equal(res.status, 0, res.output);
      assert.match(res.output, new RegExp(`SUCCESS: ${exprs.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
