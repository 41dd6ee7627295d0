import type { MediaEventName, MediaEventSource, MediaEvents } from '../../core/media/media-contract.js';
import type { DomainEvents, DurableEventName } from '../../core/events/domain-events.js';
import { eventIds } from '../../core/events/event-route.js';
import type { DomainEventOut } from './domain-event-out.js';

/**
 * The media engine's events (in-process, or its signed HTTP callbacks) translated into domain
 * events, the edge's only job. Every media event has one:
 *   publish.started -> stream.published     publish.ended -> stream.unpublished
 *   play.started    -> viewer.joined        play.ended    -> viewer.left        (not durable)
 *   record.done     -> recording.finished   stream.stats  -> stream.heartbeat (not durable)
 * Event ids are stable for one fact whichever way it travels (an HTTP retry re-sends the same
 * one): a publish's start and end are keyed by its publisherId (a snowflake), a viewing by its
 * viewerId, a recording by its publisher and file path.
 */
export function mapMediaEvent<N extends MediaEventName>(name: N, payload: MediaEvents[N]): DomainEventOut {
  switch (name) {
    case 'publish.started': {
      const p = payload as MediaEvents['publish.started'];
      return durable('stream.published', {
        eventId: eventIds.published(p.publisherId), at: p.at, roomId: p.streamName, publisherId: p.publisherId, sessionId: p.sessionId,
        app: p.app, clientIp: p.clientIp, video: p.video, audio: p.audio,
      });
    }
    case 'publish.ended': {
      const p = payload as MediaEvents['publish.ended'];
      return durable('stream.unpublished', {
        eventId: eventIds.unpublished(p.publisherId), at: p.at, roomId: p.streamName, publisherId: p.publisherId, sessionId: p.sessionId,
        reason: p.reason, bytesIn: p.bytesIn, durationMs: p.durationMs,
      });
    }
    case 'play.started': {
      const p = payload as MediaEvents['play.started'];
      return { kind: 'fan-out', name: 'viewer.joined', event: {
        eventId: `${p.viewerId}:joined`, at: p.at, roomId: p.streamName, viewerId: p.viewerId, protocol: p.protocol, clientIp: p.clientIp, userId: null,
      } };
    }
    case 'play.ended': {
      const p = payload as MediaEvents['play.ended'];
      return { kind: 'fan-out', name: 'viewer.left', event: {
        eventId: `${p.viewerId}:left`, at: p.at, roomId: p.streamName, viewerId: p.viewerId, protocol: p.protocol, clientIp: p.clientIp, userId: null,
        reason: p.reason, bytesOut: p.bytesOut, durationMs: p.durationMs,
      } };
    }
    case 'record.done': {
      const r = payload as MediaEvents['record.done'];
      return durable('recording.finished', {
        eventId: `media:100:${r.publisherId}:${r.path}`, at: r.endedAt, roomId: r.streamName, publisherId: r.publisherId, sessionId: r.sessionId,
        file: { path: r.path }, format: 'flv', segment: r.segment ?? 0, ...(r.final ? { final: true } : {}), startedAt: Math.round(r.startedAt), endedAt: Math.round(r.endedAt),
        durationMs: r.durationMs, size: Math.round(r.size),
      });
    }
    case 'stream.stats': {
      const s = payload as MediaEvents['stream.stats'];
      return {
        kind: 'fan-out', name: 'stream.heartbeat', event: {
          eventId: `${s.publisherId}:heartbeat:${s.at}`, at: s.at, roomId: s.streamName, publisherId: s.publisherId, sessionId: s.sessionId,
          bitrateInKbps: s.bitrateInKbps, bitrateOutKbps: s.bitrateOutKbps, viewers: s.viewers, videoFrames: s.videoFrames, audioFrames: s.audioFrames,
          bytesIn: s.bytesIn, bytesOut: s.bytesOut,
        },
      };
    }
    default: return { kind: 'none' };
  }
}

function durable<N extends DurableEventName>(name: N, event: DomainEvents[N]): DomainEventOut {
  return { kind: 'durable', name, event } as DomainEventOut;
}

const MEDIA_EVENT_NAMES: MediaEventName[] = ['publish.started', 'publish.ended', 'play.started', 'play.ended', 'record.done', 'stream.stats'];

/**
 * In-process edge (npm start): every engine event is translated and handed to `deliver` (the
 * pipeline's: durable ones appended to the bus, the heartbeat to its one handler). The engine never
 * waits; a failed append is logged by `deliver`. Returns the detach function.
 */
export function attachMediaEvents(emitter: MediaEventSource, deliver: (out: DomainEventOut) => Promise<unknown>): () => void {
  const listeners = MEDIA_EVENT_NAMES.map((name) => {
    const listener = (payload: MediaEvents[typeof name]) => void deliver(mapMediaEvent(name, payload)).catch(() => undefined);
    emitter.on(name, listener);
    return [name, listener] as const;
  });
  return () => { for (const [name, l] of listeners) emitter.off(name, l); };
}

export type { MediaEventSource };
