import { z } from 'zod';

/**
 * The wire shape media posts to control's /api/v1/callback/media: `{ event, payload }`, one
 * MediaEvents entry (core/media/media-contract.ts). Shared by both roles: media's HTTP sink sends it,
 * control's receiver checks it before translating it into a domain event.
 */
const base = { streamName: z.string().min(1).max(191), publisherId: z.string().min(1).max(128), sessionId: z.string().max(64).optional(), at: z.number().int().nonnegative() };
const protocol = z.enum(['rtmp', 'http-flv', 'ws-flv', 'hls', 'webrtc']);
const play = { streamName: base.streamName, viewerId: z.string().min(1).max(128), protocol, clientIp: z.string().max(64), at: base.at };
export const mediaCallbackSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('publish.started'), payload: z.object({ ...base, app: z.string().max(64), clientIp: z.string().max(64) }).passthrough() }),
  z.object({
    event: z.literal('publish.ended'),
    payload: z.object({ ...base, app: z.string().max(64), reason: z.enum(['closed', 'unpublished', 'kicked', 'idle', 'error', 'replaced']), bytesIn: z.number().nonnegative(), durationMs: z.number().nonnegative() }).passthrough(),
  }),
  z.object({
    event: z.literal('record.done'),
    payload: z.object({
      streamName: base.streamName, publisherId: base.publisherId, sessionId: base.sessionId, path: z.string().min(1).max(1024), segment: z.number().int().nonnegative().max(100_000).optional(), final: z.boolean().optional(),
      startedAt: z.number().nonnegative(), endedAt: z.number().nonnegative(), durationMs: z.number().nonnegative(), size: z.number().nonnegative(),
    }).passthrough(),
  }),
  z.object({ event: z.literal('stream.stats'), payload: z.object({ ...base }).passthrough() }),
  z.object({ event: z.literal('play.started'), payload: z.object(play).passthrough() }),
  z.object({
    event: z.literal('play.ended'),
    payload: z.object({ ...play, reason: z.enum(['closed', 'kicked', 'slow', 'shed', 'stream-ended', 'error']), bytesOut: z.number().nonnegative(), durationMs: z.number().nonnegative() }).passthrough(),
  }),
]);
export type MediaCallback = z.infer<typeof mediaCallbackSchema>;
