/**
 * A pending ban decided by two operators at the same moment (the outside-tester sweep): one
 * decision wins whole, the other is 409 already_decided, and the anchor's state is the winner's: a
 * dismissed ban leaves no permanent ban behind. Both adapter sets.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

for (const set of testAdapterSets()) {
  describe(`pending bans decided at once on ${set.name}`, () => {
    let kit: Kit;
    let op: { id: string; auth: { Authorization: string } };
    before(async () => {
      kit = await makeKit(set);
      op = await kit.operator();
    });
    after(async () => {
      await kit?.close();
    });

    it('confirm and dismiss at the same moment: one wins, the other is 409, and the ban state is the winner\'s', async () => {
      for (let round = 0; round < 3; round++) {
        const anchor = await kit.anchorWithRoom();
        // The audit path: a timed pause now, the permanent ban queued for an operator.
        const pause = await kit.control.moderation.banPublishing(anchor.id, new Date(Date.now() + 3_600_000), 'paused by audit', null);
        const pending = await kit.control.pendingBans.queue({
          identity: `race-${anchor.id}-${round}`, userId: anchor.id, roomId: anchor.roomId, sessionId: null, reason: 'severe verdict', evidenceUrl: null, pauseBanId: pause.id,
        });
        const outcomes = await Promise.allSettled([kit.control.pendingBans.confirm(pending.id, op.id), kit.control.pendingBans.dismiss(pending.id, op.id)]);
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        assert.equal(won.length, 1, `round ${round}: ${outcomes.map((o) => o.status).join(', ')}`);
        const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        assert.equal((lost.reason as { code?: string }).code, 'already_decided');
        const listed = (await kit.http.get('/api/v1/admin/moderation/pending-bans?status=all').set(op.auth).expect(200)).body.pending_bans
          .find((p: { id: string }) => p.id === pending.id);
        const ban = (await kit.http.get(`/api/v1/admin/users/${anchor.id}/publish-ban`).set(op.auth).expect(200)).body;
        if (listed.status === 'dismissed') assert.equal(ban.banned, false, 'dismissed: no ban left, the pause lifted');
        else {
          assert.equal(listed.status, 'confirmed');
          assert.deepEqual([ban.banned, ban.until], [true, null], 'confirmed: banned for good');
        }
      }
    });
  });
}
