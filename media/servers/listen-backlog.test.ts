/**
 * A join burst that arrives while the engine's event loop is busy waits in the kernel's accept queue
 * (LISTEN_BACKLOG) instead of having its SYNs dropped and retried a second later. The RTMP listener of
 * a real engine; 800 viewers connect at once while the loop is held 300 ms (what a tick writing for
 * thousands of viewers does during a ramp). With Node's default backlog (511) the connections past it
 * are dropped and connect after the client's 1 s SYN retransmit; with the larger queue all connect as
 * soon as the loop runs again.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setImmediate as immediate } from 'node:timers/promises';
import { startEngine } from '../engine-test-kit.js';

const VIEWERS = 800;
const HOLD_MS = 300;

describe('media listeners: the accept queue', () => {
  it(`${VIEWERS} connects during a ${HOLD_MS} ms busy loop all connect without a SYN retransmit`, async () => {
    const h = await startEngine();
    const sockets: net.Socket[] = [];
    try {
      const t0 = performance.now();
      const connectedAt: number[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${connectedAt.length} of ${VIEWERS} connected within 10 s`)), 10_000);
        for (let i = 0; i < VIEWERS; i++) {
          const s = net.connect({ host: '127.0.0.1', port: h.rtmpPort });
          s.on('error', () => {});
          s.once('connect', () => {
            connectedAt.push(performance.now() - t0);
            if (connectedAt.length === VIEWERS) {
              clearTimeout(timer);
              resolve();
            }
          });
          sockets.push(s);
        }
      });
      // The connect() calls are issued on the next ticks; then the loop is held, as a busy engine's is.
      await immediate();
      await immediate();
      const spinUntil = performance.now() + HOLD_MS;
      while (performance.now() < spinUntil) {
        /* busy: the listener accepts nothing meanwhile */
      }
      await done;
      const slowest = Math.max(...connectedAt);
      const late = connectedAt.filter((ms) => ms >= 1000).length;
      assert.equal(late, 0, `${late} of ${VIEWERS} viewers connected only after a SYN retransmit (slowest ${Math.round(slowest)} ms)`);
    } finally {
      for (const s of sockets) s.destroy();
      await h.close();
    }
  });
});
