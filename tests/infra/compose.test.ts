/**
 * The compose overrides infra owns (compose.observability.yaml: Loki, Promtail, alert rules;
 * compose.edge.yaml: the secure-link edge) on top of compose.yaml, validated by Debian's
 * docker-compose (`config`) and checked for wiring: every mounted file exists, Prometheus finds the
 * rules where its rule_files glob looks, Promtail ships to the Loki service on Loki's port, Grafana
 * has the Loki data source the logs dashboard names, and the edge gets what control signs with.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { missingTool } from '../../core/testing/tools.js';

const root = new URL('../../', import.meta.url).pathname;
const skip = missingTool('docker-compose', 'version');
const BASE_ENV = { ONAIR_MEDIA_CALLBACK_KEY: 'media-callback-key-0123456789', ONAIR_PLAY_TOKEN_KEY: 'p'.repeat(32), ONAIR_SECRET: 's'.repeat(32) };
const EDGE_ENV = { ONAIR_EDGE_URL: 'http://localhost:8088', ONAIR_EDGE_SECRET: 'edge-secret-0123456789' };

/** `docker-compose -f ... config` in the repository with only the given settings (no .env of the developer's). */
function composeConfig(files: string[], env: Record<string, string>) {
  const args = files.flatMap((f) => ['-f', f]);
  const res = spawnSync('docker-compose', [...args, '--project-directory', root, 'config'], {
    cwd: root, encoding: 'utf8', timeout: 60_000,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

type Service = { image?: string; volumes?: Array<string | { source: string; target: string }>; environment?: Record<string, string>; command?: string[]; depends_on?: unknown; ports?: unknown[] };
const mounts = (s: Service) => (s.volumes ?? []).map((v) => {
  if (typeof v !== 'string') return { source: v.source, target: v.target };
  const [source, target] = v.split(':');
  return { source: source!, target: target! };
});

describe('compose.yaml: the transcoder role (docker-compose config)', { skip }, () => {
  it('runs dist/transcoder/main.js against MinIO, with the database, Redis and the recordings media writes', () => {
    const res = composeConfig(['compose.yaml'], BASE_ENV);
    assert.equal(res.status, 0, res.stderr);
    const config = parse(res.stdout) as { services: Record<string, Service> };
    const t = config.services.transcoder;
    assert.ok(t, 'service transcoder');
    assert.deepEqual(t.command, ['node', 'dist/transcoder/main.js']);
    const s3 = new URL(t.environment!.ONAIR_S3_URL!);
    assert.equal(s3.hostname, 'minio');
    assert.ok(config.services.minio, 'the minio service it names');
    assert.match(t.environment!.ONAIR_DATABASE_URL ?? '', /^mysql:\/\/.*@mysql[:/]/);
    assert.match(t.environment!.ONAIR_REDIS_URL ?? '', /^redis:\/\/redis[:/]/);
    assert.deepEqual(Object.keys(t.depends_on as Record<string, unknown>).sort(), ['minio', 'mysql', 'redis']);
    // The same volume at the same place as media: the FLV files media records are the transcoder's input.
    const data = mounts(t).find((m) => m.target === '/data');
    assert.ok(data && mounts(config.services.media!).some((m) => m.source === data.source && m.target === '/data'), 'shares /data with media');
    assert.equal(t.environment!.ONAIR_DATA_DIR, config.services.media!.environment!.ONAIR_DATA_DIR);
  });
});

describe('compose overrides (docker-compose config)', { skip }, () => {
  it('compose.yaml + compose.observability.yaml: Loki, Promtail, and Prometheus with the alert rules', () => {
    const res = composeConfig(['compose.yaml', 'compose.observability.yaml'], BASE_ENV);
    assert.equal(res.status, 0, res.stderr);
    const config = parse(res.stdout) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    for (const name of ['control', 'media', 'prometheus', 'grafana', 'loki', 'promtail']) assert.ok(config.services[name], `service ${name}`);

    // Every file a service mounts from the repository exists (a typo would mount an empty directory).
    for (const [name, svc] of Object.entries(config.services)) {
      for (const m of mounts(svc)) if (m.source.startsWith(root)) assert.ok(existsSync(m.source), `${name}: ${m.source} does not exist`);
    }

    // Prometheus: the rules file lands where grafana/prometheus.yml's rule_files glob looks.
    const prom = parse(readFileSync(join(root, 'grafana/prometheus.yml'), 'utf8')) as { rule_files: string[] };
    const rules = mounts(config.services.prometheus!).find((m) => m.source.endsWith('infra/prometheus/alerts.yml'));
    assert.ok(rules, 'prometheus mounts infra/prometheus/alerts.yml');
    const glob = prom.rule_files[0]!;
    assert.ok(rules!.target.startsWith(glob.replace('*.yml', '')) && rules!.target.endsWith('.yml'), `${rules!.target} matches ${glob}`);
    assert.ok(mounts(config.services.prometheus!).some((m) => m.target === '/etc/prometheus/prometheus.yml'), 'compose.yaml keeps its prometheus.yml');

    // Promtail ships to the loki service on the port Loki listens on, and reads Docker's logs.
    const loki = parse(readFileSync(join(root, 'infra/loki/loki.yaml'), 'utf8')) as { server: { http_listen_port: number } };
    const promtail = parse(readFileSync(join(root, 'infra/loki/promtail.yaml'), 'utf8')) as { clients: Array<{ url: string }>; scrape_configs: Array<{ docker_sd_configs?: unknown[] }> };
    assert.equal(new URL(promtail.clients[0]!.url).host, `loki:${loki.server.http_listen_port}`);
    assert.ok(promtail.scrape_configs.some((s) => s.docker_sd_configs), 'promtail discovers the containers through Docker');
    assert.ok(mounts(config.services.promtail!).some((m) => m.source === '/var/run/docker.sock'));
    assert.ok(mounts(config.services.loki!).some((m) => m.target === '/loki'), 'Loki keeps its data in a volume');
    assert.ok('loki-data' in config.volumes);

    // Grafana has a Loki data source at the loki service, with the uid the logs dashboard names.
    const ds = parse(readFileSync(join(root, 'grafana/provisioning/datasources/loki.yaml'), 'utf8')) as { datasources: Array<{ type: string; uid: string; url: string }> };
    const lokiDs = ds.datasources.find((d) => d.type === 'loki')!;
    assert.equal(new URL(lokiDs.url).host, `loki:${loki.server.http_listen_port}`);
    const logs = JSON.parse(readFileSync(join(root, 'grafana/dashboards/onair-logs.json'), 'utf8')) as { panels: Array<{ datasource: { uid: string }; targets: Array<{ expr: string }> }> };
    for (const p of logs.panels) {
      assert.equal(p.datasource.uid, lokiDs.uid);
      // LogQL stream selectors use the label promtail sets.
      for (const t of p.targets) assert.match(t.expr, /\{service=~/);
    }
    assert.match(readFileSync(join(root, 'infra/loki/promtail.yaml'), 'utf8'), /target_label: service/);
  });

  it('compose.edge.yaml: the edge runs edge.conf through edge-start.sh and control signs for it', () => {
    const res = composeConfig(['compose.yaml', 'compose.edge.yaml'], { ...BASE_ENV, ...EDGE_ENV });
    assert.equal(res.status, 0, res.stderr);
    const config = parse(res.stdout) as { services: Record<string, Service> };
    const edge = config.services.edge!;
    const targets = new Map(mounts(edge).map((m) => [m.target, m.source]));
    assert.equal(targets.get('/etc/onair-edge/edge.conf'), join(root, 'infra/nginx/edge.conf'));
    assert.equal(targets.get('/etc/onair-edge/edge-start.sh'), join(root, 'infra/nginx/edge-start.sh'));
    assert.ok(targets.has('/var/cache/nginx/onair-hls'), 'the HLS cache path of edge.conf is a volume');
    assert.match(readFileSync(join(root, 'infra/nginx/edge.conf'), 'utf8'), /proxy_cache_path \/var\/cache\/nginx\/onair-hls /);
    assert.deepEqual(edge.command!.slice(0, 3), ['/bin/sh', '/etc/onair-edge/edge-start.sh', 'nginx']);
    assert.equal(edge.environment!.ONAIR_EDGE_SECRET, EDGE_ENV.ONAIR_EDGE_SECRET);
    // Control signs with the same secret, for the URL the edge is published at; the rest of its settings stay.
    assert.equal(config.services.control!.environment!.ONAIR_EDGE_SECRET, EDGE_ENV.ONAIR_EDGE_SECRET);
    assert.equal(config.services.control!.environment!.ONAIR_EDGE_URL, EDGE_ENV.ONAIR_EDGE_URL);
    assert.equal(config.services.control!.environment!.ONAIR_SECRET, BASE_ENV.ONAIR_SECRET);
  });

  it('compose.edge.yaml refuses to render without the edge settings', () => {
    const res = composeConfig(['compose.yaml', 'compose.edge.yaml'], BASE_ENV);
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /ONAIR_EDGE_(URL|SECRET)/);
  });

  it('all three files together render', () => {
    const res = composeConfig(['compose.yaml', 'compose.observability.yaml', 'compose.edge.yaml'], { ...BASE_ENV, ...EDGE_ENV });
    assert.equal(res.status, 0, res.stderr);
  });
});
