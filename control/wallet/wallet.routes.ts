import { Router } from 'express';
import { asyncRoute } from '../http/async-route.js';
import { requireRole, requireUser } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import type { RechargeOrder, RechargeService } from '../payments/recharge.service.js';
import type { LedgerEntry, WalletService } from './wallet.service.js';
import { adjustBody, idParams, pageQuery, rechargeBody, refundBody, userParams } from './wallet.schema.js';

export const rechargeJson = (o: RechargeOrder) => ({
  id: o.id, user_id: o.userId, coins: o.coins, amount: o.amount, currency: o.currency, provider: o.provider,
  provider_ref: o.providerRef, status: o.status, created_at: new Date(o.createdAt).toISOString(),
  paid_at: o.paidAt === null ? null : new Date(o.paidAt).toISOString(),
  refunded_at: o.refundedAt === null ? null : new Date(o.refundedAt).toISOString(), refund_reason: o.refundReason,
  client_order_id: o.clientOrderId,
});

const ledgerJson = (e: LedgerEntry) => ({
  id: e.id, kind: e.kind, amount: e.amount, balance_after: e.balanceAfter, order_id: e.orderId, recharge_id: e.rechargeId,
  reason: e.reason, created_at: new Date(e.createdAt).toISOString(),
});

/**
 * GET  /wallet                  my balance
 * GET  /wallet/ledger           my ledger, newest first (?before=&limit=)
 * POST /wallet/recharges        {coins, client_order_id?} -> 201 a recharge order and where to pay it; the same
 *                               client_order_id again: 200 that order with replayed:true (409 client_order_id_reused for other coins)
 * GET  /wallet/recharges        my recharge orders; GET /wallet/recharges/{id} one of them
 * GET  /admin/wallets/audit     every wallet checked against its ledger: {checked, consistent, mismatches}
 * GET  /admin/wallets/{user_id} an operator's view: balance, ledger sum, consistent
 * POST /admin/wallets/{user_id}/adjust {amount, reason}
 * POST /admin/recharges/{id}/refund {reason}  a paid recharge refunded through its provider (the coins leave the wallet first;
 *                               409 refund_uncovered when they were spent, recharge_not_refundable unless paid; 503 refund_failed)
 */
export function walletRoutes(wallets: WalletService, recharges: RechargeService): Router {
  const r = Router();
  r.get('/wallet', requireUser, asyncRoute(async (req, res) => {
    res.set('Cache-Control', 'no-store').json({ user_id: String(req.user!.id), balance: await wallets.balance(String(req.user!.id)) });
  }));
  r.get('/wallet/ledger', requireUser, asyncRoute(async (req, res) => {
    const page = parseInput(pageQuery, req.query, 'query');
    const entries = await wallets.ledger(String(req.user!.id), page);
    res.set('Cache-Control', 'no-store').json({ entries: entries.map(ledgerJson), next_before: entries.length === page.limit ? entries.at(-1)!.id : null });
  }));
  r.post('/wallet/recharges', requireUser, asyncRoute(async (req, res) => {
    const { coins, client_order_id } = parseInput(rechargeBody, req.body, 'body');
    const { order, payUrl, replayed } = await recharges.create(String(req.user!.id), coins, client_order_id);
    res.status(replayed ? 200 : 201).set('Cache-Control', 'no-store').json({ ...rechargeJson(order), pay_url: payUrl, replayed });
  }));
  r.get('/wallet/recharges', requireUser, asyncRoute(async (req, res) => {
    const page = parseInput(pageQuery, req.query, 'query');
    const orders = await recharges.listOf(String(req.user!.id), page);
    res.set('Cache-Control', 'no-store').json({ orders: orders.map(rechargeJson), next_before: orders.length === page.limit ? orders.at(-1)!.id : null });
  }));
  r.get('/wallet/recharges/:id', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    res.set('Cache-Control', 'no-store').json(rechargeJson(await recharges.get(req.user!, id)));
  }));
  // Before /admin/wallets/{user_id}: 'audit' is not a user id.
  r.get('/admin/wallets/audit', requireRole('operator'), asyncRoute(async (_req, res) => {
    const { checked, mismatches } = await wallets.audit();
    res.json({
      checked, consistent: mismatches.length === 0,
      mismatches: mismatches.map((m) => ({ user_id: m.userId, balance: m.balance, ledger_sum: m.ledgerSum, ledger_entries: m.entries })),
    });
  }));
  r.get('/admin/wallets/:user_id', requireRole('operator'), asyncRoute(async (req, res) => {
    const { user_id } = parseInput(userParams, req.params, 'params');
    const rec = await wallets.reconcile(user_id);
    res.json({ user_id, balance: rec.balance, ledger_sum: rec.ledgerSum, ledger_entries: rec.entries, consistent: rec.consistent });
  }));
  r.post('/admin/wallets/:user_id/adjust', requireRole('operator'), asyncRoute(async (req, res) => {
    const { user_id } = parseInput(userParams, req.params, 'params');
    const { amount, reason } = parseInput(adjustBody, req.body, 'body');
    const { balance } = await wallets.adjust(String(req.user!.id), user_id, amount, reason);
    res.json({ user_id, balance });
  }));
  r.post('/admin/recharges/:id/refund', requireRole('operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const { reason } = parseInput(refundBody, req.body, 'body');
    res.json(rechargeJson(await recharges.refund(String(req.user!.id), id, reason)));
  }));
  return r;
}
