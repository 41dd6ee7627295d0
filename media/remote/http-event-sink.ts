import { randomUUID } from 'node:crypto';
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
    if (this.queue.length >= this.maxQueue) this.dropOne();
    this.queue.push({ body: { id: randomUUID(), event, payload: data } as MediaCallbackBody, attempts: 0 });
    if (!this.running) this.idle = this.run();
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
          this.delivered++;
          continue;
        }
        if (outcome === 'rejected') {
          this.queue.shift();
          this.dropped++;
          continue;
        }
        head.attempts++;
        if (head.attempts >= this.maxAttempts) {
          this.queue.shift();
          this.dropped++;
          this.o.log.error({ event: head.body.event, id: head.body.id }, 'media callback undeliverable; dropped');
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
