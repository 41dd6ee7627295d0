/**
 * `node --import tsx bench/lib/join-probe.ts URL PROTOCOL COUNT DELAY_MS`: after DELAY_MS, opens
 * COUNT single viewers one after another, each closed at its first keyframe, and prints their
 * times to first frame (ms) as a JSON array. bench:media runs it as a child so that the load
 * generator's own busy event loop does not delay the probes' readings.
 */
import { ViewerPool } from '../../stress/viewers/viewer-pool.js';
import type { Protocol } from '../../stress/viewers/viewer-state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function probeJoins(url: URL, protocol: Protocol, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const pool = new ViewerPool({ stallMs: 1000, settleMs: 0 });
    const v = pool.startOne({ url, protocol });
    const until = performance.now() + 5000;
    // firstFrameAt is stamped when the bytes arrive, so polling does not blur the figure.
    while (v.firstFrameAt === undefined && v.error === undefined && performance.now() < until) await sleep(2);
    if (v.firstFrameAt !== undefined) times.push(v.firstFrameAt - v.startedAt);
    pool.closeAll();
    await sleep(100);
  }
  return times;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, protocol, count, delayMs] = process.argv.slice(2);
  await sleep(Number(delayMs));
  const times = await probeJoins(new URL(url!), protocol as Protocol, Number(count));
  process.stdout.write(JSON.stringify(times) + '\n');
  process.exit(0);
}
