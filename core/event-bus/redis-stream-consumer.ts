import type { Redis } from 'ioredis';
import type { AnyDelivery, EventCatalog } from './event-bus.port.js';
import type { ConsumerBackend } from './consumer-loop.js';
import type { StreamKeys } from './redis-stream-keys.js';
import { describe } from './db-event-bus.js';

export interface StreamEntry {
  id: string;
  name: string;
  payload: object;
  key: string | null;
  /** The payload's schema version (field `v`; absent means 1). */
  version: number;
  publishedAt: number;
  /** Set on replayed dead letters: only this group handles the entry. */
  target: string | null;
}

export function parseEntry([id, fields]: [string, string[]]): StreamEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  let payload: object = {};
  try {
    payload = JSON.parse(f.p ?? '{}') as object;
  } catch {
    payload = { unparsable: f.p };
  }
  return { id, name: f.n ?? '', payload, key: f.k ?? null, version: f.v ? Number(f.v) : 1, publishedAt: Number(f.t ?? 0), target: f.g ?? null };
}

type RawEntries = Array<[string, string[]] | null>;

/** One consumer of one group: XREADGROUP for new entries, a retry zset + XCLAIM for retries, XAUTOCLAIM for orphans. */
export class RedisStreamConsumerBackend implements ConsumerBackend {
  private groupReady = false;
  private lastAutoclaim = 0;
  private nextRetryAt = Infinity;
  private interrupted = false;

  constructor(
    private readonly client: Redis,
    private readonly blocking: Redis,
    private readonly keys: StreamKeys,
    private readonly group: string,
    private readonly consumer: string,
    private readonly visibilityMs: number,
  ) {}

  private async ensureGroup(): Promise<void> {
    try {
      // From '0': a new group handles every event still in the stream, as a new DB group does.
      await this.client.xgroup('CREATE', this.keys.stream, this.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
    }
    this.groupReady = true;
  }

  async fetch(max: number, waitMs: number): Promise<Array<AnyDelivery<EventCatalog>>> {
    if (!this.groupReady) await this.ensureGroup();
    const out = [...(await this.dueRetries(max)), ...(await this.orphans(max))];
    if (out.length > 0) return this.toDeliveries(out);
    const block = Math.max(1, Math.min(waitMs, this.nextRetryAt - Date.now()));
    if (this.interrupted) return [];
    const res = (await this.blocking.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', max, 'BLOCK', block,
      'STREAMS', this.keys.stream, '>')) as Array<[string, RawEntries]> | null;
    const entries = (res?.[0]?.[1] ?? []).filter((e): e is [string, string[]] => e !== null).map(parseEntry);
    return this.toDeliveries(entries.map((e) => ({ entry: e, attempt: 1 })));
  }

  /** Retries whose time has come: removed from the zset first, so two consumers never both take one. */
  private async dueRetries(max: number): Promise<Array<{ entry: StreamEntry; attempt: number }>> {
    const now = Date.now();
    const head = (await this.client.zrange(this.keys.retry(this.group), 0, String(max), 'WITHSCORES')) as string[];
    const ids: string[] = [];
    this.nextRetryAt = Infinity;
    for (let i = 0; i + 1 < head.length; i += 2) {
      const at = Number(head[i + 1]);
      if (at <= now && ids.length < max) ids.push(head[i]!);
      else { this.nextRetryAt = at; break; }
    }
    if (ids.length === 0) return [];
    const removed = await Promise.all(ids.map((id) => this.client.zrem(this.keys.retry(this.group), id)));
    const mine = ids.filter((_, i) => removed[i] === 1);
    if (mine.length === 0) return [];
    const claimed = (await this.client.xclaim(this.keys.stream, this.group, this.consumer, 0, ...mine)) as RawEntries;
    const counts = await this.client.hmget(this.keys.attempts(this.group), ...mine);
    const failures = new Map(mine.map((id, i) => [id, counts[i] ? Number((JSON.parse(counts[i]!) as { a: number }).a) : 0]));
    return claimed.filter((e): e is [string, string[]] => e !== null)
      .map(parseEntry).map((entry) => ({ entry, attempt: (failures.get(entry.id) ?? 0) + 1 }));
  }

  /** Entries left pending by a consumer that died (idle past the visibility timeout), checked every half timeout. */
  private async orphans(max: number): Promise<Array<{ entry: StreamEntry; attempt: number }>> {
    const now = Date.now();
    if (now - this.lastAutoclaim < this.visibilityMs / 2) return [];
    this.lastAutoclaim = now;
    const res = (await this.client.xautoclaim(this.keys.stream, this.group, this.consumer, this.visibilityMs, '0-0',
      'COUNT', max)) as [string, RawEntries, string[]?];
    const entries = (res[1] ?? []).filter((e): e is [string, string[]] => e !== null).map(parseEntry);
    const deleted = res[2] ?? [];
    if (deleted.length > 0) await this.client.xack(this.keys.stream, this.group, ...deleted);
    const out: Array<{ entry: StreamEntry; attempt: number }> = [];
    for (const entry of entries) {
      // The group's pending list counts deliveries, crashes included: a poison event cannot loop forever.
      const info = (await this.client.xpending(this.keys.stream, this.group, entry.id, entry.id, 1)) as Array<[string, string, number, number]>;
      out.push({ entry, attempt: Number(info[0]?.[3] ?? 1) });
      await this.client.zrem(this.keys.retry(this.group), entry.id);
    }
    return out;
  }

  private async toDeliveries(items: Array<{ entry: StreamEntry; attempt: number }>): Promise<Array<AnyDelivery<EventCatalog>>> {
    const foreign = items.filter((i) => i.entry.target !== null && i.entry.target !== this.group).map((i) => i.entry.id);
    if (foreign.length > 0) await this.client.xack(this.keys.stream, this.group, ...foreign);
    return items
      .filter((i) => i.entry.target === null || i.entry.target === this.group)
      .sort((a, b) => compareIds(a.entry.id, b.entry.id))
      .map(({ entry, attempt }) => ({
        id: entry.id, name: entry.name, payload: entry.payload, key: entry.key, version: entry.version, attempt, publishedAt: entry.publishedAt,
      }));
  }

  async ack(deliveries: Array<AnyDelivery<EventCatalog>>): Promise<void> {
    const ids = deliveries.map((d) => d.id);
    const retried = deliveries.filter((d) => d.attempt > 1).map((d) => d.id);
    const multi = this.client.multi().xack(this.keys.stream, this.group, ...ids);
    if (retried.length > 0) multi.hdel(this.keys.attempts(this.group), ...retried).zrem(this.keys.retry(this.group), ...retried);
    const res = await multi.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0]!;
  }

  async retry(delivery: AnyDelivery<EventCatalog>, error: Error, retryAt: number): Promise<void> {
    await this.client.multi()
      .hset(this.keys.attempts(this.group), delivery.id, JSON.stringify({ a: delivery.attempt, e: describe(error) }))
      .zadd(this.keys.retry(this.group), retryAt, delivery.id)
      .exec();
    this.nextRetryAt = Math.min(this.nextRetryAt, retryAt);
  }

  async deadLetter(delivery: AnyDelivery<EventCatalog>, error: Error): Promise<void> {
    const id = String(await this.client.incr(this.keys.deadSeq));
    const letter = {
      group: this.group, eventId: delivery.id, name: delivery.name, payload: delivery.payload, key: delivery.key, version: delivery.version,
      attempts: delivery.attempt, lastError: describe(error), deadAt: Date.now(),
    };
    await this.client.multi()
      .hset(this.keys.dead, id, JSON.stringify(letter))
      .xack(this.keys.stream, this.group, delivery.id)
      .hdel(this.keys.attempts(this.group), delivery.id)
      .zrem(this.keys.retry(this.group), delivery.id)
      .exec();
  }

  interrupt(): void {
    this.interrupted = true;
    // A blocked XREADGROUP only returns when its connection goes away.
    this.blocking.disconnect();
  }

  async close(): Promise<void> {
    this.blocking.disconnect();
  }
}

/** Orders stream ids `ms-seq` numerically. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}
