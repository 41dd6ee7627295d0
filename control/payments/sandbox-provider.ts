import { randomBytes } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { InvalidStateError, NotFoundError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import type { PaymentEvent, PaymentProvider, ProviderPayment, WebhookRequest } from '../../core/payments/payment-provider.port.js';
import { SIGNATURE_HEADER, signWebhook, verifyWebhookSignature, WebhookRefusedError } from '../../core/payments/webhook-signature.js';

/** What the sandbox sent to the notify URL, handed back to whoever asked it to pay (so a test can replay it verbatim). */
export interface SandboxDelivery {
  url: string;
  signature: string;
  body: string;
  /** The receiver's HTTP status, or 0 when it could not be reached. */
  responseStatus: number;
  responseBody: string;
}

interface SandboxRow {
  ref: string; merchant_order_id: string; amount: string | number; currency: string; status: string;
  event_id: string | null; created_at: string | number; paid_at: string | number | null;
}

export interface SandboxOptions {
  db: Database;
  /** The key both sides share (a real provider shows it in its dashboard). */
  secret: string;
  /** Resolved per delivery: the process's HTTP port is known only once it listens. */
  notifyUrl: () => string;
  toleranceMs: number;
  log: Logger;
  /** Where the user "pays" (the sandbox's checkout endpoint); `{ref}` is replaced. */
  payUrlTemplate?: string;
}

/**
 * The sandbox payment provider: a stand-in for Alipay/WeChat Pay/Stripe that behaves like one, so
 * the recharge path runs end to end without real money. It keeps its own payment records
 * (sandbox_payments, what a provider holds on its side), and when the user pays (pay(), the
 * sandbox's checkout) it POSTs a `payment.succeeded` event to the notify URL over real HTTP, signed
 * `t=<seconds>,v1=HMAC-SHA256(secret, t.body)`. redeliver() sends the same event again, signed
 * anew, as providers retry until they get a 2xx. Coins bought here cost nothing: never run it where
 * real users can reach it unless free coins are intended.
 */
export class SandboxPaymentProvider implements PaymentProvider {
  readonly name = 'sandbox';

  constructor(private readonly options: SandboxOptions) {}

  private async row(ref: string): Promise<SandboxRow> {
    const rows = await this.options.db.sequelize.query<SandboxRow>('SELECT * FROM sandbox_payments WHERE ref = ?', { replacements: [ref], type: QueryTypes.SELECT });
    if (!rows[0]) throw new NotFoundError('no such sandbox payment', { code: 'payment_not_found' });
    return rows[0];
  }

  async createPayment(input: { merchantOrderId: string; amount: number; currency: string }): Promise<ProviderPayment> {
    const ref = `sbx_${randomBytes(12).toString('hex')}`;
    await this.options.db.sequelize.query(
      'INSERT INTO sandbox_payments (ref, merchant_order_id, amount, currency, status, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      { replacements: [ref, input.merchantOrderId, input.amount, input.currency, 'pending', Date.now()] },
    );
    return { providerRef: ref, payUrl: (this.options.payUrlTemplate ?? '/api/v1/payments/sandbox/{ref}/pay').replace('{ref}', ref) };
  }

  /** The checkout's view of a payment. */
  async describe(ref: string) {
    const r = await this.row(ref);
    return { ref: r.ref, merchant_order_id: r.merchant_order_id, amount: Number(r.amount), currency: r.currency, status: r.status };
  }

  /** The user pays: the payment succeeds once, and its event is delivered (awaited, so the caller sees the receiver's answer). */
  async pay(ref: string): Promise<SandboxDelivery> {
    const eventId = `evt_${randomBytes(12).toString('hex')}`;
    const [, changed] = await this.options.db.sequelize.query(
      "UPDATE sandbox_payments SET status = 'succeeded', event_id = ?, paid_at = ? WHERE ref = ? AND status = 'pending'",
      { replacements: [eventId, Date.now(), ref], type: QueryTypes.UPDATE },
    );
    const r = await this.row(ref);
    if (Number(changed) === 0) throw new InvalidStateError(`this payment is already ${r.status}`, { code: 'payment_already_settled' });
    return this.deliver(r);
  }

  /** The merchant refunds a succeeded payment (idempotent: a refunded one answers its refund again). */
  async refundPayment(input: { providerRef: string; amount: number }): Promise<{ refundRef: string }> {
    const r = await this.row(input.providerRef);
    if (Number(r.amount) !== input.amount) throw new InvalidStateError('the refund amount is not the payment amount', { code: 'refund_amount_mismatch' });
    await this.options.db.sequelize.query("UPDATE sandbox_payments SET status = 'refunded' WHERE ref = ? AND status = 'succeeded'", { replacements: [r.ref] });
    const after = await this.row(r.ref);
    if (after.status !== 'refunded') throw new InvalidStateError(`this payment is ${after.status}: nothing to refund`, { code: 'payment_not_refundable' });
    this.options.log.info({ ref: r.ref, amount: input.amount }, 'sandbox payment refunded');
    return { refundRef: `rfd_${r.ref.slice(4)}` };
  }

  /** The merchant closes an unpaid payment: paying it afterwards is refused (409 payment_already_settled). */
  async cancelPayment(providerRef: string): Promise<void> {
    await this.options.db.sequelize.query("UPDATE sandbox_payments SET status = 'cancelled' WHERE ref = ? AND status = 'pending'", { replacements: [providerRef] });
  }

  /** Sends the payment's event again with a fresh timestamp and signature (a provider's retry). */
  async redeliver(ref: string): Promise<SandboxDelivery> {
    const r = await this.row(ref);
    if (r.status !== 'succeeded') throw new InvalidStateError('nothing to redeliver: the payment has not been paid', { code: 'payment_not_paid' });
    return this.deliver(r);
  }

  private async deliver(r: SandboxRow): Promise<SandboxDelivery> {
    // Every attempt carries a delivery id of its own (as GitHub's X-GitHub-Delivery does), so two
    // attempts within one second still differ, and only a copy of one attempt is a replay.
    const body = JSON.stringify({
      id: r.event_id, type: 'payment.succeeded', created: Math.floor(Date.now() / 1000), delivery: `dlv_${randomBytes(8).toString('hex')}`,
      data: { ref: r.ref, merchant_order_id: r.merchant_order_id, amount: Number(r.amount), currency: r.currency },
    });
    const signature = signWebhook(this.options.secret, body, Math.floor(Date.now() / 1000));
    const url = this.options.notifyUrl();
    try {
      const res = await fetch(url, {
        method: 'POST', headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature }, body,
        signal: AbortSignal.timeout(10_000),
      });
      const responseBody = await res.text();
      this.options.log.info({ ref: r.ref, eventId: r.event_id, status: res.status }, 'sandbox webhook delivered');
      return { url, signature, body, responseStatus: res.status, responseBody };
    } catch (err) {
      this.options.log.warn({ err, ref: r.ref, url }, 'sandbox webhook could not be delivered');
      return { url, signature, body, responseStatus: 0, responseBody: '' };
    }
  }

  verifyWebhook(request: WebhookRequest): PaymentEvent {
    const header = request.headers[SIGNATURE_HEADER];
    const deliveryId = verifyWebhookSignature(this.options.secret, Array.isArray(header) ? header[0] : header, request.rawBody, request.now, this.options.toleranceMs);
    let parsed: { id?: unknown; type?: unknown; data?: { ref?: unknown; merchant_order_id?: unknown; amount?: unknown; currency?: unknown } };
    try {
      parsed = JSON.parse(request.rawBody.toString('utf8')) as typeof parsed;
    } catch {
      throw new WebhookRefusedError('webhook_malformed', 'webhook body is not JSON');
    }
    const d = parsed.data ?? {};
    if (typeof parsed.id !== 'string' || (parsed.type !== 'payment.succeeded' && parsed.type !== 'payment.failed')
      || typeof d.ref !== 'string' || typeof d.merchant_order_id !== 'string' || !Number.isSafeInteger(d.amount) || typeof d.currency !== 'string') {
      throw new WebhookRefusedError('webhook_malformed', 'webhook body lacks id, type or data');
    }
    return {
      eventId: parsed.id, type: parsed.type, providerRef: d.ref, merchantOrderId: d.merchant_order_id,
      amount: d.amount as number, currency: d.currency, deliveryId,
    };
  }
}
