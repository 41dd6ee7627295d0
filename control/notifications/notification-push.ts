import type { Logger } from '../../core/logging/logger.js';
import type { JsonValue, PubSub } from '../../core/pubsub/pubsub.port.js';
import type { NotificationJson, NotificationStore } from './notification.store.js';

/** The pub/sub channel of one user's notifications: a node subscribes to it only while that user has a notification socket there. */
export function notificationChannel(userId: string): string {
  return `notify:${userId}`;
}

/** What travels on a user's channel: a new notification, or "the unread count changed" (each node recounts for its sockets). */
export type NotifyMessage = { t: 'n'; n: NotificationJson } | { t: 'u' };

/**
 * The publishing side of live notifications: after a notification row is committed, its JSON (the
 * shape GET /notifications lists) goes to the user's channel on every control node; read marks
 * send `u` so the sockets get the new unread count. Not durable (pub/sub): a user with no socket
 * anywhere misses nothing, the row is in the table and the next socket starts with the count.
 */
export class NotificationPush {
  constructor(private readonly deps: { pubsub: PubSub; store: NotificationStore; log: Logger }) {}

  async notification(userId: string, n: NotificationJson): Promise<void> {
    await this.deps.pubsub.publish(notificationChannel(userId), { t: 'n', n } as unknown as JsonValue);
  }

  async unreadChanged(userId: string): Promise<void> {
    await this.deps.pubsub.publish(notificationChannel(userId), { t: 'u' });
  }

  /**
   * Pushes what one dedupe key wrote for these users (a fan-out chunk, an audit warning), to those
   * with a notification socket on some node: one question to the broker (listened), then the rows
   * of only those users are read and published (Redis pipelines them). Of 1,000 followers in a
   * chunk, usually a few are online; the others find the row in GET /notifications.
   */
  async byDedupeKey(dedupeKey: string, userIds: string[]): Promise<number> {
    const listened = new Set(await this.deps.pubsub.listened(userIds.map(notificationChannel)));
    const online = userIds.filter((id) => listened.has(notificationChannel(id)));
    if (online.length === 0) return 0;
    const rows = await this.deps.store.byDedupeKey(dedupeKey, online);
    await Promise.all(rows.map(({ userId, ...n }) => this.notification(userId, n)));
    return rows.length;
  }

  /** Best effort after a commit: the row is written whatever happens to the push (logged). */
  pushLater(dedupeKey: string, userIds: string[]): void {
    this.byDedupeKey(dedupeKey, userIds).catch((err: unknown) => this.deps.log.warn({ err, dedupeKey }, 'pushing notifications to live sockets failed'));
  }
}
