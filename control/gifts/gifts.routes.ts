import { Router } from 'express';
import { z } from 'zod';
import { asyncRoute } from '../http/async-route.js';
import { requireRole, requireUser } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { roomParams } from '../rooms/room.schema.js';
import type { Gift, GiftCatalogStore } from './gift-catalog.store.js';
import { orderJson } from './gift-orders.js';
import type { GiftReportsService } from './gift-reports.service.js';
import { PriceChangedError, type GiftSendService } from './gift-send.service.js';
import type { GiftRefundService } from './gift-refund.service.js';
import { createGiftBody, giftParams, patchGiftBody, rankingQuery, sendGiftBody } from './gift.schema.js';
import { pageQuery } from '../wallet/wallet.schema.js';

const giftJson = (g: Gift) => ({
  id: g.id, name: g.name, icon_url: g.iconUrl, price: g.price, animation_tier: g.animationTier, enabled: g.enabled, sort_order: g.sortOrder,
});

const DAY_MS = 86_400_000;
/** A real calendar day (2026-02-31 or 2026-13-45 is a 400, not a NaN in the SQL). */
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
  .refine((d) => { const t = Date.parse(`${d}T00:00:00Z`); return Number.isFinite(t) && new Date(t).toISOString().startsWith(d); }, 'must be a real day (YYYY-MM-DD)');
const incomeQuery = z.strictObject({
  group: z.enum(['session', 'day']).default('session'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
  /** group=day: YYYY-MM-DD (UTC), both inclusive; the last 30 days by default. */
  from: day.optional(),
  to: day.optional(),
});
const refundBody = z.strictObject({ reason: z.string().trim().min(3).max(255) });
const anchorParams = z.strictObject({ id: z.string().regex(/^\d{1,19}$/, 'must be a numeric id') });

/**
 * GET   /gifts                      the enabled catalog (public)
 * GET   /admin/gifts                every gift; POST /admin/gifts; PATCH /admin/gifts/{id} (enable/disable: {enabled});
 *                                   409 gift_name_taken: another gift has the name (trimmed, any case, disabled ones too)
 * POST  /rooms/{id}/gifts           {gift_id, count, client_order_id, price?} -> 201 {order, balance, combo}; 200 with replayed:true for a repeat;
 *                                   price (the unit price shown) differing from the current one: 409 price_changed {error, gift_id, price}, nothing charged
 * GET   /rooms/{id}/gift-ranking    ?session_id=&limit= (public); 404 room_not_found for an unknown room
 * GET   /me/income                  ?group=session|day (anchors: their own); /admin/anchors/{id}/income (operators; 404 anchor_not_found
 *                                   unless the id is a user with the anchor role or a room)
 * GET   /me/gift-orders             gifts I sent (?before=&limit=)
 * POST  /admin/gift-orders/{id}/refund {reason}   operators: the sender gets the amount back, the anchor gives back the income
 */
export function giftsRoutes(deps: { catalog: GiftCatalogStore; sender: GiftSendService; reports: GiftReportsService; refunds: GiftRefundService }): Router {
  const { catalog, sender, reports, refunds } = deps;
  const r = Router();
  r.get('/gifts', asyncRoute(async (_req, res) => {
    res.json({ gifts: (await catalog.list({ all: false })).map(giftJson) });
  }));
  r.get('/admin/gifts', requireRole('operator'), asyncRoute(async (_req, res) => {
    res.json({ gifts: (await catalog.list({ all: true })).map(giftJson) });
  }));
  r.post('/admin/gifts', requireRole('operator'), asyncRoute(async (req, res) => {
    const b = parseInput(createGiftBody, req.body, 'body');
    const gift = await catalog.create({
      name: b.name, iconUrl: b.icon_url ?? null, price: b.price, animationTier: b.animation_tier, enabled: b.enabled, sortOrder: b.sort_order,
    });
    res.status(201).json(giftJson(gift));
  }));
  r.patch('/admin/gifts/:id', requireRole('operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(giftParams, req.params, 'params');
    const b = parseInput(patchGiftBody, req.body, 'body');
    const gift = await catalog.update(id, {
      name: b.name, iconUrl: b.icon_url, price: b.price, animationTier: b.animation_tier, enabled: b.enabled, sortOrder: b.sort_order,
    });
    res.json(giftJson(gift));
  }));

  r.post('/rooms/:id/gifts', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    const b = parseInput(sendGiftBody, req.body, 'body');
    let result;
    try {
      result = await sender.send(req.user!, id, { giftId: b.gift_id, count: b.count, clientOrderId: b.client_order_id, price: b.price });
    } catch (err) {
      // The current price goes with the refusal, so the client can show it without another request.
      if (!(err instanceof PriceChangedError)) throw err;
      res.status(409).set('Cache-Control', 'no-store').json({ error: { code: err.code, message: err.message }, gift_id: err.giftId, price: err.price });
      return;
    }
    res.status(result.replayed ? 200 : 201).set('Cache-Control', 'no-store').json({
      order: orderJson(result.order), replayed: result.replayed, balance: result.balance, combo: result.combo,
    });
  }));
  r.get('/rooms/:id/gift-ranking', asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    const q = parseInput(rankingQuery, req.query, 'query');
    await reports.requireRoom(id);
    const sessionId = await reports.sessionOf(id, q.session_id);
    const ranking = sessionId ? await reports.ranking(sessionId, q.limit) : { entries: [], source: 'database' as const };
    res.json({
      room_id: id, session_id: sessionId,
      ranking: ranking.entries.map((e) => ({ rank: e.rank, user_id: e.userId, username: e.username, amount: e.amount })),
    });
  }));

  const income = async (anchorId: string, query: unknown) => {
    const q = parseInput(incomeQuery, query, 'query');
    if (q.group === 'session') {
      const rows = await reports.incomeBySession(anchorId, q.limit, q.offset);
      return {
        anchor_id: anchorId, group: 'session', next_offset: rows.length === q.limit ? q.offset + rows.length : null,
        sessions: rows.map((s) => ({
          session_id: s.sessionId, room_id: s.roomId, income: s.income, amount: s.amount, gifts: s.gifts, orders: s.orders,
          last_gift_at: new Date(s.lastAt).toISOString(),
        })),
      };
    }
    const to = q.to ? Date.parse(`${q.to}T00:00:00Z`) + DAY_MS : (Math.floor(Date.now() / DAY_MS) + 1) * DAY_MS;
    const from = q.from ? Date.parse(`${q.from}T00:00:00Z`) : to - 30 * DAY_MS;
    const days = await reports.incomeByDay(anchorId, from, to);
    return { anchor_id: anchorId, group: 'day', days };
  };
  r.get('/me/income', requireUser, asyncRoute(async (req, res) => {
    res.set('Cache-Control', 'no-store').json(await income(String(req.user!.id), req.query));
  }));
  r.get('/admin/anchors/:id/income', requireRole('operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(anchorParams, req.params, 'params');
    await reports.requireAnchor(id);
    res.json(await income(id, req.query));
  }));
  r.post('/admin/gift-orders/:id/refund', requireRole('operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(giftParams, req.params, 'params');
    const { reason } = parseInput(refundBody, req.body, 'body');
    res.json({ order: orderJson(await refunds.refund(String(req.user!.id), id, reason)) });
  }));
  r.get('/me/gift-orders', requireUser, asyncRoute(async (req, res) => {
    const page = parseInput(pageQuery, req.query, 'query');
    const orders = await reports.sentBy(String(req.user!.id), page);
    res.set('Cache-Control', 'no-store').json({ orders: orders.map(orderJson), next_before: orders.length === page.limit ? orders.at(-1)!.id : null });
  }));
  return r;
}
