import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * Issue 12, the rest of a recharge's life:
 *   recharge_orders + refunded_at, refund_reason   a paid recharge refunded through the provider
 *                   (status created -> paid -> refunding -> refunded; created -> expired [-> paid late])
 *   recharge_orders (status, created_at)           the expiry sweep finds unpaid orders past their time
 *   payment_webhooks (received_at)                 pruning after ONAIR_PAYMENT_WEBHOOK_RETENTION
 */
export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.addColumn('recharge_orders', 'refunded_at', { type: DataTypes.BIGINT, allowNull: true });
  await q.addColumn('recharge_orders', 'refund_reason', { type: DataTypes.STRING(255), allowNull: true });
  await q.addIndex('recharge_orders', ['status', 'created_at'], { name: 'recharge_orders_status' });
  await q.addIndex('payment_webhooks', ['received_at'], { name: 'payment_webhooks_received' });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.removeIndex('payment_webhooks', 'payment_webhooks_received');
  await q.removeIndex('recharge_orders', 'recharge_orders_status');
  await q.removeColumn('recharge_orders', 'refund_reason');
  await q.removeColumn('recharge_orders', 'refunded_at');
};
