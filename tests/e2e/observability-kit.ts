/**
 * Helpers for the observability tests: metric names out of PromQL and out of a /metrics page, and
 * a real Prometheus server run on a rendered copy of grafana/prometheus.yml.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects. Strings, label matchers, ranges, grouping clauses
 * and Grafana variables are removed first; what is left that is not a function call or keyword
 * is a metric name. Good enough for the expressions a dashboard holds (no subqueries of strings).
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    if (m[2] || PROMQL_KEYWORDS.has(m[1]!.toLowerCase())) continue;
    names.add(m[1]!);
  }
  return [...names];
}

/** Every sample name a /metrics page can produce: families from # TYPE lines (with histogram/summary suffixes) and sample lines. */
export function exposedMetricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      names.add(name);
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      if (kind === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return names;
}

/** The families (# TYPE names) of a /metrics page. */
export function metricFamilies(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) \w+$/gm)].map((m) => m[1]!);
}

export const PROMETHEUS_YML = new URL('../../grafana/prometheus.yml', import.meta.url).pathname;

/**
 * grafana/prometheus.yml with compose's targets pointed at local ports. Each compose target
 * must be found, so a renamed job or target fails the test instead of being silently skipped.
 */
export function renderPrometheusYml(source: string, targets: Record<string, string>, scrapeInterval = '1s', tokenFile?: string): string {
  let yml = source;
  // compose's Prometheus writes ONAIR_METRICS_TOKEN to this file; here the test names its own.
  const composeTokenFile = '/prometheus/onair-metrics-token';
  if (!yml.includes(composeTokenFile)) throw new Error(`prometheus.yml: no ${composeTokenFile}`);
  if (tokenFile) yml = yml.split(composeTokenFile).join(tokenFile);
  for (const [from, to] of Object.entries(targets)) {
    const quoted = `'${from}'`;
    if (!yml.includes(quoted)) throw new Error(`prometheus.yml: no target ${quoted}`);
    yml = yml.split(quoted).join(`'${to}'`);
  }
  if (!/scrape_interval: \S+/.test(yml)) throw new Error('prometheus.yml: no scrape_interval');
  return yml.replace(/scrape_interval: \S+/, `scrape_interval: ${scrapeInterval}`);
}

export interface PrometheusServer {
  url: string;
  /** Runs an instant query and returns its vector result. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  close(): Promise<void>;
}

/** Starts Prometheus on `listenPort` with `config` (YAML text), temp storage, and waits until it is ready. */
export async function startPrometheus(config: string, listenPort: number, timeoutMs = 20_000): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'onair-prometheus-'));
  const configPath = join(dir, 'prometheus.yml');
  writeFileSync(configPath, config);
  const child: ChildProcess = spawn('prometheus', [
    `--config.file=${configPath}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${listenPort}`, '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { if (stderr.length < 20_000) stderr += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${listenPort}`;
  const close = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await close();
      throw new Error(`prometheus exited (${child.exitCode}): ${stderr}`);
    }
    if (await fetch(`${url}/-/ready`).then((r) => r.status === 200, () => false)) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`prometheus not ready after ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: any[] } };
      if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
      return body.data!.result;
    },
    close,
  };
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
