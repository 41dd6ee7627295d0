import { compareKeptIds, parseKeptId } from './wire.js';
import type { RecentPage } from './pubsub.port.js';

interface Entry {
  id: string;
  json: string;
}

/**
 * The embedded adapter's recent history of one channel: a capped list of JSON strings with ids in
 * Redis stream form (`ms-seq`, strictly increasing), and the id of the newest entry the cap pushed
 * out, which tells a resuming client whether it missed something (RedisPubSub keeps the same marker).
 */
export class KeptRing {
  private readonly entries: Entry[] = [];
  private lastTrimmed: string | undefined;
  private lastMs = 0;
  private seq = 0;
  touchedAt: number;

  constructor(private readonly capacity: number, now: number) {
    this.touchedAt = now;
  }

  append(json: string, now: number): string {
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else {
      this.seq += 1;
    }
    const id = `${this.lastMs}-${this.seq}`;
    // A new history marks its first id as the trim point: a client holding an older id (from a
    // history that expired) has missed messages, as with RedisPubSub.
    if (this.lastTrimmed === undefined) this.lastTrimmed = id;
    this.entries.push({ id, json });
    if (this.entries.length > this.capacity) this.lastTrimmed = this.entries.shift()!.id;
    this.touchedAt = now;
    return id;
  }

  read(after: string | undefined, limit: number): RecentPage {
    if (after === undefined) {
      return { entries: this.entries.slice(-limit).map(toKept), gap: false };
    }
    parseKeptId(after);
    const start = this.entries.findIndex((e) => compareKeptIds(e.id, after) > 0);
    const entries = start === -1 ? [] : this.entries.slice(start, start + limit).map(toKept);
    return { entries, gap: this.lastTrimmed !== undefined && compareKeptIds(after, this.lastTrimmed) < 0 };
  }
}

function toKept(e: Entry) {
  return { id: e.id, message: JSON.parse(e.json) };
}
