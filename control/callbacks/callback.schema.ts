import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CallbackEventType, type CallbackEventTypeCode, type CallbackReceived } from '../../core/events/bus-events.js';

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

export type ParsedCallback = { ok: true; event: CallbackReceived } | { ok: false; status: 400; reason: string };

/** Validates a signed CSS body (signature already checked) and turns it into the bus event. */
export function parseCssCallback(type: CallbackEventTypeCode, raw: Record<string, unknown>, receivedAt: number, bodyVerified = false): ParsedCallback {
  const parsed = schemas[type].safeParse(raw);
  if (!parsed.success) {
    return { ok: false, status: 400, reason: `invalid ${type} body: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(body)'} ${i.message}`).join('; ')}` };
  }
  const b = parsed.data;
  const stream = String(b.stream_id ?? b.streamId);
  const seconds = Number(b.event_time ?? b.end_time ?? b.create_time ?? 0);
  const ms = Number(b.data_time ?? 0);
  return {
    ok: true,
    event: {
      identity: identityOf(type, b, stream),
      source: 'css',
      eventType: type,
      streamName: stream,
      sequence: b.sequence !== undefined ? String(b.sequence) : null,
      at: ms > 0 ? ms : seconds > 0 ? seconds * 1000 : receivedAt,
      body: withoutSecrets(b),
      receivedAt,
      bodyVerified,
    },
  };
}
