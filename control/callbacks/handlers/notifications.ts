import type { Transaction } from 'sequelize';

const dialectOf = (t: Transaction) => (t as unknown as { sequelize: { getDialect(): string } }).sequelize.getDialect();
const insertIgnore = (t: Transaction) => (dialectOf(t) === 'sqlite' ? 'INSERT OR IGNORE' : 'INSERT IGNORE');

/** One notification per follower of the anchor, in one statement; dedupe_key keeps a replay from notifying twice. */
export async function insertFollowerNotifications(t: Transaction, anchorId: string, kind: string, dedupeKey: string, payload: object): Promise<void> {
  const sequelize = (t as unknown as { sequelize: { query(sql: string, o: object): Promise<unknown> } }).sequelize;
  await sequelize.query(
    `${insertIgnore(t)} INTO notifications (user_id, kind, payload, dedupe_key, created_at) SELECT user_id, ?, ?, ?, ? FROM follows WHERE anchor_id = ?`,
    { replacements: [kind, JSON.stringify(payload), dedupeKey, Date.now(), anchorId], transaction: t },
  );
}

/** One notification to one user (an audit warning to the anchor). */
export async function insertNotification(t: Transaction, userId: string, kind: string, dedupeKey: string, payload: object): Promise<void> {
  const sequelize = (t as unknown as { sequelize: { query(sql: string, o: object): Promise<unknown> } }).sequelize;
  await sequelize.query(
    `${insertIgnore(t)} INTO notifications (user_id, kind, payload, dedupe_key, created_at) VALUES (?, ?, ?, ?, ?)`,
    { replacements: [userId, kind, JSON.stringify(payload), dedupeKey, Date.now()], transaction: t },
  );
}
