import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { AddressSlots, ClientAddresses } from '../../stream/players-per-address.js';
import { HlsViewerTracker } from './viewers.js';

describe('HlsViewerTracker: sessions per client address', () => {
  it('is full at the cap of sessions of a stream from one address; a timed-out session no longer counts, even before the periodic sweep', () => {
    mock.timers.enable({ apis: ['Date', 'setInterval'], now: 1_000_000 });
    try {
      const ended: string[] = [];
      const t = new HlsViewerTracker((name, p) => name === 'play.ended' && ended.push((p as { viewerId: string }).viewerId), 10_000, 100, () => {}, new AddressSlots(new ClientAddresses(2, [])));
      t.touch('room1', 'tok1', '203.0.113.9', 'v1', 0);
      assert.equal(t.full('room1', '203.0.113.9'), false);
      t.touch('room1', 'tok2', '203.0.113.9', 'v2', 0);
      assert.equal(t.full('room1', '203.0.113.9'), true);
      assert.equal(t.full('room2', '203.0.113.9'), false, 'another stream');
      assert.equal(t.full('room1', '203.0.113.10'), false, 'another address');
      assert.equal(t.full('room1', '127.0.0.1'), false, 'loopback is never capped');
      // Idle for the timeout; the periodic sweep (every 5 s) has not run since: Date only moves.
      mock.timers.setTime(1_000_000 + 10_000);
      assert.equal(t.full('room1', '203.0.113.9'), false, 'the reload is not held back by its own timed-out sessions');
      assert.deepEqual(ended.sort(), ['v1', 'v2']);
      t.close();
    } finally {
      mock.timers.reset();
    }
  });
});
