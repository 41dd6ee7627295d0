import type { Tx } from '../../core/event-bus/db-transaction.js';

const insertIgnore = (tx: Tx) => (tx.dialect === 'sqlite' ? 'INSERT OR IGNORE' : 'INSERT IGNORE');

/** One notification per follower of the anchor, in one statement; dedupe_key keeps a replay from notifying twice. */
export async function insertFollowerNotifications(tx: Tx, anchorId: string, kind: string, dedupeKey: string, payload: object): Promise<void> {
  await tx.run(
    `${insertIgnore(tx)} INTO notifications (user_id, kind, payload, dedupe_key, created_at) SELECT user_id, ?, ?, ?, ? FROM follows WHERE anchor_id = ?`,
    [kind, JSON.stringify(payload), dedupeKey, Date.now(), anchorId],
  );
}

/** One notification to one user (an audit warning to the anchor). */
export async function insertNotification(tx: Tx, userId: string, kind: string, dedupeKey: string, payload: object): Promise<void> {
  await tx.run(
    `${insertIgnore(tx)} INTO notifications (user_id, kind, payload, dedupe_key, created_at) VALUES (?, ?, ?, ?, ?)`,
    [userId, kind, JSON.stringify(payload), dedupeKey, Date.now()],
  );
}
