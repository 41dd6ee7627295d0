import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * Issue 12, money (seed 004 Billing/Gift Service; tables `gifts`, `orders`):
 *   gifts             the catalog operators manage (price in coins, animation tier, enabled)
 *   orders            one row per gift send (seed 004's columns plus what the money model needs);
 *                     (user_id, client_order_id) is unique: a retried send never charges twice
 *   wallets           one coin balance per user; the CHECK keeps it from ever going below zero
 *   wallet_ledger     every change of a balance, signed; SUM(amount) per user equals wallets.balance
 *   recharge_orders   coins bought through a payment provider: created -> paid exactly once
 *   payment_webhooks  every accepted webhook delivery (its signature is unique: a verbatim replay is refused)
 *   sandbox_payments  the sandbox provider's own side (what a real provider keeps on its servers)
 *   live_statistics   + gift_income (the anchors' share) and gift_count
 * Times are epoch milliseconds (BIGINT), as the callback tables keep them.
 */
const ms = { type: DataTypes.BIGINT, allowNull: false };
const id = { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true };

export const up: Migration['up'] = async ({ queryInterface: q, dialect }) => {
  await q.createTable('gifts', {
    id,
    name: { type: DataTypes.STRING(64), allowNull: false },
    icon_url: { type: DataTypes.STRING(1024), allowNull: true },
    price: { type: DataTypes.INTEGER, allowNull: false },
    animation_tier: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    enabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
    sort_order: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    created_at: ms,
    updated_at: ms,
  });

  await q.createTable('orders', {
    id,
    user_id: { type: DataTypes.BIGINT, allowNull: false },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    gift_id: { type: DataTypes.BIGINT, allowNull: false },
    amount: { type: DataTypes.BIGINT, allowNull: false },
    status: { type: DataTypes.STRING(32), allowNull: false },
    client_order_id: { type: DataTypes.STRING(64), allowNull: false },
    count: { type: DataTypes.INTEGER, allowNull: false },
    unit_price: { type: DataTypes.INTEGER, allowNull: false },
    anchor_id: { type: DataTypes.BIGINT, allowNull: false },
    session_id: { type: DataTypes.STRING(24), allowNull: true },
    anchor_income: { type: DataTypes.BIGINT, allowNull: false },
    platform_amount: { type: DataTypes.BIGINT, allowNull: false },
    created_at: ms,
  });
  await q.addIndex('orders', ['user_id', 'client_order_id'], { name: 'orders_client_order', unique: true });
  await q.addIndex('orders', ['session_id'], { name: 'orders_session' });
  await q.addIndex('orders', ['anchor_id', 'created_at'], { name: 'orders_anchor_time' });
  await q.addIndex('orders', ['user_id', 'id'], { name: 'orders_user' });

  // A CHECK on the balance: the conditional debit is what keeps it >= 0; this makes a bug loud instead of silent.
  if (dialect === 'sqlite') {
    await q.sequelize.query(`CREATE TABLE wallets (
      user_id BIGINT PRIMARY KEY,
      balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
      updated_at BIGINT NOT NULL)`);
  } else {
    await q.sequelize.query(`CREATE TABLE wallets (
      user_id BIGINT NOT NULL PRIMARY KEY,
      balance BIGINT NOT NULL DEFAULT 0,
      updated_at BIGINT NOT NULL,
      CONSTRAINT wallets_balance_not_negative CHECK (balance >= 0)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  await q.createTable('wallet_ledger', {
    id,
    user_id: { type: DataTypes.BIGINT, allowNull: false },
    kind: { type: DataTypes.STRING(16), allowNull: false },
    amount: { type: DataTypes.BIGINT, allowNull: false },
    balance_after: { type: DataTypes.BIGINT, allowNull: false },
    order_id: { type: DataTypes.BIGINT, allowNull: true },
    recharge_id: { type: DataTypes.BIGINT, allowNull: true },
    actor_id: { type: DataTypes.BIGINT, allowNull: true },
    reason: { type: DataTypes.STRING(255), allowNull: true },
    created_at: ms,
  });
  await q.addIndex('wallet_ledger', ['user_id', 'id'], { name: 'wallet_ledger_user' });

  await q.createTable('recharge_orders', {
    id,
    user_id: { type: DataTypes.BIGINT, allowNull: false },
    coins: { type: DataTypes.BIGINT, allowNull: false },
    amount: { type: DataTypes.BIGINT, allowNull: false },
    currency: { type: DataTypes.STRING(8), allowNull: false },
    provider: { type: DataTypes.STRING(32), allowNull: false },
    provider_ref: { type: DataTypes.STRING(64), allowNull: true },
    status: { type: DataTypes.STRING(16), allowNull: false },
    created_at: ms,
    paid_at: { type: DataTypes.BIGINT, allowNull: true },
  });
  await q.addIndex('recharge_orders', ['user_id', 'id'], { name: 'recharge_orders_user' });
  await q.addIndex('recharge_orders', ['provider', 'provider_ref'], { name: 'recharge_orders_ref', unique: true });

  await q.createTable('payment_webhooks', {
    id,
    provider: { type: DataTypes.STRING(32), allowNull: false },
    delivery_sig: { type: DataTypes.STRING(128), allowNull: false },
    event_id: { type: DataTypes.STRING(64), allowNull: false },
    recharge_id: { type: DataTypes.BIGINT, allowNull: true },
    outcome: { type: DataTypes.STRING(16), allowNull: false },
    received_at: ms,
  });
  await q.addIndex('payment_webhooks', ['provider', 'delivery_sig'], { name: 'payment_webhooks_delivery', unique: true });
  await q.addIndex('payment_webhooks', ['provider', 'event_id'], { name: 'payment_webhooks_event' });

  await q.createTable('sandbox_payments', {
    ref: { type: DataTypes.STRING(64), primaryKey: true },
    merchant_order_id: { type: DataTypes.STRING(64), allowNull: false },
    amount: { type: DataTypes.BIGINT, allowNull: false },
    currency: { type: DataTypes.STRING(8), allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false },
    event_id: { type: DataTypes.STRING(64), allowNull: true },
    created_at: ms,
    paid_at: { type: DataTypes.BIGINT, allowNull: true },
  });

  await q.addColumn('live_statistics', 'gift_income', { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 });
  await q.addColumn('live_statistics', 'gift_count', { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.removeColumn('live_statistics', 'gift_count');
  await q.removeColumn('live_statistics', 'gift_income');
  for (const t of ['sandbox_payments', 'payment_webhooks', 'recharge_orders', 'wallet_ledger', 'wallets', 'orders', 'gifts']) await q.dropTable(t);
};
