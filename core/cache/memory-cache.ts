import type { Cache } from './cache.port.js';
import { InvalidStateError } from '../errors.js';

type Entry =
  | { type: 'string'; value: string; expiresAt?: number }
  | { type: 'set'; value: Set<string>; expiresAt?: number }
  | { type: 'hash'; value: Map<string, string>; expiresAt?: number }
  | { type: 'zset'; value: Map<string, number>; expiresAt?: number };

type EntryOf<T extends Entry['type']> = Extract<Entry, { type: T }>;

/**
 * The in-process cache adapter (`npm start`, tests). Behaves like the Redis commands RedisCache uses:
 * expired keys vanish (checked lazily on access, and swept every `sweepMs` by an unref'd timer so
 * a forgotten key does not hold memory), an emptied set/hash/zset disappears, and using a key
 * with the wrong type throws TypeError (Redis: WRONGTYPE).
 */
export class MemoryCache implements Cache {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  private readonly now: () => number;

  constructor(options: { sweepMs?: number; now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), options.sweepMs ?? 30_000);
    this.sweeper.unref();
  }

  /** Drops every expired key; returns how many went. */
  sweep(): number {
    let dropped = 0;
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** Number of live keys (for tests and metrics). */
  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  private live(key: string): Entry | undefined {
    if (this.closed) throw new InvalidStateError('cache is closed');
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private typed<T extends Entry['type']>(key: string, type: T): EntryOf<T> | undefined {
    const entry = this.live(key);
    if (entry && entry.type !== type) throw new TypeError(`WRONGTYPE: key holds a ${entry.type}, not a ${type}`);
    return entry as EntryOf<T> | undefined;
  }

  private create<T extends Entry['type']>(key: string, type: T): EntryOf<T> {
    const existing = this.typed(key, type);
    if (existing) return existing;
    const value = type === 'set' ? new Set<string>() : type === 'string' ? '' : new Map();
    const entry = { type, value } as EntryOf<T>;
    this.entries.set(key, entry);
    return entry;
  }

  /** Redis deletes a collection when its last member goes. */
  private dropIfEmpty(key: string, entry: Entry): void {
    if (entry.type !== 'string' && entry.value.size === 0) this.entries.delete(key);
  }

  async get(key: string): Promise<string | null> {
    return this.typed(key, 'string')?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.live(key);
    this.entries.set(key, { type: 'string', value, expiresAt: ttlMs === undefined ? undefined : this.now() + ttlMs });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.entries.set(key, { type: 'string', value, expiresAt: this.now() + ttlMs });
    return true;
  }

  async del(...keys: string[]): Promise<number> {
    let n = 0;
    for (const key of keys) if (this.live(key) && this.entries.delete(key)) n++;
    return n;
  }

  async exists(key: string): Promise<boolean> {
    return this.live(key) !== undefined;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const entry = this.live(key);
    if (!entry) return false;
    entry.expiresAt = this.now() + ttlMs;
    return true;
  }

  async ttl(key: string): Promise<number> {
    const entry = this.live(key);
    if (!entry) return -2;
    return entry.expiresAt === undefined ? -1 : Math.max(0, entry.expiresAt - this.now());
  }

  async incrBy(key: string, by: number): Promise<number> {
    if (!Number.isInteger(by)) throw new TypeError('incrBy needs an integer');
    const entry = this.typed(key, 'string');
    const current = entry ? Number(entry.value) : 0;
    if (!Number.isSafeInteger(current) || (entry && !/^-?\d+$/.test(entry.value))) {
      throw new TypeError('value is not an integer');
    }
    const next = current + by;
    if (entry) entry.value = String(next);
    else this.entries.set(key, { type: 'string', value: String(next) });
    return next;
  }

  async sAdd(key: string, ...members: string[]): Promise<number> {
    const set = this.create(key, 'set').value;
    let added = 0;
    for (const m of members) if (!set.has(m)) (set.add(m), added++);
    return added;
  }

  async sRem(key: string, ...members: string[]): Promise<number> {
    const entry = this.typed(key, 'set');
    if (!entry) return 0;
    let removed = 0;
    for (const m of members) if (entry.value.delete(m)) removed++;
    this.dropIfEmpty(key, entry);
    return removed;
  }

  async sMembers(key: string): Promise<string[]> {
    return [...(this.typed(key, 'set')?.value ?? [])];
  }

  async sIsMember(key: string, member: string): Promise<boolean> {
    return this.typed(key, 'set')?.value.has(member) ?? false;
  }

  async sCard(key: string): Promise<number> {
    return this.typed(key, 'set')?.value.size ?? 0;
  }

  async hSet(key: string, fields: Record<string, string>): Promise<void> {
    const hash = this.create(key, 'hash').value;
    for (const [f, v] of Object.entries(fields)) hash.set(f, v);
  }

  async hGetAll(key: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.typed(key, 'hash')?.value ?? []);
  }

  async hDel(key: string, ...fields: string[]): Promise<number> {
    const entry = this.typed(key, 'hash');
    if (!entry) return 0;
    let removed = 0;
    for (const f of fields) if (entry.value.delete(f)) removed++;
    this.dropIfEmpty(key, entry);
    return removed;
  }

  async zIncrBy(key: string, by: number, member: string): Promise<number> {
    const zset = this.create(key, 'zset').value;
    const score = (zset.get(member) ?? 0) + by;
    zset.set(member, score);
    return score;
  }

  async zAdd(key: string, entries: ReadonlyArray<{ member: string; score: number }>): Promise<number> {
    if (entries.length === 0) return 0;
    const zset = this.create(key, 'zset').value;
    let added = 0;
    for (const { member, score } of entries) {
      if (!zset.has(member)) added++;
      zset.set(member, score);
    }
    return added;
  }

  async zRangeByScore(key: string, min: number, max: number): Promise<string[]> {
    const zset = this.typed(key, 'zset')?.value;
    if (!zset) return [];
    return [...zset].filter(([, score]) => score >= min && score <= max)
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([member]) => member);
  }

  async zRevRange(key: string, start: number, stop: number): Promise<Array<{ member: string; score: number }>> {
    const zset = this.typed(key, 'zset')?.value;
    if (!zset) return [];
    // Redis orders equal scores by member, descending lexicographically for ZREVRANGE.
    const sorted = [...zset].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
    const len = sorted.length;
    const from = start < 0 ? Math.max(0, len + start) : start;
    const to = stop < 0 ? len + stop : Math.min(stop, len - 1);
    return sorted.slice(from, to + 1).map(([member, score]) => ({ member, score }));
  }

  async zRem(key: string, ...members: string[]): Promise<number> {
    const entry = this.typed(key, 'zset');
    if (!entry) return 0;
    let removed = 0;
    for (const m of members) if (entry.value.delete(m)) removed++;
    this.dropIfEmpty(key, entry);
    return removed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.entries.clear();
  }
}
