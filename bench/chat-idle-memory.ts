/**
 * npx tsx bench/chat-idle-memory.ts — what one idle chat socket costs the control node that holds it.
 *
 * One control node (bench/chat-node.ts, with start:control's env and Node flags, pinned to core 0);
 * this process opens N idle authenticated sockets (lean RFC 6455 clients, bench/lib/ws-lean-reader.ts,
 * JWT on `/ws?room_id=`), waits for the joins to settle, runs a full GC in the node and reads its
 * heap and RSS; then N more (2N open) and reads again. Prints per socket: JS heap used and RSS over
 * the node's base (0 -> N) and over the first N (N -> 2N: what each further socket adds, without the
 * room's one-off structures). Heap bytes are steady on a loaded machine; RSS moves with the allocator.
 * Env: ONAIR_BENCH_SOCKETS (N, default 2000), ONAIR_BENCH_ROUNDS (default 1: that many nodes in turn),
 * ONAIR_BENCH_SNAPSHOT_DIR (set: a heap snapshot at N and at 2N there, to diff with bench/heap-diff.ts).
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import jwt from 'jsonwebtoken';
import { connectLean, type LeanSocket } from './lib/ws-lean-reader.js';
import { startScript } from './lib/start-script.js';

const N = Number(process.env.ONAIR_BENCH_SOCKETS ?? 2000);
const ROUNDS = Number(process.env.ONAIR_BENCH_ROUNDS ?? 1);
const SNAPSHOT_DIR = process.env.ONAIR_BENCH_SNAPSHOT_DIR;
const SECRET = randomBytes(24).toString('base64url');
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stats { rss: number; heapUsed: number; heapTotal: number; external: number; sockets: number }

/** start:control's env assignments and Node flags: each node runs as production runs control. */
const startControl = startScript('start:control');

async function startNode(): Promise<{ child: ChildProcess; port: number; room: string }> {
  const snapshotFlags = SNAPSHOT_DIR ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${SNAPSHOT_DIR}`] : [];
  const child = fork(new URL('./chat-node.ts', import.meta.url).pathname, [], {
    env: { ...process.env, ...startControl.env, ONAIR_SECRET: SECRET },
    execArgv: [...startControl.flags, ...snapshotFlags, '--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try { execFileSync('taskset', ['-a', '-pc', '0', String(child.pid)], { stdio: 'ignore' }); } catch { /* no taskset */ }
  const { port, roomId } = await new Promise<{ port: number; roomId: string }>((resolve, reject) => {
    child.once('message', (m: { port: number; roomId: string }) => resolve(m));
    child.once('exit', (code) => reject(new Error(`chat node exited with ${code}`)));
  });
  return { child, port, room: roomId };
}

const stats = (child: ChildProcess) => new Promise<Stats>((resolve) => {
  child.once('message', (m: Stats) => resolve(m));
  child.send({ type: 'gc' });
});

/** Asks the node for a heap snapshot (SIGUSR2) and waits until the file is complete. */
async function snapshot(child: ChildProcess): Promise<void> {
  if (!SNAPSHOT_DIR) return;
  const before = new Set(readdirSync(SNAPSHOT_DIR));
  child.kill('SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await wait(200);
    const fresh = readdirSync(SNAPSHOT_DIR).filter((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    // The node answers IPC only once the (synchronous) snapshot is written.
    if (fresh.length > 0) {
      await stats(child);
      process.stderr.write(`  snapshot ${SNAPSHOT_DIR}/${fresh[0]}\n`);
      return;
    }
  }
}

const token = (id: string) => jwt.sign({ typ: 'access', sub: id, username: `u${id}`, role: 'viewer' }, SECRET, { algorithm: 'HS256', expiresIn: 3600 });

function open(port: number, room: string, id: string): Promise<LeanSocket> {
  return new Promise((resolve, reject) => {
    let welcomed = false;
    let lean: LeanSocket | undefined;
    connectLean({
      port, path: `/ws?token=${token(id)}&room_id=${room}`,
      onMessage: (p) => {
        if (!welcomed && p.includes('"welcome"')) {
          welcomed = true;
          if (lean) resolve(lean);
        }
      },
      onClose: (code) => { if (!welcomed) reject(new Error(`closed before welcome: ${code}`)); },
    }).then((s) => {
      lean = s;
      if (welcomed) resolve(s);
    }, reject);
  });
}

async function openMany(port: number, room: string, from: number, n: number): Promise<LeanSocket[]> {
  const out: LeanSocket[] = [];
  for (let i = 0; i < n; i += 50) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => open(port, room, String(from + i + j))))));
  }
  return out;
}

const kb = (bytes: number) => (bytes / 1024).toFixed(2);
process.stdout.write(`chat idle memory: N=${N}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
process.stdout.write('| round | heap/socket 0->N | heap/socket N->2N | RSS/socket 0->N | RSS/socket N->2N | heap total/socket 0->2N |\n|---|---|---|---|---|---|\n');
for (let r = 1; r <= ROUNDS; r++) {
  const node = await startNode();
  await wait(500);
  const base = await stats(node.child);
  const first = await openMany(node.port, node.room, 100_000, N);
  await wait(1500);
  const atN = await stats(node.child);
  await snapshot(node.child);
  const second = await openMany(node.port, node.room, 200_000, N);
  await wait(1500);
  const at2N = await stats(node.child);
  await snapshot(node.child);
  if (at2N.sockets !== 2 * N) process.stderr.write(`  warning: ${at2N.sockets} sockets open, expected ${2 * N}\n`);
  process.stdout.write(`| ${r} | ${kb((atN.heapUsed - base.heapUsed) / N)} KB | ${kb((at2N.heapUsed - atN.heapUsed) / N)} KB | ${kb((atN.rss - base.rss) / N)} KB | ${kb((at2N.rss - atN.rss) / N)} KB | ${kb((at2N.heapTotal - base.heapTotal) / (2 * N))} KB |\n`);
  for (const s of [...first, ...second]) s.terminate();
  await new Promise<void>((resolve) => {
    node.child.once('exit', () => resolve());
    node.child.send({ type: 'exit' });
    setTimeout(() => node.child.kill('SIGKILL'), 5000).unref();
  });
}
process.stdout.write(`load after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
process.exit(0);
