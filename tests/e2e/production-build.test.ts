/**
 * What `npm start`, `npm run start:media`, the Dockerfile and compose.yaml run is the compiled
 * dist/ (scripts/build.mjs), not the sources the other tests load through tsx. This checks that
 * build: the all-in-one process starts from it with its npm script's node flags, migrates, serves
 * the API, the pages and the players' vendor files, and stops on SIGTERM; the media service starts
 * from it too; and compose.yaml's commands name files the build makes, with the same flags.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { missingTool } from '../../core/testing/tools.js';
import { nodeScript } from '../../bench/lib/npm-script.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const nodeCommand = (script: string) => nodeScript(ROOT, script);

/** Starts a compiled entry point with its script's flags; resolves with its stdout so far once `ready` matches. */
function startBuilt(script: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; out: string; match: RegExpExecArray }> {
  const run = nodeCommand(script);
  const child = spawn(process.execPath, [...run.flags, join(ROOT, run.file)], { cwd: ROOT, env: { ...process.env, ...env, ...run.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not get ready:\n${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d;
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, out, match });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${out}`));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

describe('the production build (dist/)', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'onair-build-'));
    dirs.push(d);
    return d;
  };
  before(() => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('holds every entry point the npm scripts run, and no test file, port contract or test kit', () => {
    for (const script of ['start', 'start:media', 'start:control']) assert.ok(existsSync(join(ROOT, nodeCommand(script).file)), script);
    assert.ok(existsSync(join(ROOT, 'dist/core/database/migrations/0001-users.js')));
    assert.ok(!existsSync(join(ROOT, 'dist/core/tokens/tokens.test.js')));
    assert.ok(!existsSync(join(ROOT, 'dist/core/pubsub/pubsub.contract.js')));
    for (const kit of ['core/testing', 'control/testing', 'media/testing', 'transcoder/testing']) assert.ok(!existsSync(join(ROOT, 'dist', kit)), kit);
  });

  it('WebRTC (werift) is one bundled file the built code imports, and two peers from it connect (ICE + DTLS, X25519 and signatures through node:crypto)', () => {
    const vendor = join(ROOT, 'dist/vendor/werift.js');
    assert.ok(existsSync(vendor), 'dist/vendor/werift.js');
    const bare = spawnSync('grep', ['-rlE', `(from|import\\()\\s*["']werift["']`, join(ROOT, 'dist'), '--include=*.js'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(bare, '', 'no built file imports werift from node_modules');
    assert.match(readFileSync(join(ROOT, 'dist/media/servers/whep/peer.js'), 'utf8'), /from "\.\.\/\.\.\/\.\.\/vendor\/werift\.js"/);
    // Plain node (no tsx), as npm run start:media runs: an offerer and an answerer from the bundle.
    const script = `
      import { createRequire } from 'node:module';
      import { RTCPeerConnection } from ${JSON.stringify(pathToFileURL(vendor).href)};
      // X25519 and signing through node:crypto on the bundle's handshakes (tweetnacl and @fidm/x509 external).
      import { nativeDtlsCalls, useNativeDtlsCrypto } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/media/servers/whep/native-dtls-crypto.js')).href)};
      useNativeDtlsCrypto();
      const opts = { iceServers: [] };
      const a = new RTCPeerConnection(opts), b = new RTCPeerConnection(opts);
      const gathered = (pc) => new Promise((r) => pc.iceGatheringState === 'complete' ? r() : pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r()));
      const connected = (pc) => new Promise((r) => pc.connectionStateChange.subscribe((s) => s === 'connected' && r()));
      const up = Promise.all([connected(a), connected(b)]);
      a.addTransceiver('video', { direction: 'sendonly' });
      await a.setLocalDescription(await a.createOffer());
      await gathered(a);
      await b.setRemoteDescription(a.localDescription);
      await b.setLocalDescription(await b.createAnswer());
      await gathered(b);
      await a.setRemoteDescription(b.localDescription);
      const timer = setTimeout(() => { console.log('not connected'); process.exit(1); }, 20000);
      await up;
      clearTimeout(timer);
      const fromNodeModules = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/node_modules/werift/'));
      const native = nativeDtlsCalls.x25519Shared >= 2 && nativeDtlsCalls.sign >= 2;
      console.log(JSON.stringify({ connected: true, fromNodeModules: fromNodeModules.length, native }));
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), { connected: true, fromNodeModules: 0, native: true });
  });

  it('npm start: the all-in-one process starts from dist/, serves the API, pages and players, and stops on SIGTERM', async () => {
    const env = { ONAIR_DATA_DIR: tmp(), ONAIR_HTTP_PORT: '0', ONAIR_RTMP_PORT: '0', ONAIR_HOST: '127.0.0.1', ONAIR_LOG_LEVEL: 'warn' };
    const { child, match } = await startBuilt('start', env, /Health and metrics:\s+(http:\/\/127\.0\.0\.1:\d+)\/healthz/);
    children.push(child);
    const base = match[1]!;
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual((await health.json() as { checks: unknown }).checks, { database: 'ok', cache: 'ok' }, 'migrated SQLite database');
    const register = await fetch(`${base}/api/v1/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'build_check', password: 'a-long-password', role: 'anchor' }),
    });
    assert.equal(register.status, 201);
    const page = await fetch(`${base}/watch/123`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    for (const vendor of ['/vendor/mpegts.js', '/vendor/hls.js']) {
      const res = await fetch(base + vendor);
      assert.equal(res.status, 200, vendor);
      assert.ok((await res.arrayBuffer()).byteLength > 100_000, `${vendor} is the player's build`);
    }
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
  });

  it('npm run start:media: the media service starts from dist/ and answers /healthz', { skip: missingTool('ffmpeg') }, async () => {
    const env = {
      ONAIR_DATA_DIR: tmp(), ONAIR_HTTP_PORT: '0', ONAIR_RTMP_PORT: '0', ONAIR_HOST: '127.0.0.1', ONAIR_LOG_LEVEL: 'info',
      ONAIR_CONTROL_URL: 'http://127.0.0.1:9', ONAIR_MEDIA_CALLBACK_KEY: 'media-key-0123456789', ONAIR_PLAY_TOKEN_KEY: 'play-token-key-0123456789abcdef0123',
    };
    const { child, match } = await startBuilt('start:media', env, /"http":(\d+),"rtmp":\d+,"msg":"media service listening"/);
    children.push(child);
    const res = await fetch(`http://127.0.0.1:${match[1]}/healthz`);
    assert.equal(res.status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
  });

  it('npm run start:transcoder runs the built transcoder alone: healthy, and it stops on SIGTERM', async () => {
    const env = {
      ONAIR_DATA_DIR: tmp(), ONAIR_HTTP_PORT: '0', ONAIR_HOST: '127.0.0.1', ONAIR_LOG_LEVEL: 'info', ONAIR_SECRET: 'transcoder-secret-0123456789',
    };
    const { child, match } = await startBuilt('start:transcoder', env, /"http":(\d+),"objectStore":"\w+","bus":"\w+","msg":"transcoder listening"/);
    children.push(child);
    const res = await fetch(`http://127.0.0.1:${match[1]}/healthz`);
    assert.equal(res.status, 200);
    const metrics = await (await fetch(`http://127.0.0.1:${match[1]}/metrics`)).text();
    assert.match(metrics, /onair_transcoder_jobs_running 0/);
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
  });

  it('compose.yaml runs the built files with the npm scripts\' node flags, and docker-compose accepts it', { skip: missingTool('docker-compose', 'version') }, () => {
    const env = { ...process.env, ONAIR_SECRET: 'compose-check-secret-0123', ONAIR_MEDIA_CALLBACK_KEY: 'compose-check-key', ONAIR_PLAY_TOKEN_KEY: 'compose-check-play-token-key-0123456789' };
    const r = spawnSync('docker-compose', ['-f', join(ROOT, 'compose.yaml'), 'config'], { cwd: ROOT, env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const compose = readFileSync(join(ROOT, 'compose.yaml'), 'utf8');
    for (const [service, script] of [['control', 'start:control'], ['media', 'start:media'], ['transcoder', 'start:transcoder']] as const) {
      const { env, flags, file } = nodeCommand(script);
      const expected = `command: ${JSON.stringify(['node', ...flags, file]).replaceAll(',', ', ')}`;
      assert.ok(compose.includes(expected), `${service}: ${expected}`);
      for (const [name, value] of Object.entries(env)) assert.ok(compose.includes(`${name}: "${value}"`), `${service}: ${name}=${value}`);
    }
    const docker = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const start = nodeCommand('start');
    assert.ok(docker.includes(`CMD ${JSON.stringify(['node', ...start.flags, start.file]).replaceAll(',', ', ')}`), 'Dockerfile runs what npm start runs');
    for (const [name, value] of Object.entries(start.env)) assert.match(docker, new RegExp(`^ENV .*\\b${name}=${value}\\b`, 'm'), `Dockerfile sets ${name}`);
  });
});
