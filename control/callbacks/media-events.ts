import { z } from 'zod';
import type { MediaEventName, MediaEventSource, MediaEvents, StreamStats } from '../../core/media/media-contract.js';
import type { EventBus } from '../../core/event-bus/event-bus.port.js';
import { CallbackEventType, type BusEvents, type CallbackReceived } from '../../core/events/bus-events.js';
import type { Logger } from '../../core/logging/logger.js';
import type { LiveEventLog } from './live-event-log.js';

/**
 * The embedded engine's own events, turned into the same bus event the CSS callbacks become:
 *   publish.started -> push (1), publish.ended -> cut-off (0), record.done -> record (100).
 * Identity `media:{type}:{publisherId}` is stable: one publish session starts and ends once.
 *
 * stream.stats is the media heartbeat (every media.statsInterval per stream). It is NOT made
 * durable: each one supersedes the last, it has no effect but "still alive", and appending
 * streams x 0.2/s rows to the bus would cost more than it protects. It goes straight to
 * `onHeartbeat` (the live session service refreshes the session's TTL keys); a lost one is
 * covered by the next, and the reaper only acts after live.heartbeatTimeout of silence.
 * play.started/play.ended belong to audience accounting and are not callbacks.
 */
export type MappedMediaEvent =
  | { kind: 'callback'; event: CallbackReceived }
  | { kind: 'heartbeat'; stats: StreamStats }
  | { kind: 'ignored' };

export function mapMediaEvent<N extends MediaEventName>(name: N, payload: MediaEvents[N], source: 'media' | 'media-http', receivedAt = Date.now()): MappedMediaEvent {
  const callback = (eventType: CallbackReceived['eventType'], p: { streamName: string; publisherId: string; at: number }, suffix = ''): MappedMediaEvent => ({
    kind: 'callback',
    event: {
      identity: `media:${eventType}:${p.publisherId}${suffix}`,
      source, eventType, streamName: p.streamName, sequence: p.publisherId, at: p.at,
      body: payload as unknown as Record<string, unknown>, receivedAt,
      // In-process, or HMAC-signed over the whole body: nobody else could have written it.
      bodyVerified: true,
    },
  });
  switch (name) {
    case 'publish.started': return callback(CallbackEventType.push, payload as MediaEvents['publish.started']);
    case 'publish.ended': return callback(CallbackEventType.cutOff, payload as MediaEvents['publish.ended']);
    case 'record.done': {
      const r = payload as MediaEvents['record.done'];
      return callback(CallbackEventType.record, { streamName: r.streamName, publisherId: r.publisherId, at: r.endedAt }, `:${r.path}`);
    }
    case 'stream.stats': return { kind: 'heartbeat', stats: payload as StreamStats };
    default: return { kind: 'ignored' };
  }
}

/** The shape media posts to /api/v1/callback/media: `{ event, payload }`, checked before mapping. */
const base = { streamName: z.string().min(1).max(191), publisherId: z.string().min(1).max(128), at: z.number().int().nonnegative() };
export const mediaCallbackSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('publish.started'), payload: z.object({ ...base, app: z.string().max(64), clientIp: z.string().max(64) }).passthrough() }),
  z.object({ event: z.literal('publish.ended'), payload: z.object({ ...base, app: z.string().max(64), reason: z.string().max(32), bytesIn: z.number(), durationMs: z.number() }).passthrough() }),
  z.object({ event: z.literal('record.done'), payload: z.object({ streamName: base.streamName, publisherId: base.publisherId, path: z.string().min(1).max(1024), startedAt: z.number(), endedAt: z.number(), durationMs: z.number(), size: z.number() }).passthrough() }),
  z.object({ event: z.literal('stream.stats'), payload: z.object({ ...base }).passthrough() }),
  z.object({ event: z.literal('play.started'), payload: z.object({}).passthrough() }),
  z.object({ event: z.literal('play.ended'), payload: z.object({}).passthrough() }),
]);

export type { MediaEventSource };

export interface MediaSinkOptions {
  /** The heartbeat path (live session service); stats are not put on the bus. */
  onHeartbeat?: (stats: StreamStats) => Promise<void> | void;
  events?: LiveEventLog;
  log?: Logger;
}

/**
 * In-process sink (npm start): appends the engine's events to the bus as they happen. The engine
 * never waits: append failures are logged (and, being durable-or-not at the append, they are the
 * only loss window: the reaper and the next publish correct the state). Returns the detach function.
 */
export function attachMediaEventsToBus(emitter: MediaEventSource, bus: EventBus<BusEvents>, options: MediaSinkOptions = {}): () => void {
  const names: MediaEventName[] = ['publish.started', 'publish.ended', 'record.done', 'stream.stats'];
  const listeners = names.map((name) => {
    const listener = (payload: MediaEvents[typeof name]) => {
      const mapped = mapMediaEvent(name, payload, 'media');
      if (mapped.kind === 'heartbeat') {
        Promise.resolve(options.onHeartbeat?.(mapped.stats)).catch((err: unknown) => options.log?.warn({ err }, 'heartbeat failed'));
      } else if (mapped.kind === 'callback') {
        publishCallback(bus, mapped.event, options).catch(() => undefined);
      }
    };
    emitter.on(name, listener);
    return [name, listener] as const;
  });
  return () => { for (const [name, l] of listeners) emitter.off(name, l); };
}

/** Appends a verified callback to the bus (keyed by stream, so one stream's events stay in order) and logs it. */
export async function publishCallback(bus: EventBus<BusEvents>, event: CallbackReceived, options: { events?: LiveEventLog; log?: Logger }): Promise<string> {
  const line = { identity: event.identity, source: event.source, eventType: event.eventType, streamName: event.streamName, sequence: event.sequence };
  try {
    const busId = await bus.publish('callback.received', event, { key: event.streamName });
    options.events?.write({ ...line, status: 'accepted', busId, body: event.body });
    return busId;
  } catch (err) {
    options.log?.error({ err, identity: event.identity }, 'could not append callback to the bus');
    options.events?.write({ ...line, status: 'refused', reason: 'bus_unavailable', body: event.body });
    throw err;
  }
}
