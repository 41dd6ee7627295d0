import { z } from 'zod';
import { MAX_RECHARGE_COINS } from '../payments/recharge.service.js';

const numericId = z.string().regex(/^\d{1,19}$/, 'must be a numeric id');
export const idParams = z.strictObject({ id: numericId });
export const userParams = z.strictObject({ user_id: numericId });

/** Newest first; `before` = the last id of the previous page. */
export const pageQuery = z.strictObject({
  before: numericId.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const rechargeBody = z.strictObject({
  coins: z.number().int().min(1).max(MAX_RECHARGE_COINS),
  /** Optional idempotency key (as gifts' client_order_id): the same key again answers the first order; nothing new is created. */
  client_order_id: z.string().min(8).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only').optional(),
});

export const adjustBody = z.strictObject({
  /** Signed: positive credits, negative debits. */
  amount: z.number().int().min(-1_000_000_000).max(1_000_000_000).refine((n) => n !== 0, 'must not be 0'),
  reason: z.string().trim().min(3).max(255),
});

export const refundBody = z.strictObject({
  reason: z.string().trim().min(3).max(255),
});
