import { z } from 'zod';

const iconUrl = z.string().max(1024).url().refine((u) => /^https?:\/\//.test(u) || u.startsWith('/'), 'must be an http(s) URL');
export const giftParams = z.strictObject({ id: z.string().regex(/^\d{1,19}$/, 'must be a numeric id') });

export const createGiftBody = z.strictObject({
  name: z.string().trim().min(1).max(64),
  icon_url: iconUrl.nullable().optional(),
  /** Coins per gift. */
  price: z.number().int().min(1).max(1_000_000),
  /** 0 none, 1 small, 2 banner, 3 full screen. */
  animation_tier: z.number().int().min(0).max(3).default(0),
  enabled: z.boolean().default(true),
  sort_order: z.number().int().min(-1_000_000).max(1_000_000).default(0),
});

export const patchGiftBody = z.strictObject({
  name: z.string().trim().min(1).max(64).optional(),
  icon_url: iconUrl.nullable().optional(),
  price: z.number().int().min(1).max(1_000_000).optional(),
  animation_tier: z.number().int().min(0).max(3).optional(),
  enabled: z.boolean().optional(),
  sort_order: z.number().int().min(-1_000_000).max(1_000_000).optional(),
}).refine((b) => Object.keys(b).length > 0, 'nothing to change');

export const MAX_GIFT_COUNT = 9999;

export const sendGiftBody = z.strictObject({
  gift_id: z.union([z.string().regex(/^\d{1,19}$/), z.number().int().positive()]).transform(String),
  count: z.number().int().min(1).max(MAX_GIFT_COUNT).default(1),
  /** The client's idempotency key: the same key again returns the first send's order and charges nothing. */
  client_order_id: z.string().min(8).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only'),
  /** The unit price the sender was shown: when the gift's price is not this any more, 409 price_changed and nothing is charged. */
  price: z.number().int().min(1).max(1_000_000).optional(),
});

export const rankingQuery = z.strictObject({
  session_id: z.string().regex(/^\d{1,20}$/).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
