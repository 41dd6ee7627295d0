import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../core/testing/test-ports.js';
import { captureLogger } from '../core/testing/log-capture.js';
import { makeKit } from './testing/control-kit.js';

/**
 * Issue 9, point 17: control.close() drains within a deadline and says what it could not finish.
 * (tests/e2e/shutdown-drain.test.ts shows the drain on a real stack; this, the report when time runs out.)
 */
for (const set of testAdapterSets()) {
  describe(`control.close() on ${set.name}`, () => {
    it('waits for queued audience writes when there is time', async () => {
      const kit = await makeKit(set);
      const writes = Array.from({ length: 200 }, (_, i) => kit.control.audience.viewerLeft({ streamName: '1', viewerId: `v${i}`, at: Date.now() } as never));
      await kit.control.close({ deadline: Date.now() + 10_000 });
      const settled = await Promise.allSettled(writes);
      assert.ok(settled.every((s) => s.status === 'fulfilled'), 'every write finished before close() returned');
      await kit.close();
    });

    it('logs what did not finish when the deadline has passed', async () => {
      const captured = captureLogger('info');
      const kit = await makeKit(set, {}, { log: captured.log });
      // The writes are held (a database that does not answer) so that they are still in flight at
      // the deadline however fast the machine is: in CI, 200 unheld writes to MariaDB finished while
      // close() was still closing chat and notifications, and nothing was left to report.
      const store = (kit.control.audience as unknown as { audience: { exit: (...args: unknown[]) => Promise<unknown> } }).audience;
      const exit = store.exit.bind(store);
      let release!: () => void;
      const held = new Promise<void>((resolve) => { release = resolve; });
      store.exit = async (...args: unknown[]) => { await held; return exit(...args); };
      try {
        for (let i = 0; i < 200; i++) void kit.control.audience.viewerLeft({ streamName: '1', viewerId: `v${i}`, at: Date.now() } as never).catch(() => undefined);
        await kit.control.close({ deadline: Date.now() });
        const line = captured.lines.find((l) => l.level === 50 && /ONAIR_SHUTDOWN_TIMEOUT/.test(String(l.msg)));
        assert.ok(line, 'an error line names the unfinished work');
        assert.equal((line.unfinished as { audienceWrites?: number }).audienceWrites, 200, JSON.stringify(line));
      } finally {
        release();
        await kit.close();
      }
    });
  });
}
