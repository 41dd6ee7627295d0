/**
 * `node --import tsx bench/lib/latency-probe.ts URL PROTOCOL COUNT DELAY_MS SPAN_MS`: after
 * DELAY_MS, opens COUNT viewers spread evenly over SPAN_MS, each watching until the span ends, and
 * prints the latencies they read from the publisher's clock SEI (ms; publisher's send to viewer's
 * read, on loopback: what the server adds) as a JSON array. Clocks of a viewer's start-up burst
 * (the cached GOP) are left out (ViewerState). bench:media runs it as a child, like join-probe.ts,
 * so that the load generator's busy event loop does not delay the readings.
 */
import { ViewerPool } from '../../stress/viewers/viewer-pool.js';
import type { Protocol } from '../../stress/viewers/viewer-state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function probeLatency(url: URL, protocol: Protocol, count: number, spanMs: number): Promise<number[]> {
  const pool = new ViewerPool({ stallMs: 1000, settleMs: 0 });
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    await sleep(Math.max(0, t0 + (i * spanMs) / count - performance.now()));
    pool.startOne({ url, protocol });
  }
  await sleep(Math.max(0, t0 + spanMs - performance.now()));
  pool.closeAll();
  return pool.latency.values;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, protocol, count, delayMs, spanMs] = process.argv.slice(2);
  await sleep(Number(delayMs));
  const values = await probeLatency(new URL(url!), protocol as Protocol, Number(count), Number(spanMs));
  process.stdout.write(JSON.stringify(values) + '\n');
  process.exit(0);
}
