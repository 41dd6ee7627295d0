import { createHash } from 'node:crypto';
import { z } from 'zod';
import { fileRefOf } from '../../core/events/domain-events.js';
import { eventIds } from '../../core/events/event-route.js';
import { auditVerdict } from './audit-severity.js';
import type { DomainEventOut } from './domain-event-out.js';

/** Tencent Cloud CSS callback event types (the vendor's `event_type`). */
export const CallbackEventType = {
  cutOff: 0,
  push: 1,
  record: 100,
  screenshot: 200,
  audioAudit: 315,
  imageAudit: 317,
  pushError: 321,
} as const;
export type CallbackEventTypeCode = (typeof CallbackEventType)[keyof typeof CallbackEventType];

/**
 * Tencent Cloud CSS event notifications (推断流/录制/截图/画面审核/音频审核/推流异常), field names
 * as the vendor documents them. Unknown extra fields pass through (the vendor adds fields over time);
 * the ones we act on are checked and bounded. Numbers may arrive as strings: coerced.
 */
const str = (max = 1024) => z.string().max(max);
const int = () => z.coerce.number().int();
const id = () => z.union([z.string().max(128), z.number()]).transform(String);

/** What every notification carries; `t` and `sign` may be left out only by a sender that signs the body (HMAC headers). */
export const cssEnvelopeSchema = z.object({
  event_type: z.coerce.number().int(),
  t: z.coerce.number().int().positive().optional(),
  sign: z.string().max(64).optional(),
}).passthrough();

const pushSchema = z.object({
  stream_id: str(191).min(1),
  sequence: id(),
  event_time: int().optional(),
  app: str().optional(),
  appname: str().optional(),
  channel_id: str().optional(),
  user_ip: str(64).optional(),
  node: str(64).optional(),
  push_duration: z.union([z.string(), z.number()]).optional(),
  errcode: int().optional(),
  errmsg: str().optional(),
  width: int().optional(),
  height: int().optional(),
}).passthrough();

const recordSchema = z.object({
  stream_id: str(191).min(1),
  video_url: str(1024).min(1),
  file_id: id().optional(),
  record_file_id: id().optional(),
  file_format: str(16).default('flv'),
  start_time: int().optional(),
  end_time: int().optional(),
  duration: int().nonnegative().default(0),
  file_size: int().nonnegative().default(0),
  task_id: id().optional(),
}).passthrough();

const screenshotSchema = z.object({
  stream_id: str(191).min(1),
  pic_url: str(1024).min(1),
  pic_full_url: str(1024).optional(),
  width: int().optional(),
  height: int().optional(),
  create_time: int().optional(),
  file_size: int().optional(),
}).passthrough();

/** Image audit (317): camelCase fields; type/score are arrays (labels by priority, and their scores 0..100). */
const imageAuditSchema = z.object({
  streamId: str(191).min(1).optional(),
  stream_id: str(191).min(1).optional(),
  img: str(2048).optional(),
  type: z.array(z.union([z.number(), z.string()])).max(64).optional(),
  score: z.array(z.coerce.number()).max(64).optional(),
  suggestion: str(16).optional(),
  label: str(64).optional(),
  subLabel: str(128).optional(),
}).passthrough().refine((b) => b.streamId ?? b.stream_id, { message: 'streamId is required' });

/** Audio audit (315): snake_case, a HitFlag and one Score 0..100, a label. */
const audioAuditSchema = z.object({
  stream_id: str(191).min(1),
  HitFlag: int().optional(),
  Score: z.coerce.number().optional(),
  label: str(64).optional(),
  suggestion: str(16).optional(),
  task_id: id().optional(),
  asr_text: str(8192).optional(),
  cdn_url: str(2048).optional(),
}).passthrough();

const pushErrorSchema = z.object({
  stream_id: str(191).min(1),
  sequence: id().optional(),
  data_time: int().optional(),
}).passthrough();

const schemas: Record<CallbackEventTypeCode, z.ZodType<Record<string, unknown>>> = {
  [CallbackEventType.push]: pushSchema,
  [CallbackEventType.cutOff]: pushSchema,
  [CallbackEventType.record]: recordSchema,
  [CallbackEventType.screenshot]: screenshotSchema,
  [CallbackEventType.imageAudit]: imageAuditSchema,
  [CallbackEventType.audioAudit]: audioAuditSchema,
  [CallbackEventType.pushError]: pushErrorSchema,
};

export function isKnownEventType(code: number): code is CallbackEventTypeCode {
  return Object.prototype.hasOwnProperty.call(schemas, code);
}

/** Fields never stored: the signature, and stream_param (it carries txSecret). */
export function withoutSecrets(body: Record<string, unknown>): Record<string, unknown> {
  const { sign: _sign, stream_param: _param, ...rest } = body;
  return rest;
}

const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 32);

/**
 * The event's identity: what stays the same when the vendor re-sends it (it retries up to 12 times).
 * Push and cut-off of one publish share `sequence`, so the type is part of the identity.
 */
function identityOf(type: CallbackEventTypeCode, b: Record<string, unknown>, stream: string): string {
  switch (type) {
    case CallbackEventType.push:
    case CallbackEventType.cutOff:
      return `css:${type}:${String(b.sequence)}`;
    case CallbackEventType.record:
      return `css:100:${String(b.file_id ?? b.record_file_id ?? digest(b.video_url))}`;
    case CallbackEventType.screenshot:
      return `css:200:${stream}:${String(b.pic_url)}`;
    default: {
      // Audits and push errors have no id of their own: the body without sign and t.
      const { sign: _s, t: _t, ...rest } = b;
      return `css:${type}:${stream}:${digest(rest)}`;
    }
  }
}

export type ParsedCallback = { ok: true; out: DomainEventOut } | { ok: false; status: 400; reason: string };

const ms = (seconds: unknown): number | undefined => (seconds !== undefined && Number(seconds) > 0 ? Number(seconds) * 1000 : undefined);
const formats = new Set(['flv', 'mp4', 'hls']);
/** A vendor's optional number that means nothing when negative or not finite: dropped, not a reason to lose the event. */
const nonNegative = (v: unknown): number | undefined => {
  const n = Number(v);
  return v !== undefined && Number.isFinite(n) && n >= 0 ? n : undefined;
};
const dimension = (v: unknown): number | undefined => {
  const n = nonNegative(v);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
};

/**
 * Validates a signed CSS body (signature already checked) and translates it into the domain event
 * it reports, the edge's only job: push -> stream.published, cut-off -> stream.unpublished, record
 * -> recording.finished, screenshot -> screenshot.taken, audits -> audit.flagged (severity derived
 * here: the vendor's labels mean nothing past this edge), push error -> stream.failed. A push's
 * publisherId is `css:{sequence}`, so its cut-off (same sequence) pairs with it.
 */
export function parseCssCallback(type: CallbackEventTypeCode, raw: Record<string, unknown>, receivedAt: number, bodyVerified = false): ParsedCallback {
  const parsed = schemas[type].safeParse(raw);
  if (!parsed.success) {
    return { ok: false, status: 400, reason: `invalid ${type} body: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(body)'} ${i.message}`).join('; ')}` };
  }
  const b = parsed.data;
  const roomId = String(b.stream_id ?? b.streamId);
  const seconds = Number(b.event_time ?? b.end_time ?? b.create_time ?? 0);
  const dataMs = Number(b.data_time ?? 0);
  const at = dataMs > 0 ? dataMs : seconds > 0 ? seconds * 1000 : receivedAt;
  const eventId = identityOf(type, b, roomId);
  const publisherId = `css:${String(b.sequence ?? '')}`;
  const out = ((): DomainEventOut => {
    switch (type) {
      case CallbackEventType.push:
        return { kind: 'durable', name: 'stream.published', event: {
          eventId: eventIds.published(publisherId), at, roomId, publisherId, app: String(b.appname ?? b.app ?? 'live').slice(0, 64), clientIp: String(b.user_ip ?? '').slice(0, 64),
        } };
      case CallbackEventType.cutOff:
        return { kind: 'durable', name: 'stream.unpublished', event: {
          eventId: eventIds.unpublished(publisherId), at, roomId, publisherId, reason: 'vendor', bytesIn: 0, durationMs: nonNegative(b.push_duration) ?? 0,
        } };
      case CallbackEventType.record: {
        const start = ms(b.start_time);
        const end = ms(b.end_time) ?? at;
        const format = String(b.file_format ?? 'flv').toLowerCase();
        return { kind: 'durable', name: 'recording.finished', event: {
          eventId, at, roomId, publisherId: `css:${String(b.task_id ?? b.file_id ?? b.record_file_id ?? 'record')}`.slice(0, 128),
          file: fileRefOf(String(b.video_url)), format: format === 'm3u8' ? 'hls' : formats.has(format) ? format as 'flv' | 'mp4' | 'hls' : 'other',
          segment: 0, startedAt: start ?? end, endedAt: end, durationMs: Number(b.duration ?? 0) * 1000, size: Number(b.file_size ?? 0),
          vendorFileId: b.file_id !== undefined ? String(b.file_id).slice(0, 128) : b.record_file_id !== undefined ? String(b.record_file_id).slice(0, 128) : undefined,
        } };
      }
      case CallbackEventType.screenshot:
        return { kind: 'durable', name: 'screenshot.taken', event: {
          eventId, at: ms(b.create_time) ?? at, roomId, image: fileRefOf(String(b.pic_url)),
          fullImage: b.pic_full_url ? fileRefOf(String(b.pic_full_url)) : undefined,
          width: dimension(b.width), height: dimension(b.height),
        } };
      case CallbackEventType.imageAudit:
      case CallbackEventType.audioAudit: {
        const v = auditVerdict(type, b);
        return { kind: 'durable', name: 'audit.flagged', event: {
          eventId, at, roomId, kind: v.kind, severity: v.severity === 'pass' ? 'normal' : v.severity, bodyVerified,
          label: v.label ?? undefined, suggestion: v.suggestion?.slice(0, 16) ?? undefined, score: v.score ?? undefined,
          evidence: v.evidenceUrl ? fileRefOf(v.evidenceUrl) : undefined, raw: withoutSecrets(b),
        } };
      }
      case CallbackEventType.pushError:
        return { kind: 'durable', name: 'stream.failed', event: { eventId, at, roomId, publisherId: b.sequence !== undefined ? publisherId : undefined } };
    }
  })();
  return { ok: true, out };
}
