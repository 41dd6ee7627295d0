/**
 * The payment-provider port: what onair needs from a payment service to sell coins. A provider
 * takes a payment for one recharge order (createPayment: the user then pays at `payUrl`), and
 * later tells onair the outcome with a signed webhook that verifyWebhook() checks and decodes.
 *
 * The adapters: SandboxPaymentProvider (control/payments/sandbox), a simulated provider that
 * behaves like a real one (its own payment records, HMAC-signed webhooks over HTTP with a timestamp,
 * redelivery), for demos and tests. A real provider (Alipay, WeChat Pay, Stripe) is a new adapter
 * implementing this interface; nothing else changes.
 */

/** A payment the provider opened for a recharge order. */
export interface ProviderPayment {
  /** The provider's id of the payment (unique per provider). */
  providerRef: string;
  /** Where the user pays (a checkout page, or the sandbox's "pay" endpoint). */
  payUrl: string;
}

/** What a verified webhook says. Only successful payments credit coins. */
export interface PaymentEvent {
  /** The provider's event id: the same event redelivered keeps it. */
  eventId: string;
  type: 'payment.succeeded' | 'payment.failed';
  providerRef: string;
  /** The recharge order id onair gave createPayment. */
  merchantOrderId: string;
  /** In the currency's minor unit. */
  amount: number;
  currency: string;
  /** Identifies this delivery (its signature): a provider signs every attempt anew, so a second copy is a replay. */
  deliveryId: string;
}

export interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  /** Epoch ms, for the timestamp window. */
  now: number;
}

export interface PaymentProvider {
  /** The name in URLs and in recharge_orders.provider ('sandbox'). */
  readonly name: string;
  createPayment(input: { merchantOrderId: string; amount: number; currency: string; description: string }): Promise<ProviderPayment>;
  /**
   * Checks the delivery's signature and timestamp and decodes it. Throws WebhookRefusedError
   * (code webhook_signature_invalid, webhook_expired, webhook_malformed) for anything not genuine.
   */
  verifyWebhook(request: WebhookRequest): PaymentEvent;
  /**
   * Gives a succeeded payment's money back to the payer (the whole amount). Idempotent: refunding
   * an already refunded payment answers the same refund. Throws InvalidStateError
   * (payment_not_refundable) when the payment never succeeded.
   */
  refundPayment(input: { providerRef: string; amount: number; currency: string; reason: string }): Promise<{ refundRef: string }>;
  /** Closes an unpaid payment (its order expired): the payer can no longer pay it. A no-op once paid or closed. */
  cancelPayment(providerRef: string): Promise<void>;
}
