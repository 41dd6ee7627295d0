/**
 * werift-close.ts: a closed peer stops resending its DTLS flights. Before the fix a warm-up pair
 * (closed as soon as the server is connected, the client's Flight5 still waiting for the server's
 * Finished) kept making retransmit timers for ~33 s after close; the process lingered that long.
 * Waits past the pending flight step, then checks no retransmit timer was made since close.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { warmUp } from './peer.js';
import { flightsStoppedAtClose } from './werift-close.js';

describe('werift DTLS flights at close', () => {
  it('a closed pair makes no DTLS retransmit timer after close, and the ones pending end', async () => {
    let madeAfterClose = 0;
    let closed = false;
    const hook = createHook({
      init(_id, type) {
        if (type !== 'Timeout') return;
        const stack = new Error().stack ?? '';
        if (!/Flight\d?\.transmit|\.transmit \(/.test(stack) || !stack.includes('werift')) return;
        if (closed) madeAfterClose++;
      },
    });
    const Error_stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 30;
    hook.enable();
    try {
      const before = flightsStoppedAtClose.count;
      assert.equal(await warmUp({ iceHosts: ['127.0.0.1'] }, 10_000), true, 'connected');
      closed = true;
      assert.ok(flightsStoppedAtClose.count > before, 'RTCDtlsTransport.stop went through werift-close.ts');
      // The flight pending at close is the client's Flight5 on its first step (0.5 s): past it,
      // werift's loop either ended (fixed) or made its next retransmit timer (1 s; before the fix).
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(madeAfterClose, 0, 'no flight was resent after close');
    } finally {
      hook.disable();
      Error.stackTraceLimit = Error_stackTraceLimit;
    }
  });
});
