import { createHmac } from 'node:crypto';
import type { Router } from 'express';
import type { Registry } from 'prom-client';
import { moneyMetrics } from './money-metrics.js';
import type { Cache } from '../../core/cache/cache.port.js';
import type { OnairConfig } from '../../core/config/schema.js';
import type { Database } from '../../core/database/database.js';
import type { Logger } from '../../core/logging/logger.js';
import type { PaymentProvider } from '../../core/payments/payment-provider.port.js';
import type { PubSub } from '../../core/pubsub/index.js';
import { paymentWebhookRoutes, sandboxRoutes } from '../payments/payments.routes.js';
import { RechargeService } from '../payments/recharge.service.js';
import { SandboxPaymentProvider } from '../payments/sandbox-provider.js';
import { PaymentHousekeeping } from '../payments/payment-housekeeping.js';
import { WalletService } from '../wallet/wallet.service.js';
import { walletRoutes } from '../wallet/wallet.routes.js';
import { GiftCatalogStore } from './gift-catalog.store.js';
import { GiftReportsService } from './gift-reports.service.js';
import { GiftSendService, type GiftSendDeps } from './gift-send.service.js';
import { giftsRoutes } from './gifts.routes.js';
import { GiftRefundService } from './gift-refund.service.js';
import { SettlementService } from '../settlement/settlement.service.js';

export interface Money {
  wallets: WalletService;
  recharges: RechargeService;
  sender: GiftSendService;
  reports: GiftReportsService;
  /** Set when ONAIR_PAYMENT_PROVIDER=sandbox. */
  sandbox: SandboxPaymentProvider | undefined;
  /** JSON API routers (after the JSON parser). */
  routers: Router[];
  /** The webhook receiver: it reads the raw body its signature covers (before the JSON parser). */
  rawRouters: Router[];
  /** Expiry of unpaid recharge orders and pruning of payment_webhooks (started by bootstrap, stopped by close). */
  housekeeping: PaymentHousekeeping;
}

/** The sandbox webhook key when ONAIR_PAYMENT_SANDBOX_SECRET is unset: derived from the secret, the same on every node. */
export function sandboxSecretOf(config: OnairConfig): string {
  return config.payments.sandboxSecret ?? createHmac('sha256', config.secret!).update('onair payments sandbox webhook').digest('base64url');
}

/** Builds the gift catalog, wallets, recharges (with the configured payment provider) and gift sends. */
export function createMoney(deps: {
  config: OnairConfig; db: Database; cache: Cache; pubsub: PubSub; log: Logger; metrics?: Registry;
  rooms: GiftSendDeps['rooms']; sessions: GiftSendDeps['sessions']; userExists(id: string): Promise<boolean>;
  roomAccess?: GiftSendDeps['roomAccess'];
  /** The settlement (control/settlement); one of its own when not given. */
  settlement?: Pick<SettlementService, 'settle'>;
}): Money {
  const { config, db, cache, pubsub, log } = deps;
  const providers = new Map<string, PaymentProvider>();
  let sandbox: SandboxPaymentProvider | undefined;
  if (config.payments.provider === 'sandbox') {
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    sandbox = new SandboxPaymentProvider({
      db, secret: sandboxSecretOf(config), toleranceMs: config.payments.webhookTolerance, log: log.child({ mod: 'payments-sandbox' }),
      notifyUrl: () => config.payments.notifyUrl
        ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}/api/v1/payments/webhook/sandbox`,
    });
    providers.set(sandbox.name, sandbox);
  }
  const metrics = moneyMetrics(deps.metrics);
  // A refund after a show was settled settles it again (settling is an upsert by session id).
  const settlement = deps.settlement ?? new SettlementService(db, log.child({ mod: 'settlement' }));
  const wallets = new WalletService(db, deps.userExists, log.child({ mod: 'wallet' }));
  const recharges = new RechargeService(db, providers, { coinPrice: config.payments.coinPrice, currency: config.payments.currency }, log.child({ mod: 'payments' }), cache);
  const catalog = new GiftCatalogStore(db);
  const reports = new GiftReportsService(db, cache);
  const sender = new GiftSendService({
    db, catalog, rooms: deps.rooms, sessions: deps.sessions, cache, pubsub, platformShareBps: config.gifts.platformShare,
    comboWindowMs: config.gifts.comboWindow, log: log.child({ mod: 'gifts' }), metrics, roomAccess: deps.roomAccess,
  });
  const housekeeping = new PaymentHousekeeping({
    recharges, cache, orderTtlMs: config.payments.orderTtl, webhookRetentionMs: config.payments.webhookRetention, log: log.child({ mod: 'payments' }),
  });
  return {
    wallets, recharges, sender, reports, sandbox, housekeeping,
    routers: [walletRoutes(wallets, recharges), giftsRoutes({ catalog, sender, reports, refunds: new GiftRefundService({ db, cache, log: log.child({ mod: 'gifts' }), resettle: (sessionId) => settlement.settle(sessionId) }) }), ...(sandbox ? [sandboxRoutes(sandbox)] : [])],
    rawRouters: [paymentWebhookRoutes(recharges, config.http.bodyLimit, metrics)],
  };
}
