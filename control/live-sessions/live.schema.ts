import { z } from 'zod';
import { roomId } from '../rooms/room.schema.js';

/** room_id as a JSON string or number (ids are BIGINT; numbers above 2^53 must be sent as strings). */
export const roomIdField = z.union([roomId, z.number().int().positive().max(Number.MAX_SAFE_INTEGER).transform(String)]);

export const startBody = z.strictObject({ room_id: roomIdField });
export const closeBody = z.strictObject({ room_id: roomIdField });
export const forceCloseBody = z.strictObject({ room_id: roomIdField, reason: z.string().trim().min(1).max(512) });
export const sessionParams = z.strictObject({ id: z.string().regex(/^\d{1,20}$/, 'must be a numeric session id') });
