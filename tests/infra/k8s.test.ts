/**
 * infra/k8s: every overlay is rendered with `kubectl kustomize` (Debian's kubectl, no cluster) and
 * the rendered objects are checked the way the API server and the controllers would use them:
 * selectors match pod labels, Services reach named container ports, every secretKeyRef / ConfigMap /
 * volume claim exists, every container has an image, probes and resource requests, autoscalers point
 * at real workloads, and every ONAIR_* variable handed to a role is one onair reads. Each object is
 * also validated against the Kubernetes OpenAPI schema (the kubernetes-models package, no cluster).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { missingTool } from '../../core/testing/tools.js';

const root = new URL('../../', import.meta.url).pathname;
const overlaysDir = join(root, 'infra/k8s/overlays');
const skip = missingTool('kubectl', 'version');

type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };

/** Every ONAIR_* name the sources read (core, the roles), plus the C library's knob the npm scripts set. */
function knownEnvNames(): Set<string> {
  const names = new Set(['MALLOC_ARENA_MAX']);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/ONAIR_[A-Z0-9_]+/g)) names.add(m[0]);
      }
    }
  };
  for (const dir of ['core', 'control', 'media', 'transcoder', 'web']) if (existsSync(join(root, dir))) walk(join(root, dir));
  return names;
}

/** Renders one overlay from a copy of infra/ (so production's secrets.env can come from its example). */
function render(overlay: string): Obj[] {
  const work = mkdtempSync(join(tmpdir(), 'onair-k8s-'));
  try {
    cpSync(join(root, 'infra/k8s'), join(work, 'infra/k8s'), { recursive: true });
    cpSync(join(root, 'infra/nginx'), join(work, 'infra/nginx'), { recursive: true });
    const dir = join(work, 'infra/k8s/overlays', overlay);
    if (existsSync(join(dir, 'secrets.env.example')) && !existsSync(join(dir, 'secrets.env'))) {
      cpSync(join(dir, 'secrets.env.example'), join(dir, 'secrets.env'));
    }
    const res = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 0, `kubectl kustomize ${overlay}: ${res.stderr}`);
    const docs = parseAllDocuments(res.stdout);
    for (const d of docs) assert.deepEqual(d.errors, [], `YAML errors in ${overlay}`);
    return docs.map((d) => d.toJS() as Obj).filter(Boolean);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const workloadKinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const podSpec = (o: Obj) => o.spec.template.spec;
const containers = (o: Obj): any[] => [...(podSpec(o).initContainers ?? []), ...podSpec(o).containers];
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const overlays = existsSync(overlaysDir) ? readdirSync(overlaysDir).filter((d) => statSync(join(overlaysDir, d)).isDirectory()) : [];

describe('Kubernetes manifests (infra/k8s)', { skip }, () => {
  it('has a trial and a production overlay', () => {
    assert.deepEqual([...overlays].sort(), ['production', 'trial']);
  });

  for (const overlay of overlays) {
    describe(`overlay ${overlay}`, () => {
      let objs: Obj[];
      const find = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
      const workloads = () => objs.filter((o) => workloadKinds.has(o.kind));
      before(() => { objs = render(overlay); });
      after(() => undefined);

      it('every object passes the Kubernetes API schema (kubernetes-models: types, required fields, enums)', async () => {
        for (const o of objs) {
          const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
          const module = `kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`;
          const Model = (await import(module))[o.kind] as new (data: unknown) => { validate(): void };
          assert.ok(Model, `no schema for ${o.apiVersion} ${o.kind}`);
          // kustomize folds long base64 values over lines; the API server's decoder skips the
          // newlines, the schema's "byte" format does not: compare the unfolded value.
          const data = o.kind === 'Secret' && o.data ? { ...o, data: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, v.replace(/\s+/g, '')])) } : o;
          assert.doesNotThrow(() => new Model(data).validate(), (err: Error) => assert.fail(`${o.kind}/${o.metadata.name}: ${err.message}`));
        }
      });

      it('no object holds a field the API does not know (TypeScript excess-property check against the API types)', () => {
        // The schema validation above ignores unknown fields (a typo such as `periodSecond` would be
        // dropped by the API server silently); object literals typed with kubernetes-models'
        // interfaces make tsc report them.
        // Inside the repository (tmp/ is git-ignored) so tsc resolves kubernetes-models from node_modules.
        mkdirSync(join(root, 'tmp'), { recursive: true });
        const dir = mkdtempSync(join(root, 'tmp', 'k8s-types-'));
        try {
          const lines: string[] = [];
          objs.forEach((o, i) => {
            const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
            lines.push(`import type { I${o.kind} as T${i} } from 'kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}';`);
            lines.push(`export const o${i}: T${i} = ${JSON.stringify(o)};`);
          });
          writeFileSync(join(dir, 'check.ts'), lines.join('\n'));
          const res = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck',
            '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', join(dir, 'check.ts')], { encoding: 'utf8', timeout: 120_000 });
          assert.equal(res.status, 0, res.stdout);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

      it('renders every role: control, media, transcoder, edge, with their Services and autoscalers', () => {
        assert.equal(find('StatefulSet', 'control')?.kind, 'StatefulSet');
        assert.equal(find('StatefulSet', 'media')?.kind, 'StatefulSet');
        assert.equal(find('StatefulSet', 'transcoder')?.kind, 'StatefulSet');
        assert.equal(find('Deployment', 'edge')?.kind, 'Deployment');
        for (const name of ['control', 'media', 'media-rtmp', 'edge']) assert.ok(find('Service', name), `Service ${name}`);
        for (const name of ['control', 'edge', 'transcoder']) assert.ok(find('HorizontalPodAutoscaler', name), `HPA ${name}`);
        assert.ok(find('ConfigMap', 'onair-config'));
        assert.ok(objs.some((o) => o.kind === 'Secret' && o.metadata.name.startsWith('onair-secrets')), 'the Secret onair-secrets');
        // Control runs several replicas; media is one origin per stream set (docs/architecture.md).
        assert.ok(find('StatefulSet', 'control')!.spec.replicas >= 1);
        assert.equal(find('StatefulSet', 'media')!.spec.replicas, 1);
      });

      it('exposes RTMP ingest outside the cluster on 1935 and the edge on 80', () => {
        const rtmp = find('Service', 'media-rtmp')!;
        assert.ok(['LoadBalancer', 'NodePort'].includes(rtmp.spec.type), rtmp.spec.type);
        assert.ok(rtmp.spec.ports.some((p: any) => p.port === 1935 && p.protocol !== 'UDP'));
        const edge = find('Service', 'edge')!;
        assert.ok(['LoadBalancer', 'NodePort'].includes(edge.spec.type));
        assert.ok(edge.spec.ports.some((p: any) => p.port === 80));
      });

      it('selectors match the pod labels, and every Service reaches a named container port', () => {
        for (const w of workloads()) {
          assert.ok(matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels), `${w.kind}/${w.metadata.name} selector`);
        }
        for (const svc of objs.filter((o) => o.kind === 'Service')) {
          const pods = workloads().filter((w) => matches(svc.spec.selector, w.spec.template.metadata.labels));
          assert.ok(pods.length > 0, `Service ${svc.metadata.name} selects no workload`);
          for (const port of svc.spec.ports) {
            for (const w of pods) {
              const ports = containers(w).flatMap((c) => c.ports ?? []);
              const ok = typeof port.targetPort === 'string'
                ? ports.some((p: any) => p.name === port.targetPort)
                : ports.some((p: any) => p.containerPort === (port.targetPort ?? port.port));
              assert.ok(ok, `Service ${svc.metadata.name} port ${port.name} has no container port in ${w.metadata.name}`);
            }
          }
        }
        for (const sts of objs.filter((o) => o.kind === 'StatefulSet')) {
          const governing = find('Service', sts.spec.serviceName);
          assert.ok(governing, `StatefulSet ${sts.metadata.name}: Service ${sts.spec.serviceName}`);
          // The roles' pod names carry their worker ids: their governing Services are headless.
          if (['control', 'media', 'transcoder'].includes(sts.metadata.name)) assert.equal(governing!.spec.clusterIP, 'None', `${sts.spec.serviceName} is headless`);
        }
      });

      it('every secretKeyRef, ConfigMap, volume and claim exists', () => {
        for (const w of workloads()) {
          for (const c of containers(w)) {
            for (const e of c.env ?? []) {
              const ref = e.valueFrom?.secretKeyRef;
              if (ref) {
                const secret = find('Secret', ref.name);
                assert.ok(secret, `${w.metadata.name}/${c.name} ${e.name}: Secret ${ref.name} is not rendered`);
                const keys = Object.keys({ ...(secret!.data ?? {}), ...((secret as any).stringData ?? {}) });
                assert.ok(keys.includes(ref.key), `${w.metadata.name}/${c.name} ${e.name}: Secret ${ref.name} has no key ${ref.key}`);
              }
              const cmRef = e.valueFrom?.configMapKeyRef;
              if (cmRef) assert.ok(find('ConfigMap', cmRef.name)?.data?.[cmRef.key] !== undefined, `${e.name}: ConfigMap key`);
            }
            for (const from of c.envFrom ?? []) {
              if (from.configMapRef) assert.ok(find('ConfigMap', from.configMapRef.name), `ConfigMap ${from.configMapRef.name}`);
              if (from.secretRef) assert.ok(find('Secret', from.secretRef.name), `Secret ${from.secretRef.name}`);
            }
            const volumes = new Set((podSpec(w).volumes ?? []).map((v: any) => v.name));
            for (const t of w.spec.volumeClaimTemplates ?? []) volumes.add(t.metadata.name);
            for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `${w.metadata.name}/${c.name}: volume ${m.name}`);
          }
          for (const v of podSpec(w).volumes ?? []) {
            if (v.configMap) assert.ok(find('ConfigMap', v.configMap.name), `${w.metadata.name}: ConfigMap ${v.configMap.name}`);
            if (v.secret) assert.ok(find('Secret', v.secret.secretName), `${w.metadata.name}: Secret ${v.secret.secretName}`);
            if (v.persistentVolumeClaim) assert.ok(find('PersistentVolumeClaim', v.persistentVolumeClaim.claimName), `${w.metadata.name}: claim`);
          }
        }
        // The edge's ConfigMap carries the config and start script that the edge test runs.
        const edge = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('onair-edge'))!;
        assert.equal(edge.data!['edge.conf'], readFileSync(join(root, 'infra/nginx/edge.conf'), 'utf8'));
        assert.ok(edge.data!['edge-start.sh']);
      });

      it('every container has a tagged image, probes and resource requests', () => {
        for (const w of workloads()) {
          for (const c of podSpec(w).containers) {
            const where = `${w.metadata.name}/${c.name}`;
            assert.match(c.image, /^[a-z0-9./-]+(:[\w.-]+)$/, `${where}: image ${c.image} needs a tag`);
            assert.ok(c.readinessProbe, `${where}: readinessProbe`);
            assert.ok(c.livenessProbe, `${where}: livenessProbe`);
            assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${where}: resource requests`);
            assert.ok(c.resources?.limits?.memory, `${where}: memory limit`);
            for (const probe of [c.readinessProbe, c.livenessProbe]) {
              const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
              if (typeof port === 'string') assert.ok((c.ports ?? []).some((p: any) => p.name === port), `${where}: probe port ${port}`);
            }
          }
        }
        const control = podSpec(find('StatefulSet', 'control')!).containers[0];
        assert.equal(control.readinessProbe.httpGet.path, '/healthz');
        assert.match(control.command.join(' '), /dist\/control\/main\.js/);
        assert.match(podSpec(find('StatefulSet', 'media')!).containers[0].command.join(' '), /dist\/media\/main\.js/);
        assert.match(podSpec(find('StatefulSet', 'transcoder')!).containers[0].command.join(' '), /dist\/transcoder\/main\.js/);
        if (overlay === 'production') {
          assert.match(control.image, /^registry\.example\.com\/onair:/, 'production pulls from a registry');
        }
      });

      it('each onair process gets a worker id of its own (snowflake ids), in disjoint ranges', () => {
        const ranges: Array<[string, number, number]> = [];
        for (const [name, offset] of [['control', 0], ['transcoder', 512], ['media', 1000]] as const) {
          const sts = find('StatefulSet', name)!;
          const cmd = podSpec(sts).containers[0].command.join(' ');
          assert.match(cmd, /ONAIR_WORKER_ID=.*HOSTNAME##\*-/, `${name}: worker id from the pod ordinal`);
          if (offset) assert.ok(cmd.includes(`${offset} +`), `${name}: offset ${offset}`);
          const hpa = find('HorizontalPodAutoscaler', name);
          const max = hpa ? hpa.spec.maxReplicas : sts.spec.replicas;
          ranges.push([name, offset, offset + max - 1]);
        }
        for (const [name, lo, hi] of ranges) {
          assert.ok(hi <= 1023, `${name} worker ids up to ${hi}`);
          for (const [other, lo2, hi2] of ranges) if (other !== name) assert.ok(hi < lo2 || lo > hi2, `${name} and ${other} overlap`);
        }
      });

      it('the onair roles run unprivileged, and control and the edge keep one pod through voluntary disruptions', () => {
        for (const name of ['control', 'media', 'transcoder']) {
          const pod = podSpec(find('StatefulSet', name)!);
          assert.equal(pod.securityContext?.runAsNonRoot, true, `${name}: runAsNonRoot`);
          assert.ok(pod.securityContext?.fsGroup, `${name}: fsGroup (volumes writable for the user)`);
          const c = pod.containers[0];
          assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${name}: no privilege escalation`);
          assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${name}: capabilities dropped`);
        }
        for (const name of ['control', 'edge']) {
          const pdb = find('PodDisruptionBudget', name);
          assert.ok(pdb, `PodDisruptionBudget ${name}`);
          const target = name === 'edge' ? find('Deployment', 'edge')! : find('StatefulSet', 'control')!;
          assert.ok(matches(pdb!.spec.selector.matchLabels, target.spec.template.metadata.labels), `${name}: PDB selects its pods`);
        }
      });

      it('autoscalers target existing workloads: control and edge on CPU, the transcoder on queue depth', () => {
        for (const hpa of objs.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
          const t = hpa.spec.scaleTargetRef;
          assert.ok(find(t.kind, t.name), `HPA ${hpa.metadata.name} -> ${t.kind}/${t.name}`);
          assert.ok(hpa.spec.minReplicas <= hpa.spec.maxReplicas);
        }
        const cpu = (name: string) => find('HorizontalPodAutoscaler', name)!.spec.metrics.some((m: any) => m.resource?.name === 'cpu');
        assert.ok(cpu('control') && cpu('edge'));
        const tq = find('HorizontalPodAutoscaler', 'transcoder')!.spec.metrics;
        assert.ok(tq.some((m: any) => m.external?.metric?.name === 'onair_transcoder_queue_depth'));
      });

      it('hands every role only ONAIR_* settings onair reads, and media never the server secret', () => {
        const known = knownEnvNames();
        const config = find('ConfigMap', 'onair-config')!;
        for (const key of Object.keys(config.data ?? {})) assert.ok(known.has(key), `ConfigMap key ${key} is not a setting`);
        for (const name of ['control', 'media', 'transcoder']) {
          const c = podSpec(find('StatefulSet', name)!).containers[0];
          for (const e of c.env ?? []) assert.ok(known.has(e.name), `${name}: ${e.name} is not a setting`);
        }
        const media = podSpec(find('StatefulSet', 'media')!).containers[0];
        assert.ok(!media.env.some((e: any) => e.name === 'ONAIR_SECRET'), 'media does not get ONAIR_SECRET');
        assert.ok(media.env.some((e: any) => e.name === 'ONAIR_PLAY_TOKEN_KEY'), 'media checks play tokens itself');
      });

      it('ships only the in-cluster dependencies the overlay means to', () => {
        const deps = ['mariadb', 'redis', 'minio'].filter((n) => find('StatefulSet', n));
        assert.deepEqual(deps, overlay === 'trial' ? ['mariadb', 'redis', 'minio'] : []);
        const secret = objs.find((o) => o.kind === 'Secret')!;
        const url = Buffer.from(secret.data!.ONAIR_DATABASE_URL, 'base64').toString();
        if (overlay === 'trial') assert.match(url, /@mariadb:3306\//);
        else assert.doesNotMatch(url, /@mariadb:3306\//);
      });
    });
  }
});
