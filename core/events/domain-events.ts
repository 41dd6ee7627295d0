import { z } from 'zod';
import { RejectedEventError } from '../errors.js';

/**
 * The one vocabulary of what happens in a live room (DESIGN "Domain events"). Every edge (the
 * in-process engine, media's signed HTTP callbacks, the SRS/nginx-rtmp hooks, the Tencent CSS-style
 * receiver) translates what it hears into these events before anything else happens, and handlers
 * subscribe by name without knowing the source.
 *
 * Each entry has a schema (checked where an event enters from outside a process), a version (bumped
 * on an incompatible payload change; consumers refuse versions they do not know), and `durable`:
 *   - durable events go through the event bus (at least once, retried, dead-lettered), so every
 *     handler must be idempotent by `eventId`;
 *   - fan-out events (heartbeats, viewings, chat) go through pub/sub or straight to their one
 *     in-process handler, the edge's own retry (media's HTTP sink) or the shutdown drain covering them.
 *
 * Names are dotted `noun.verb` in the past tense (STYLE §3). Ids travel as strings: rooms and users
 * are BIGINT keys, sessions are snowflakes.
 */

/** Stable across re-sends of the same fact (a vendor retry, a media HTTP retry): what handlers deduplicate on. */
const eventId = z.string().min(1).max(191);
/** Milliseconds since the epoch. */
const at = z.number().int().nonnegative();
const entityId = z.string().min(1).max(64);
const optionalId = entityId.optional();
/** The public stream name: the room id for onair's rooms; a vendor's stream_id may be any name. */
const roomId = z.string().min(1).max(191);

export const playProtocols = ['rtmp', 'http-flv', 'ws-flv', 'hls', 'webrtc'] as const;
const protocol = z.enum(playProtocols);

const video = z.object({ codec: z.string().max(16), width: z.number().int().nonnegative(), height: z.number().int().nonnegative(), fps: z.number().nonnegative() });
const audio = z.object({ codec: z.string().max(16), sampleRate: z.number().int().nonnegative(), channels: z.number().int().nonnegative() });

/** Where a file the event names lives: a path on the media node, an object-store key, or a vendor URL. */
const fileRef = z.object({
  path: z.string().min(1).max(1024).optional(),
  objectKey: z.string().min(1).max(1024).optional(),
  url: z.string().url().max(2048).optional(),
}).refine((f) => f.path !== undefined || f.objectKey !== undefined || f.url !== undefined, 'a file needs a path, an objectKey or a url');

const streamRef = {
  eventId,
  at,
  /** The public stream name: the room id. */
  roomId,
  /** One publish session of one encoder connection (engine publisherId, `css:{sequence}` for the vendor). */
  publisherId: z.string().min(1).max(128),
  /** The live session, when the edge knows it (the engine does; vendors do not). */
  sessionId: optionalId,
};

export const domainEventSchemas = {
  /** Media is flowing for a room: the only event that turns a session live. */
  'stream.published': z.object({
    ...streamRef,
    app: z.string().max(64),
    clientIp: z.string().max(64),
    video: video.optional(),
    audio: audio.optional(),
  }),
  'stream.unpublished': z.object({
    ...streamRef,
    reason: z.enum(['closed', 'unpublished', 'kicked', 'idle', 'no-media', 'error', 'replaced', 'vendor']),
    bytesIn: z.number().nonnegative(),
    durationMs: z.number().nonnegative(),
  }),
  /** The vendor reported a failing push (CSS 推流异常, event_type 321): logged, nothing else yet. */
  'stream.failed': z.object({
    eventId,
    at,
    roomId,
    sessionId: optionalId,
    publisherId: z.string().min(1).max(128).optional(),
  }),
  /** Periodic per-stream figures; the live-session service treats them as the stream's heartbeat. */
  'stream.heartbeat': z.object({
    ...streamRef,
    bitrateInKbps: z.number().nonnegative(),
    bitrateOutKbps: z.number().nonnegative(),
    viewers: z.record(z.string(), z.number().int().nonnegative()),
    videoFrames: z.number().int().nonnegative(),
    audioFrames: z.number().int().nonnegative(),
    bytesIn: z.number().nonnegative(),
    bytesOut: z.number().nonnegative(),
    fps: z.number().nonnegative().optional(),
    keyframeIntervalMs: z.number().nonnegative().optional(),
  }),
  'viewer.joined': z.object({
    eventId,
    at,
    roomId,
    sessionId: optionalId,
    /** The media connection (engine viewerId). */
    viewerId: z.string().min(1).max(128),
    protocol,
    clientIp: z.string().max(64),
    /** The user the play token was issued to; null for anonymous viewers. */
    userId: entityId.nullable(),
  }),
  'viewer.left': z.object({
    eventId,
    at,
    roomId,
    sessionId: optionalId,
    viewerId: z.string().min(1).max(128),
    protocol,
    clientIp: z.string().max(64),
    userId: entityId.nullable(),
    reason: z.enum(['closed', 'kicked', 'slow', 'shed', 'stream-ended', 'error', 'exited', 'timeout']),
    bytesOut: z.number().nonnegative(),
    durationMs: z.number().nonnegative(),
  }),
  /**
   * A user entered a room through the app (POST /rooms/{id}/enter, or a chat socket of a user not
   * yet in the room): seed 000's 进入房间. Distinct from viewer.joined (one media connection): one
   * user may hold several players, or none (chat only). Feeds live_audience (the enter log and the
   * session's unique viewers), the peak, and the watch history.
   */
  'audience.entered': z.object({
    eventId,
    at,
    roomId: entityId,
    sessionId: optionalId,
    userId: entityId,
    /** The room's online count right after this user was counted in. */
    online: z.number().int().nonnegative(),
  }),
  /** A user left a room: /exit, a kick or the blacklist, or their sockets went silent past the heartbeat timeout. */
  'audience.exited': z.object({
    eventId,
    at,
    roomId: entityId,
    sessionId: optionalId,
    userId: entityId,
    reason: z.enum(['exit', 'kicked', 'blacklisted', 'timeout']),
    /** When the user entered (ms), when known: watch time is `at - enteredAt`. */
    enteredAt: at.nullable(),
    online: z.number().int().nonnegative(),
  }),
  /** A finished recording (one segment of a show; long shows are cut into several). */
  'recording.finished': z.object({
    ...streamRef,
    file: fileRef,
    format: z.enum(['flv', 'mp4', 'hls', 'other']),
    /** 0-based segment index within the publish session. */
    segment: z.number().int().nonnegative(),
    /** The publish session's last recording (its show has no later segment): the transcoder joins a segmented show when it has them all. */
    final: z.boolean().optional(),
    startedAt: at,
    endedAt: at,
    durationMs: z.number().nonnegative(),
    size: z.number().int().nonnegative(),
    /** The vendor's id of the file, when it has one. */
    vendorFileId: z.string().max(128).optional(),
  }),
  'screenshot.taken': z.object({
    eventId,
    at,
    roomId,
    sessionId: optionalId,
    image: fileRef,
    /** A larger rendition, when the source makes one (the vendor's pic_full_url): the cover uses it. */
    fullImage: fileRef.optional(),
    width: z.number().int().nonnegative().optional(),
    height: z.number().int().nonnegative().optional(),
  }),
  /** A content-moderation verdict about a stream. */
  'audit.flagged': z.object({
    eventId,
    at,
    roomId,
    sessionId: optionalId,
    kind: z.enum(['image', 'audio', 'text', 'other']),
    severity: z.enum(['normal', 'light', 'medium', 'severe']),
    /**
     * True only when the verdict's body was authenticated (a body-covering signature). A verdict
     * whose body could have been forged never imposes a permanent sanction by itself.
     */
    bodyVerified: z.boolean(),
    label: z.string().max(128).optional(),
    /** The source's own recommendation (Block, Review, Pass), kept for the audit log. */
    suggestion: z.string().max(16).optional(),
    score: z.number().optional(),
    evidence: fileRef.optional(),
    /** The vendor's own fields, kept for the audit log (bounded by the receiver). */
    raw: z.record(z.string(), z.unknown()).optional(),
  }),
  /** Emitted by the live-session service when a session turns live (after stream.published). */
  'session.live': z.object({
    eventId,
    at,
    sessionId: entityId,
    roomId: entityId,
    anchorId: entityId,
  }),
  /** Emitted by the live-session service when a session ends, whatever ended it. */
  'session.ended': z.object({
    eventId,
    at,
    sessionId: entityId,
    roomId: entityId,
    anchorId: entityId,
    /** 1 anchor, 2 operator, 3 stream cut / reaper (seed 000). */
    closeMethod: z.union([z.literal(1), z.literal(2), z.literal(3)]),
    reason: z.string().max(512),
    startedAt: at.nullable(),
    durationMs: z.number().nonnegative(),
  }),
  /** A recording became a replay a viewer can watch (transcoder). */
  'replay.ready': z.object({
    eventId,
    at,
    replayId: entityId,
    roomId,
    sessionId: optionalId,
    objectKey: z.string().min(1).max(1024),
    posterKey: z.string().min(1).max(1024).nullable(),
    durationMs: z.number().nonnegative(),
    size: z.number().int().nonnegative(),
  }),
} as const;

export type DomainEventName = keyof typeof domainEventSchemas;
/** A type alias (not an interface) so it satisfies the bus's EventCatalog index signature. */
export type DomainEvents = { [N in DomainEventName]: z.infer<(typeof domainEventSchemas)[N]> };

export interface DomainEventSpec {
  version: number;
  durable: boolean;
}

/** Version and delivery of each event. A new event is added here and in domainEventSchemas. */
export const domainEventSpecs: { readonly [N in DomainEventName]: DomainEventSpec } = {
  'stream.published': { version: 1, durable: true },
  'stream.unpublished': { version: 1, durable: true },
  'stream.failed': { version: 1, durable: true },
  'stream.heartbeat': { version: 1, durable: false },
  // The audience log is high-volume (a popular show starting is thousands of joins a second) and each
  // edge already delivers at least once (media's HTTP sink retries until answered; in-process the
  // shutdown waits for the writes), so viewings go straight to their one route, not through the bus.
  'viewer.joined': { version: 1, durable: false },
  'viewer.left': { version: 1, durable: false },
  // Enters and exits are as frequent as viewings (a show starting: thousands a second) and have one
  // route (the live_audience writes, which the shutdown drains), so they are fan-out events as well.
  'audience.entered': { version: 1, durable: false },
  'audience.exited': { version: 1, durable: false },
  'recording.finished': { version: 1, durable: true },
  'screenshot.taken': { version: 1, durable: true },
  'audit.flagged': { version: 1, durable: true },
  'session.live': { version: 1, durable: true },
  'session.ended': { version: 1, durable: true },
  'replay.ready': { version: 1, durable: true },
};

export const durableEventNames = (Object.keys(domainEventSpecs) as DomainEventName[]).filter((n) => domainEventSpecs[n].durable);

/** The events that are not durable (compile-time twin of domainEventSpecs' `durable: false`; a test keeps them equal). */
export type FanOutEventName = 'stream.heartbeat' | 'viewer.joined' | 'viewer.left' | 'audience.entered' | 'audience.exited';
export type DurableEventName = Exclude<DomainEventName, FanOutEventName>;
/** What the durable event bus carries: every durable domain event, by name. A type alias, so it satisfies EventCatalog. */
export type DurableEvents = { [N in DurableEventName]: DomainEvents[N] };

/** A file reference from what a source names: a URL when it parses as one, a path otherwise. */
export function fileRefOf(location: string): FileRef {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location) && URL.canParse(location) ? { url: location } : { path: location };
}

/** The one string a file reference stands for (the URL, object key or path), as stored in live_records / live_screenshots. */
export function fileLocation(ref: FileRef): string {
  return ref.url ?? ref.objectKey ?? ref.path ?? '';
}

export type FileRef = z.infer<typeof fileRef>;

export function isDomainEventName(name: string): name is DomainEventName {
  return Object.prototype.hasOwnProperty.call(domainEventSchemas, name);
}

/**
 * Checks an event that arrives from outside this process (an HTTP edge, a bus delivery written by
 * another version): returns the parsed payload (unknown keys stripped) or throws the ZodError.
 */
/** What a durable event is published with: its room as the ordering key, and its schema version (carried by the bus). */
export function busPublishOptions(name: DomainEventName, key: string): { key: string; version: number } {
  return { key, version: domainEventSpecs[name].version };
}

/**
 * A consumer's check of a delivery's version: one it does not know (a newer publisher, or a
 * corrupt entry) is refused with a RejectedEventError, which the bus dead-letters at once; an
 * operator replays it once a consumer that knows that version runs.
 */
export function checkEventVersion(name: string, version: number): void {
  const known = isDomainEventName(name) ? domainEventSpecs[name].version : undefined;
  if (known === undefined) throw new RejectedEventError(`${name} is not a domain event this consumer knows`, { code: 'unknown_event' });
  if (version !== known) {
    throw new RejectedEventError(`${name} v${version} is not a version this consumer knows (it reads v${known}): replay it once a consumer that reads v${version} runs`, { code: 'unknown_event_version' });
  }
}

export function parseDomainEvent<N extends DomainEventName>(name: N, payload: unknown): DomainEvents[N] {
  return domainEventSchemas[name].parse(payload) as DomainEvents[N];
}
