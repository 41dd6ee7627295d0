/**
 * CPU of WebRTC joins, werift's DTLS crypto through node:crypto (native-dtls-crypto.ts) or its own
 * JavaScript, A/B alternating in one process (a loaded machine moves both alike):
 *
 *   npx tsx bench/webrtc-join.ts [--pairs 5] [--rounds 8] [--dist] [--only native|js] [--profile FILE]
 *
 * Each round joins `--pairs` loopback pairs at once, each as the first publish's warm-up does it
 * (whep/peer.ts warmUp: a werift viewer's offer, the server's answer as WhepConn makes it, ICE and
 * DTLS to 'connected', both closed), and prints the process CPU (user + system) per pair: the
 * server's end and the viewer's, both werift, both in this process. `--dist` runs the built code
 * (npm run build first: dist/vendor/werift.js). One warm-up pair runs first (werift's load and first run).
 * `--profile FILE` writes a .cpuprofile of the rounds only (not the load and the first pair).
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Peer = typeof import('../media/servers/whep/peer.js');
type Crypto = typeof import('../media/servers/whep/native-dtls-crypto.js');

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const pairs = Number(arg('pairs', '5'));
const rounds = Math.min(Number(arg('rounds', '8')), 40);
const dist = process.argv.includes('--dist');
const root = join(import.meta.dirname, '..');
const from = (rel: string) => (dist ? pathToFileURL(join(root, 'dist', rel.replace(/\.ts$/, '.js'))).href : pathToFileURL(join(root, rel)).href);

const peer = (await import(from('media/servers/whep/peer.ts'))) as Peer;
const crypto = (await import(from('media/servers/whep/native-dtls-crypto.ts'))) as Crypto;
const settings = { iceHosts: ['127.0.0.1'], portRange: undefined, iceServers: [] } as unknown as Parameters<Peer['warmUp']>[0];

if (!(await peer.warmUp(settings))) throw new Error('the first pair did not connect');
const only = arg('only', '');
const profileFile = arg('profile', '');
const session = profileFile ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}
const rows: { mode: string; cpuMs: number; wallMs: number; ok: number; calls: number }[] = [];
for (let r = 0; r < rounds; r++) {
  const native = only ? only === 'native' : r % 2 === 0;
  crypto.chooseDtlsCrypto(native);
  const calls0 = crypto.nativeDtlsCalls.x25519Shared;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ok = (await Promise.all(Array.from({ length: pairs }, () => peer.warmUp(settings, 10_000)))).filter(Boolean).length;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  rows.push({ mode: native ? 'native' : 'js', cpuMs: (cpu.user + cpu.system) / 1000 / pairs, wallMs, ok, calls: crypto.nativeDtlsCalls.x25519Shared - calls0 });
  await new Promise((r) => setTimeout(r, 200));
}
if (session) writeFileSync(profileFile, JSON.stringify((await session.post('Profiler.stop')).profile));
console.log(`${pairs} pairs joining at once per round, ${dist ? 'dist (bundle)' : 'tsx'}; CPU per pair = both ends`);
console.log('round  mode    connected  native X25519  cpu ms/pair  wall ms');
rows.forEach((x, i) => console.log(`${String(i + 1).padStart(5)}  ${x.mode.padEnd(6)}  ${`${x.ok}/${pairs}`.padStart(9)}  ${String(x.calls).padStart(13)}  ${x.cpuMs.toFixed(1).padStart(11)}  ${x.wallMs.toFixed(0).padStart(7)}`));
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const m of ['native', 'js']) {
  const xs = rows.filter((x) => x.mode === m);
  if (!xs.length) continue;
  console.log(`${m}: cpu ms/pair median ${med(xs.map((x) => x.cpuMs)).toFixed(1)}, wall median ${med(xs.map((x) => x.wallMs)).toFixed(0)} ms`);
}
process.exit(0);
