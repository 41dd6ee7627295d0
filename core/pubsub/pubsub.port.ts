/**
 * The pub/sub port: fan-out of small messages to every node that serves a channel (a live room's
 * chat, counts, notices). Not durable: a node that is not subscribed when a message is published
 * never sees it. Two adapters implement it: MemoryPubSub (in-process, `npm start`) and RedisPubSub
 * (Redis Pub/Sub, one Redis channel per onair channel, when ONAIR_REDIS_URL is set);
 * pubsub.contract.ts runs the same suite against both.
 *
 * Messages are JSON values. The port serialises: publish() takes a value, JSON-encodes it once
 * (at most MAX_MESSAGE_CHARS characters), and every node decodes it once and hands the same decoded
 * value to all of its local handlers, so handlers must treat it as read-only. Values that JSON does
 * not carry (undefined, functions, Dates as objects) arrive as JSON would make them, on both adapters.
 *
 * A bounded "recent history" per channel serves resumes (a chat client reconnecting with its last
 * message id): publishKept() appends the message to the channel's capped history and publishes it
 * in one atomic step, so history order is delivery order and the id a subscriber sees is the id
 * recent() pages by. Ids look like Redis stream ids ('1700000000000-0') on both adapters; treat
 * them as opaque, ordered strings.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What a handler receives: the channel, the decoded message, and its history id when kept. */
export interface Delivery {
  readonly channel: string;
  readonly message: JsonValue;
  /** Set when the message was published with publishKept(). */
  readonly id?: string;
}

/** Runs on a later turn than the publish (never inside the publisher's call stack); errors are logged. */
export type PubSubHandler = (delivery: Delivery) => void | Promise<void>;

/** Stops this subscription; idempotent. Resolves once the node no longer receives for it. */
export type Unsubscribe = () => Promise<void>;

export interface KeptMessage {
  id: string;
  message: JsonValue;
}

export interface RecentPage {
  /** Oldest first. */
  entries: KeptMessage[];
  /** True when messages after `after` were already dropped by the cap or the idle expiry (the client missed some). */
  gap: boolean;
}

export interface RecentOptions {
  /** Only messages after this id (exclusive); the newest `limit` messages when absent. */
  after?: string;
  /** At most this many (default and ceiling: the history size). */
  limit?: number;
}

export interface PubSub {
  /** Delivers `message` to every current subscriber of `channel` on every node; resolves when the broker took it. */
  publish(channel: string, message: JsonValue): Promise<void>;
  /** Like publish(), and keeps the message in the channel's bounded recent history. Returns its id. */
  publishKept(channel: string, message: JsonValue): Promise<string>;
  /**
   * Resolves once this node receives `channel`: a message published after that reaches `handler`.
   * N local subscriptions of one channel cost one broker subscription, released with the last.
   */
  subscribe(channel: string, handler: PubSubHandler): Promise<Unsubscribe>;
  /**
   * Which of `channels` some node receives right now (Redis: PUBSUB NUMSUB, one round trip), in the
   * order given. A hint for a publisher with many channels and few listeners (the go-live fan-out
   * to 100,000 followers' channels): it may change the next moment, so a subscriber that must not
   * miss anything reads the durable record on subscribing.
   */
  listened(channels: string[]): Promise<string[]>;
  /** The kept messages of `channel` (see RecentOptions). An id that is not an id is a ValidationError. */
  recent(channel: string, options?: RecentOptions): Promise<RecentPage>;
  /**
   * Calls `listener` each time this node's broker connection came back after a loss and its
   * subscriptions are active again (Redis: after the re-SUBSCRIBE was answered). Whatever was
   * published while it was down never reached this node: a listener re-reads the durable state it
   * acts on (chat: the kick keys of its sockets). The in-process adapter never loses its broker.
   * Returns a function that removes the listener.
   */
  onResubscribed(listener: () => void): () => void;
  /** Drops every subscription and the connections; idempotent. Later calls throw InvalidStateError. */
  close(): Promise<void>;
}
