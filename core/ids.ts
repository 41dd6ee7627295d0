/**
 * Live session ids are snowflakes (seed 000: "生成唯一 session_id (雪花算法)"): 41 bits of
 * milliseconds since the onair epoch, 10 bits of worker id, 12 bits of sequence. They are 64-bit,
 * so they travel as decimal strings in JSON. Rooms and users use database BIGINT keys.
 */
const EPOCH = 1_767_225_600_000n; // 2026-01-01T00:00:00Z

export class Snowflake {
  private lastMs = -1n;
  private sequence = 0n;
  private readonly worker: bigint;

  constructor(workerId = Number(process.env.ONAIR_WORKER_ID ?? process.pid % 1024)) {
    if (!Number.isInteger(workerId) || workerId < 0 || workerId > 1023) throw new TypeError('workerId must be 0..1023');
    this.worker = BigInt(workerId);
  }

  next(now: number = Date.now()): string {
    let ms = BigInt(now) - EPOCH;
    if (ms < this.lastMs) ms = this.lastMs; // clock went back: keep ids increasing
    if (ms === this.lastMs) {
      this.sequence = (this.sequence + 1n) & 0xfffn;
      if (this.sequence === 0n) ms = this.lastMs + 1n; // 4096 ids in one ms: borrow the next ms
    } else {
      this.sequence = 0n;
    }
    this.lastMs = ms;
    return ((ms << 22n) | (this.worker << 12n) | this.sequence).toString();
  }

  /** The creation time encoded in an id. */
  static timeOf(id: string): Date {
    return new Date(Number((BigInt(id) >> 22n) + EPOCH));
  }
}

const defaultSnowflake = new Snowflake();
export const newSessionId = (): string => defaultSnowflake.next();
