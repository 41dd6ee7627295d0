import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../core/logging/logger.js';
import type { MediaEventName, MediaEventSource, MediaEvents } from '../../core/media/media-contract.js';
import { httpCall } from '../../core/http/http-call.js';
import { signMediaCallback } from '../../core/callbacks/media-callback-signature.js';

export interface HttpEventSinkOptions {
  /** Control's base URL; events go to `${controlUrl}/api/v1/callback/media`. */
  controlUrl: string;
  /** config.callbacks.mediaKey: every callback is signed with it. */
  key: string;
  log: Logger;
  /** Events held while control is unreachable; past it the oldest stats, then the oldest events, are dropped. */
  maxQueue?: number;
  /** Tries per event before it is dropped (default 8, backoff 250 ms doubling up to 10 s). */
  maxAttempts?: number;
  /** Deadline of one POST (default 5 s). */
  timeoutMs?: number;
  /**
   * The outbox of record.done (media's recordings folder, `.outbox`): each record.done is written
   * there before send() returns and removed once control answered it; replayOutbox() sends what a
   * previous process left. Without it a record.done queued when media dies is lost.
   */
  outboxDir?: string;
}

/**
 * The JSON body of one callback, as control/callbacks/media-events.ts reads it: `{event, payload}`;
 * `id` (extra) names the delivery so retries can be told apart from new events in logs.
 */
export interface MediaCallbackBody<K extends MediaEventName = MediaEventName> {
  id: string;
  event: K;
  payload: MediaEvents[K];
}

interface Pending {
  body: MediaCallbackBody;
  attempts: number;
  /** The outbox file holding this event until control answers it. */
  outboxFile?: string;
}

export type { MediaEventSource };

const EVENT_NAMES: MediaEventName[] = ['publish.started', 'publish.ended', 'play.started', 'play.ended', 'stream.stats', 'record.done'];

/**
 * Delivers MediaEvents to control as signed HTTP callbacks, one at a time and in order (control
 * must see publish.started before publish.ended), retrying with backoff. The queue is bounded:
 * media never grows memory because control is down.
 */
export class HttpEventSink {
  delivered = 0;
  dropped = 0;
  private readonly queue: Pending[] = [];
  private running = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private idle: Promise<void> = Promise.resolve();
  private readonly url: string;
  private readonly maxQueue: number;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;

  constructor(private readonly o: HttpEventSinkOptions) {
    this.url = `${o.controlUrl.replace(/\/$/, '')}/api/v1/callback/media`;
    this.maxQueue = o.maxQueue ?? 10_000;
    this.maxAttempts = o.maxAttempts ?? 8;
    this.timeoutMs = o.timeoutMs ?? 5000;
  }

  /** Forwards every MediaEvent of `source`. */
  attach(source: MediaEventSource): void {
    for (const name of EVENT_NAMES) source.on(name, (payload: MediaEvents[typeof name]) => this.send(name, payload));
  }

  send<K extends MediaEventName>(event: K, data: MediaEvents[K]): void {
    if (this.closed) return;
    const body = { id: randomUUID(), event, payload: data } as MediaCallbackBody;
    this.enqueue({ body, attempts: 0, ...(event === 'record.done' ? this.toOutbox(body) : {}) });
  }

  /**
   * Queues the record.done events a previous media process wrote to the outbox and never saw
   * answered (killed between queueing and delivery), oldest first. Call once at start, before
   * attach(). Control turns each into recording.finished with an id made of publisher and path,
   * and the transcoder keeps one segment per such id, so an event delivered twice (answered, then
   * the process died before removing the file) changes nothing. Answers how many were queued.
   */
  replayOutbox(): number {
    const dir = this.o.outboxDir;
    if (!dir) return 0;
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
    } catch {
      return 0;
    }
    let n = 0;
    for (const name of names) {
      const file = join(dir, name);
      try {
        const body = JSON.parse(readFileSync(file, 'utf8')) as MediaCallbackBody;
        if (body?.event !== 'record.done' || typeof body.id !== 'string' || typeof body.payload !== 'object') throw new Error('not a record.done');
        this.enqueue({ body, attempts: 0, outboxFile: file });
        n++;
      } catch (err) {
        this.o.log.warn({ err, file }, 'unreadable outbox entry; left in place');
      }
    }
    if (n) this.o.log.warn({ events: n }, 'record.done events a previous media process did not deliver: sending them now');
    return n;
  }

  private enqueue(p: Pending): void {
    if (this.queue.length >= this.maxQueue) this.dropOne();
    this.queue.push(p);
    if (!this.running) this.idle = this.run();
  }

  /** Writes the event to the outbox (a temporary name, then renamed: a reader never sees half a file). No fsync: it guards against the process dying, not the machine. */
  private toOutbox(body: MediaCallbackBody): { outboxFile?: string } {
    const dir = this.o.outboxDir;
    if (!dir) return {};
    const file = join(dir, `${Date.now().toString().padStart(15, '0')}-${body.id}.json`);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${file}.tmp`, JSON.stringify(body));
      renameSync(`${file}.tmp`, file);
      return { outboxFile: file };
    } catch (err) {
      this.o.log.error({ err, dir }, 'could not write the record.done outbox; the event is sent but not kept across a crash');
      return {};
    }
  }

  /** Control answered (delivered, or refused for good): the outbox entry is done. */
  private settle(p: Pending): void {
    if (!p.outboxFile) return;
    try {
      unlinkSync(p.outboxFile);
    } catch {
      // already gone
    }
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Tries to deliver what is queued for up to `graceMs`, then gives up on the rest. */
  async close(graceMs = 2000): Promise<void> {
    this.closed = true;
    const timer = setTimeout(() => {
      this.dropped += this.queue.length;
      this.queue.length = 0;
      this.wake?.();
    }, graceMs);
    await this.idle;
    clearTimeout(timer);
  }

  private dropOne(): void {
    const stats = this.queue.findIndex((p, i) => i > 0 && p.body.event === 'stream.stats');
    this.queue.splice(stats > 0 ? stats : 1, 1); // never the head: it may be in flight
    this.dropped++;
    if (this.dropped % 100 === 1) this.o.log.warn({ dropped: this.dropped }, 'media callback queue full; dropping events');
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        const outcome = await this.post(head.body);
        if (this.queue[0] !== head) continue; // dropped by close() meanwhile
        if (outcome === 'delivered') {
          this.queue.shift();
          this.settle(head);
          this.delivered++;
          continue;
        }
        if (outcome === 'rejected') {
          this.queue.shift();
          this.settle(head);
          this.dropped++;
          continue;
        }
        head.attempts++;
        if (head.attempts >= this.maxAttempts) {
          this.queue.shift();
          this.dropped++;
          this.o.log.error({ event: head.body.event, id: head.body.id, outbox: head.outboxFile }, head.outboxFile ? 'media callback undeliverable; kept in the outbox for the next start' : 'media callback undeliverable; dropped');
          continue;
        }
        await this.sleep(Math.min(10_000, 250 * 2 ** (head.attempts - 1)));
      }
    } finally {
      this.running = false;
    }
  }

  /** 'rejected' = control refused this event for good (4xx other than 408/429): retrying will not help. */
  private async post(body: MediaCallbackBody): Promise<'delivered' | 'retry' | 'rejected'> {
    const text = JSON.stringify(body);
    try {
      const res = await httpCall(this.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...signMediaCallback(this.o.key, text) },
        body: text,
        timeoutMs: this.timeoutMs,
      });
      if (res.status >= 200 && res.status < 300) return 'delivered';
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
        this.o.log.error({ status: res.status, event: body.event, id: body.id }, 'media callback rejected by control; dropped');
        return 'rejected';
      }
      this.o.log.warn({ status: res.status, event: body.event }, 'media callback failed; will retry');
      return 'retry';
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message, event: body.event }, 'media callback failed; will retry');
      return 'retry';
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
