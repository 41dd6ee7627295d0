import { z } from 'zod';

/**
 * The live chat wire protocol, version 1 (docs/chat-protocol.md is the reference for clients).
 * Shared by control (the gateway), tools and tests; the web pages speak it from a browser.
 *
 * Every message in either direction is a JSON object `{ v: 1, type: string, ... }`. The server
 * sends each WebSocket text frame as a JSON **array** of such messages (everything the room
 * produced in one event-loop turn shares one frame); clients send one message per frame.
 *
 * The room's pub/sub channel (core/pubsub roomChannel(roomId)) carries the same envelopes: any
 * object with `v: 1` and a string `type` published there (publish or publishKept) is forwarded to
 * the room's sockets as is, with `id` set to its history id when it was kept. Other roles (gifts,
 * notices) publish their own types there; they must not use the field name `id`.
 */
export const CHAT_PROTOCOL_VERSION = 1;

export const danmakuPositions = ['scroll', 'top', 'bottom'] as const;

const clientId = z.string().max(64).optional();

/** What a client may send. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), type: z.literal('ping'), t: z.number().optional() }),
  z.object({
    v: z.literal(1),
    type: z.enum(['chat', 'danmaku']),
    text: z.string().max(10_000),
    /** Position in the video (ms) a danmaku belongs to, for overlays and replays. */
    ts: z.number().int().nonnegative().max(1e12).optional(),
    /** `#rrggbb`. */
    color: z.string().regex(/^#[0-9a-fA-F]{6}$/).optional(),
    position: z.enum(danmakuPositions).optional(),
    /** Echoed in the ack or error so a client can match its post. */
    client_id: clientId,
  }),
  z.object({ v: z.literal(1), type: z.literal('like'), count: z.number().int().min(1).max(100).default(1) }),
  /** Missed messages since `after` (a history id), e.g. after a reconnect that lost the query string. */
  z.object({ v: z.literal(1), type: z.literal('resume'), after: z.string().max(40) }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export interface ChatUser {
  id: string;
  name: string;
}

/** The server's messages (not exhaustive: other roles add types on the room channel). */
export type ServerMessage =
  | { v: 1; type: 'welcome'; room_id: string; session_id: string | null; user: ChatUser | null; can_post: boolean; online: number; heartbeat_ms: number }
  | { v: 1; type: 'pong'; t?: number }
  | { v: 1; type: 'chat' | 'danmaku'; id?: string; room_id: string; user: ChatUser; text: string; ts?: number; color?: string; position?: string; at: number }
  | { v: 1; type: 'ack'; client_id?: string; id: string }
  | { v: 1; type: 'error'; code: string; message: string; client_id?: string; retry_after_ms?: number }
  | { v: 1; type: 'resumed'; after: string | null; count: number; gap: boolean }
  | { v: 1; type: 'audience_join' | 'audience_leave'; id?: string; users: ChatUser[]; count: number }
  | { v: 1; type: 'online'; count: number }
  | { v: 1; type: 'likes'; count: number }
  | { v: 1; type: 'message_deleted'; id?: string; message_id: string; by: string }
  | { v: 1; type: 'notice'; id?: string; code: string; text: string; [extra: string]: unknown }
  | { v: 1; type: 'kicked' | 'muted'; user_id: string; until: number; reason?: string };

/** Close codes the server uses (4000-4999 are the application's). */
export const chatCloseCodes = {
  /** The socket did not keep up (its send queue passed chat.maxBufferedBytes). */
  slowConsumer: 1013,
  /** Heartbeat timeout: no pong or message within chat.heartbeatTimeout. */
  heartbeatTimeout: 4000,
  /** Kicked from the room by the anchor, an admin or an operator. */
  kicked: 4003,
  /** The live session ended (or was paused by moderation: the `stream_paused` notice says until when). */
  ended: 4004,
  /**
   * Another socket of the same user joined the same room (on any control node): one socket per
   * viewer per room, the newest wins. Clients must not reconnect on this code (two tabs would take
   * turns for ever); tell the user the chat moved to another window.
   */
  replaced: 4005,
  /** The server is shutting down; reconnect (to another node) and resume. */
  goingAway: 1001,
} as const;

/** True when a pub/sub message is a chat envelope the gateway forwards. */
export function isEnvelope(message: unknown): message is { v: 1; type: string } & Record<string, unknown> {
  return typeof message === 'object' && message !== null && !Array.isArray(message)
    && (message as { v?: unknown }).v === 1 && typeof (message as { type?: unknown }).type === 'string';
}
