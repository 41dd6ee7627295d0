import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets, type TestPorts } from '../../core/testing/test-ports.js';
import type { Cache } from '../../core/cache/cache.port.js';
import { audienceKeys } from '../../core/cache/keys.js';
import { Presence } from './presence.js';

for (const set of testAdapterSets()) {
  describe(`presence's online counter on ${set.name}`, () => {
    let ports: TestPorts;
    before(async () => {
      ports = await set.make();
    });
    after(async () => {
      await ports?.close();
    });

    it('is not moved by a sweep that reads between a join\'s set write and its counter write', async () => {
      // A cache whose INCRBY waits for a gate: the join has added the member, not yet counted it.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let held = 0;
      const slow = new Proxy(ports.cache, {
        get(target, key, receiver) {
          if (key === 'incrBy') {
            return async (k: string, by: number) => {
              held++;
              await gate;
              return target.incrBy(k, by);
            };
          }
          const v = Reflect.get(target, key, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      }) as Cache;
      const roomId = `r${Date.now()}`;
      const joining = new Presence(slow, 60_000);
      const sweeper = new Presence(ports.cache, 60_000);
      const joined = joining.join(roomId, 'u1');
      while (held === 0) await new Promise((r) => setTimeout(r, 2));
      await sweeper.sweep(async () => undefined); // sees 1 member and a counter of 0
      release();
      assert.equal((await joined).online, 1);
      assert.equal(await sweeper.online(roomId), 1, 'one member, counted once');
      await sweeper.sweep(async () => undefined);
      assert.equal(await sweeper.online(roomId), 1);
    });

    it('repairs a counter that stays off (a node died between its two writes) on the second sweep that sees it', async () => {
      const roomId = `d${Date.now()}`;
      const presence = new Presence(ports.cache, 60_000);
      await presence.join(roomId, 'u1');
      await presence.join(roomId, 'u2');
      await ports.cache.incrBy(audienceKeys.online(roomId), 3); // a dead node's increments without members
      await presence.sweep(async () => undefined);
      assert.equal(await presence.online(roomId), 5, 'one reading is not enough');
      await presence.sweep(async () => undefined);
      assert.equal(await presence.online(roomId), 2);
    });
  });
}
