/**
 * Every metric the operator's alerts (infra/prometheus/alerts.yml) and Grafana dashboards
 * (grafana/dashboards/*.json) read is really exported: control, media and the transcoder run as the
 * separate processes compose.yaml and infra/k8s run (`control/main.ts`, `media/main.ts`,
 * `transcoder/main.ts`), a show is pushed with ffmpeg, and their /metrics pages are scraped.
 * Embedded set (SQLite file, database bus, folder) and cluster set (MariaDB, Redis streams, s3rver).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { missingTool } from '../../core/testing/tools.js';
import { loggedPort, REPO_ROOT as root, spawnRole, waitForRole, type RoleProcess } from '../../core/testing/role-process.js';
import { transcoderStackSets } from '../../transcoder/testing/transcoder-stack.js';
import { exposedMetricNames, promqlMetricNames } from './observability-kit.js';
import { publish, until } from './onair-stack.js';

const MEDIA_KEY = 'shared-media-key-for-the-metrics-test';
const skip = missingTool('ffmpeg');
const sets = transcoderStackSets();
after(() => Promise.all(sets.map((s) => s.close())));

/** Every metric name the alert rules and the dashboards' PromQL panels select. */
function referencedMetrics(): Map<string, string[]> {
  const refs = new Map<string, string[]>();
  const add = (name: string, where: string) => refs.set(name, [...(refs.get(name) ?? []), where]);
  const rules = (parse(readFileSync(join(root, 'infra/prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> })
    .groups.flatMap((g) => g.rules);
  for (const r of rules) for (const n of promqlMetricNames(r.expr)) add(n, `alert ${r.alert}`);
  for (const file of readdirSync(join(root, 'grafana/dashboards')).filter((f) => f.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(join(root, 'grafana/dashboards', file), 'utf8')) as { panels: Array<{ title: string; datasource?: { type?: string }; targets?: Array<{ expr: string }> }> };
    for (const p of d.panels.filter((p) => p.datasource?.type !== 'loki')) {
      for (const t of p.targets ?? []) for (const n of promqlMetricNames(t.expr)) add(n, `${file} "${p.title}"`);
    }
  }
  refs.delete('up'); // Prometheus's own series
  return refs;
}

/**
 * Starts `file` (pushed on `roles` at once, for the cleanup) and waits for the log line that
 * names its HTTP port.
 */
async function startRole(roles: RoleProcess[], file: string, env: Record<string, string>, listening: string, portField: string): Promise<RoleProcess & { port: number }> {
  const role = spawnRole(file, env);
  roles.push(role);
  const port = await waitForRole(role, `${file} listening`, loggedPort(listening, portField));
  return { ...role, port };
}

const scrape = async (port: number) => {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
};
/** The value of one sample line (`name{labels} value`), or undefined. */
const sample = (text: string, selector: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${selector} `));
  return line === undefined ? undefined : Number(line.slice(selector.length + 1));
};

for (const set of sets) {
  describe(`metrics of the running roles (${set.name})`, { skip }, () => {
    it('control, media and the transcoder export every metric the alerts and dashboards use', async () => {
      const stack = await set.make();
      const roles: RoleProcess[] = [];
      const children: ChildProcess[] = [];
      try {
        const common = { ...stack.env, ONAIR_MEDIA_CALLBACK_KEY: MEDIA_KEY, ONAIR_LOG_LEVEL: 'info', ONAIR_RATE_LIMITS: 'false', ONAIR_TRANSCODER: 'off' };
        const control = await startRole(roles, 'control/main.ts', { ...common, ONAIR_DATA_DIR: join(stack.config.dataDir), ONAIR_RTMP_PORT: '0' }, 'control listening', 'port');
        const media = await startRole(roles, 'media/main.ts', {
          ...common, ONAIR_DATA_DIR: join(stack.config.dataDir, 'media'), ONAIR_RTMP_PORT: '0', ONAIR_HLS: 'false', ONAIR_FRAMES: 'false',
          ONAIR_CONTROL_URL: `http://127.0.0.1:${control.port}`,
        }, 'media service listening', 'http');
        const rtmpPort = Number(/"rtmp":(\d+)/.exec(media.output())![1]);
        const transcoder = await startRole(roles, 'transcoder/main.ts', common, 'transcoder listening', 'http');

        // A show, so the per-stream series (bitrate, keyframe interval) have samples.
        const api = async (method: string, path: string, body?: unknown, token?: string) => {
          const res = await fetch(`http://127.0.0.1:${control.port}/api/v1${path}`, {
            method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
            body: body ? JSON.stringify(body) : undefined,
          });
          return { status: res.status, body: await res.json() as any };
        };
        await api('POST', '/auth/register', { username: 'metricsanchor', password: 'correct-horse-battery', role: 'anchor' });
        const token = (await api('POST', '/auth/login', { username: 'metricsanchor', password: 'correct-horse-battery' })).body.token as string;
        const room = (await api('POST', '/rooms', { title: 'metrics show' }, token)).body;
        const ff = publish(`rtmp://127.0.0.1:${rtmpPort}/live/${room.stream_key}`);
        children.push(ff);
        await until('live', async () => (await api('GET', `/rooms/${room.id}`)).body.is_live === true, 20_000);
        const mediaText = await until('a keyframe interval for the stream', async () => {
          const text = await scrape(media.port);
          return sample(text, `onair_media_stream_keyframe_interval_seconds{stream="${room.id}"}`) !== undefined ? text : undefined;
        }, 20_000);
        // ffmpeg sends a keyframe every 60 frames at 30 fps.
        const interval = sample(mediaText!, `onair_media_stream_keyframe_interval_seconds{stream="${room.id}"}`)!;
        assert.ok(Math.abs(interval - 2) < 0.2, `keyframe interval ${interval} s`);

        const controlText = await scrape(control.port);
        const transcoderText = await scrape(transcoder.port);
        const exported = new Map<string, string>();
        for (const [role, text] of [['control', controlText], ['media', mediaText!], ['transcoder', transcoderText]] as const) {
          for (const name of exposedMetricNames(text)) if (!exported.has(name)) exported.set(name, role);
        }
        const missing = [...referencedMetrics()].filter(([name]) => !exported.has(name)).map(([name, where]) => `${name} (${where.join(', ')})`);
        assert.deepEqual(missing, [], 'metrics the alerts or dashboards use that no running role exports');

        // The ones that were pending, each from its role, with a sample.
        assert.equal(sample(controlText, 'onair_callback_dead_letters{group="callbacks"}'), 0);
        assert.ok(sample(controlText, 'onair_callback_backlog')! >= 0);
        assert.ok(sample(controlText, 'onair_callback_processed_total{result="ok"}')! >= 1, 'the show\'s events were processed');
        assert.equal(sample(transcoderText, 'onair_transcoder_queue_depth'), 0);
      } catch (err) {
        for (const r of roles) console.error(r.output().slice(-3000));
        throw err;
      } finally {
        for (const c of children) c.kill('SIGKILL');
        for (const r of roles.reverse()) {
          r.child.kill('SIGTERM');
          await Promise.race([r.exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
          if (r.child.exitCode === null) r.child.kill('SIGKILL');
        }
        await stack.close();
      }
    });
  });
}
