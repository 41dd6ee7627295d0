/**
 * scripts/deploy.sh: bash -n (and shellcheck where installed), then every path in --dry-run, which
 * validates for real (the .env, docker-compose config, kubectl kustomize) and prints the commands it
 * would run. Every `scripts/deploy.sh ...` line of docs/runbook.md is run the same way, and the
 * dead-letter command the script runs inside a control container is run for real on a built dist/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingTool } from '../../core/testing/tools.js';

const root = new URL('../../', import.meta.url).pathname;
const skip = missingTool('docker-compose', 'version') || missingTool('kubectl', 'version');

/** A copy of what deploy.sh reads, so production's secrets.env can exist without touching the repository. */
function copyRepo(into: string): string {
  for (const f of ['compose.yaml', 'compose.observability.yaml', 'compose.edge.yaml', 'Dockerfile']) cpSync(join(root, f), join(into, f));
  for (const d of ['infra', 'grafana', 'nginx']) cpSync(join(root, d), join(into, d), { recursive: true });
  mkdirSync(join(into, 'scripts'));
  cpSync(join(root, 'scripts/deploy.sh'), join(into, 'scripts/deploy.sh'));
  cpSync(join(root, 'infra/k8s/overlays/production/secrets.env.example'), join(into, 'infra/k8s/overlays/production/secrets.env'));
  return into;
}

describe('scripts/deploy.sh', { skip }, () => {
  let work: string;
  let envFile: string;
  let edgeEnvFile: string;
  let prodRoot: string;

  /** deploy.sh [--dry-run] args... with ONAIR_ENV_FILE; status and output. */
  function deploy(args: string[], opts: { env?: string; repo?: string } = {}) {
    const res = spawnSync('bash', [join(opts.repo ?? root, 'scripts/deploy.sh'), ...args], {
      encoding: 'utf8', timeout: 120_000,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TMPDIR: work, ONAIR_ENV_FILE: opts.env ?? envFile },
    });
    return { status: res.status, out: res.stdout, err: res.stderr };
  }

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'onair-deploy-'));
    envFile = join(work, 'env');
    writeFileSync(envFile, `ONAIR_SECRET=${'s'.repeat(32)}\nONAIR_PLAY_TOKEN_KEY=${'p'.repeat(32)}\nONAIR_MEDIA_CALLBACK_KEY=media-key-0123456789\n`);
    edgeEnvFile = join(work, 'env-edge');
    writeFileSync(edgeEnvFile, `${readFileSync(envFile, 'utf8')}ONAIR_EDGE_URL=http://localhost:8088\nONAIR_EDGE_SECRET=edge-secret-0123456789\n`);
    prodRoot = copyRepo(mkdtempSync(join(tmpdir(), 'onair-deploy-repo-')));
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
    rmSync(prodRoot, { recursive: true, force: true });
  });

  it('is valid bash (bash -n; shellcheck when installed)', (t) => {
    const syntax = spawnSync('bash', ['-n', join(root, 'scripts/deploy.sh')], { encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);
    const sc = spawnSync('shellcheck', ['--version'], { stdio: 'ignore' });
    if (sc.error) return t.diagnostic('shellcheck is not installed: bash -n only');
    const res = spawnSync('shellcheck', ['-S', 'warning', join(root, 'scripts/deploy.sh')], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stdout);
  });

  it('prints its usage and refuses unknown commands', () => {
    for (const args of [[], ['nope'], ['compose', 'nope'], ['k8s', 'nope', 'render'], ['k8s', 'trial', 'nope']]) {
      const res = deploy(['--dry-run', ...args]);
      assert.equal(res.status, 2, `${args.join(' ')}: ${res.out}${res.err}`);
    }
    assert.match(deploy([]).err, /scripts\/deploy\.sh \[--dry-run\] compose <command>/);
  });

  it('compose: checks .env, validates the files and prints what it would run', () => {
    const missing = join(work, 'env-missing');
    writeFileSync(missing, 'ONAIR_SECRET=x\n');
    const bad = deploy(['--dry-run', 'compose', 'up'], { env: missing });
    assert.equal(bad.status, 2);
    assert.match(bad.err, /ONAIR_PLAY_TOKEN_KEY is not set/);

    const up = deploy(['--dry-run', 'compose', 'up']);
    assert.equal(up.status, 0, up.err);
    assert.match(up.out, /^\+ docker-compose --env-file \S+ -f compose\.yaml -f compose\.observability\.yaml up -d --build --remove-orphans$/m);
    const edge = deploy(['--dry-run', 'compose', 'up'], { env: edgeEnvFile });
    assert.equal(edge.status, 0, edge.err);
    assert.match(edge.out, /-f compose\.observability\.yaml -f compose\.edge\.yaml up -d/);

    const check = deploy(['--dry-run', 'compose', 'check']);
    assert.match(check.out, /onair roles: .*control/);
    assert.match(deploy(['--dry-run', 'compose', 'scale', 'control', '3']).out, /up -d --no-deps --scale control=3 control/);
    assert.equal(deploy(['--dry-run', 'compose', 'scale', 'media', '2']).status, 2, 'media does not scale');
  });

  it('compose: backup, restore and dead letters are the documented commands', () => {
    const backup = deploy(['--dry-run', 'compose', 'backup', '/srv/backup/onair-1']);
    assert.equal(backup.status, 0, backup.err);
    assert.match(backup.out, /exec -T mysql sh -c exec\\ mariadb-dump\\ --single-transaction.* > \/srv\/backup\/onair-1\/mariadb\.sql$/m);
    assert.match(backup.out, /exec -T minio sh -c .*mc\\ mirror.* > \/srv\/backup\/onair-1\/minio-onair\.tar$/m);
    assert.match(backup.out, /exec -T redis sh -c redis-cli\\ --rdb.* > \/srv\/backup\/onair-1\/redis\.rdb$/m);
    const restore = deploy(['--dry-run', 'compose', 'restore', '/srv/backup/onair-1']);
    assert.equal(restore.status, 0, restore.err);
    const lines = restore.out.trim().split('\n');
    assert.match(lines[0]!, / stop( \w+)*( control| media)/, 'the roles stop first');
    assert.match(lines[1]!, /exec -T mysql sh -c exec\\ mariadb\\ .* < \/srv\/backup\/onair-1\/mariadb\.sql$/);
    assert.match(lines[2]!, /exec -T minio .* < \/srv\/backup\/onair-1\/minio-onair\.tar$/);
    assert.match(lines[3]!, / start /);
    assert.match(deploy(['--dry-run', 'compose', 'dead-letters', 'replay', 'all']).out, /exec -T control node dist\/control\/cli\.js dead-letters replay all$/m);
    assert.match(deploy(['--dry-run', 'compose', 'dead-letters', 'list']).out, /dead-letters list$/m);
    assert.equal(deploy(['--dry-run', 'compose', 'dead-letters', 'replay', '1;rm']).status, 2);
  });

  it('k8s: renders the overlay, then applies, scales, restarts and backs up the trial', () => {
    const check = deploy(['--dry-run', 'k8s', 'trial', 'check']);
    assert.equal(check.status, 0, check.err);
    assert.match(check.out, /overlay trial renders into namespace onair-trial: \d+ objects/);
    const apply = deploy(['--dry-run', 'k8s', 'trial', 'apply']);
    assert.match(apply.out, /^\+ kubectl apply -k infra\/k8s\/overlays\/trial$/m);
    assert.match(apply.out, /kubectl create namespace onair-trial/);
    assert.match(deploy(['--dry-run', 'k8s', 'trial', 'scale', 'control', '4']).out, /patch hpa control --type merge -p .*minReplicas.*4/);
    assert.equal(deploy(['--dry-run', 'k8s', 'trial', 'scale', 'media', '2']).status, 2, 'media is one origin');
    assert.match(deploy(['--dry-run', 'k8s', 'trial', 'restart']).out, /rollout restart statefulset\/control statefulset\/media statefulset\/transcoder deployment\/edge/);
    const backup = deploy(['--dry-run', 'k8s', 'trial', 'backup', '/srv/b']);
    assert.match(backup.out, /-n onair-trial exec statefulset\/mariadb -- sh -c exec\\ mariadb-dump.* > \/srv\/b\/mariadb\.sql$/m);
    assert.match(deploy(['--dry-run', 'k8s', 'trial', 'dead-letters', 'list']).out, /exec statefulset\/control -- node dist\/control\/cli\.js dead-letters list/);
    const render = deploy(['k8s', 'trial', 'render']);
    assert.equal(render.status, 0);
    assert.match(render.out, /kind: StatefulSet/);
  });

  it('k8s production: needs secrets.env, and leaves the external services\' backups to their tools', () => {
    const noSecrets = deploy(['--dry-run', 'k8s', 'production', 'check']);
    assert.equal(noSecrets.status, 2);
    assert.match(noSecrets.err, /secrets\.env not found: cp .*secrets\.env\.example/);
    const check = deploy(['--dry-run', 'k8s', 'production', 'check'], { repo: prodRoot });
    assert.equal(check.status, 0, check.err);
    assert.match(check.out, /namespace onair:/);
    const backup = deploy(['--dry-run', 'k8s', 'production', 'backup', '/srv/b'], { repo: prodRoot });
    assert.equal(backup.status, 2);
    assert.match(backup.err, /external MariaDB\/Redis\/S3/);
  });

  it('runs every scripts/deploy.sh command of docs/runbook.md (dry run)', () => {
    const runbook = readFileSync(join(root, 'docs/runbook.md'), 'utf8');
    const commands = [...runbook.matchAll(/^\s*scripts\/deploy\.sh (.+)$/gm)].map((m) => m[1]!.replace(/\s+#.*$/, '').trim());
    assert.ok(commands.length >= 10, `only ${commands.length} deploy.sh commands in the runbook`);
    for (const line of commands) {
      const args = line.split(/\s+/);
      // Production needs its secrets.env: the copy has one.
      const res = deploy(['--dry-run', ...args], { env: edgeEnvFile, repo: args[1] === 'production' ? prodRoot : root });
      const refusedOnPurpose = args[1] === 'production' && (args[2] === 'backup' || args[2] === 'restore');
      assert.equal(res.status, refusedOnPurpose ? 2 : 0, `runbook: scripts/deploy.sh ${line}\n${res.err}`);
    }
  });

  it('the dead-letter command it runs in the control container works (compiled CLI)', () => {
    const build = spawnSync('node', [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.equal(build.status, 0, build.stderr);
    const data = join(work, 'data');
    const res = spawnSync('node', ['dist/control/cli.js', 'dead-letters', 'list'], {
      cwd: root, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '', ONAIR_DATA_DIR: data, ONAIR_LOG_LEVEL: 'silent' },
    });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /no dead letters/);
  });
});
