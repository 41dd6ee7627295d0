import { z } from 'zod';

export const roomId = z.string().regex(/^\d{1,19}$/, 'must be a numeric id');
export const roomParams = z.strictObject({ id: roomId });

const title = z.string().trim().min(1).max(255);
const coverUrl = z.string().max(1024).url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');

export const createRoomBody = z.strictObject({
  title,
  cover_url: coverUrl.nullable().optional(),
  record: z.boolean().optional(),
});

export const patchRoomBody = z.strictObject({
  title: title.optional(),
  cover_url: coverUrl.nullable().optional(),
  record: z.boolean().optional(),
}).refine((b) => Object.keys(b).length > 0, 'nothing to change');

export const listRoomsQuery = z.strictObject({
  live: z.enum(['1', 'true']).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
});
