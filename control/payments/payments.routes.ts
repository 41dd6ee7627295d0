import express, { Router } from 'express';
import { z } from 'zod';
import { asyncRoute } from '../http/async-route.js';
import { parseInput } from '../http/validate.js';
import type { RechargeService } from './recharge.service.js';
import type { SandboxPaymentProvider } from './sandbox-provider.js';
import { rechargeJson } from '../wallet/wallet.routes.js';
import { OnairError } from '../../core/errors.js';
import type { MoneyMetrics } from '../gifts/money-metrics.js';

const providerParams = z.strictObject({ provider: z.string().regex(/^[a-z0-9_-]{1,32}$/) });
const refParams = z.strictObject({ ref: z.string().regex(/^sbx_[0-9a-f]{24}$/, 'not a sandbox payment reference') });

/**
 * POST /payments/webhook/{provider}: the providers' webhooks. Mounted before the JSON parser
 * (rawRouters): the signature covers the exact bytes received. No user token: the signature is the
 * credential. Answers 200 {received, outcome, order} (outcome paid | duplicate | failed), 401
 * webhook_signature_invalid, 400 webhook_expired / webhook_malformed / webhook_order_mismatch,
 * 409 webhook_replayed.
 */
export function paymentWebhookRoutes(recharges: RechargeService, bodyLimit: string, metrics?: MoneyMetrics): Router {
  const r = Router();
  r.post('/payments/webhook/:provider', express.raw({ type: () => true, limit: bodyLimit }), asyncRoute(async (req, res) => {
    const { provider } = parseInput(providerParams, req.params, 'params');
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let handled;
    try {
      handled = await recharges.handleWebhook(provider, { headers: req.headers, rawBody, now: Date.now() });
    } catch (err) {
      metrics?.webhooks.inc({ provider, outcome: err instanceof OnairError ? err.code : 'error' });
      throw err;
    }
    const { outcome, order } = handled;
    metrics?.webhooks.inc({ provider, outcome });
    res.json({ received: true, outcome, order: rechargeJson(order) });
  }));
  return r;
}

/**
 * The sandbox provider's own endpoints (they stand for the provider's checkout, not for onair):
 * GET  /payments/sandbox/{ref}             what is to be paid
 * POST /payments/sandbox/{ref}/pay         the user pays: the provider delivers its webhook now and
 *                                          answers with that delivery and onair's answer to it
 * POST /payments/sandbox/{ref}/redeliver   the provider sends the event again (signed anew)
 * Anyone holding the reference may pay it (as with a checkout link); the coins go to the order's owner.
 */
export function sandboxRoutes(sandbox: SandboxPaymentProvider): Router {
  const r = Router();
  const deliveryJson = (d: Awaited<ReturnType<SandboxPaymentProvider['pay']>>) => ({
    webhook: { url: d.url, signature: d.signature, body: d.body, response_status: d.responseStatus, response: safeJson(d.responseBody) },
  });
  r.get('/payments/sandbox/:ref', asyncRoute(async (req, res) => {
    const { ref } = parseInput(refParams, req.params, 'params');
    res.json(await sandbox.describe(ref));
  }));
  r.post('/payments/sandbox/:ref/pay', asyncRoute(async (req, res) => {
    const { ref } = parseInput(refParams, req.params, 'params');
    const delivery = await sandbox.pay(ref);
    res.json({ ...(await sandbox.describe(ref)), ...deliveryJson(delivery) });
  }));
  r.post('/payments/sandbox/:ref/redeliver', asyncRoute(async (req, res) => {
    const { ref } = parseInput(refParams, req.params, 'params');
    const delivery = await sandbox.redeliver(ref);
    res.json({ ...(await sandbox.describe(ref)), ...deliveryJson(delivery) });
  }));
  return r;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
