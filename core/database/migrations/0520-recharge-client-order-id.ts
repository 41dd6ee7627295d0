import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * A recharge's idempotency key (POST /wallet/recharges {client_order_id}):
 *   recharge_orders + client_order_id   the client's key, optional; (user_id, client_order_id) is
 *                   unique (NULLs do not collide on SQLite or MariaDB: requests without a key are as before)
 *   recharge_orders + pay_url           where the order is paid, kept so a repeated request answers it again
 */
export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.addColumn('recharge_orders', 'client_order_id', { type: DataTypes.STRING(64), allowNull: true });
  await q.addColumn('recharge_orders', 'pay_url', { type: DataTypes.STRING(1024), allowNull: true });
  await q.addIndex('recharge_orders', ['user_id', 'client_order_id'], { name: 'recharge_orders_client_order', unique: true });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.removeIndex('recharge_orders', 'recharge_orders_client_order');
  await q.removeColumn('recharge_orders', 'pay_url');
  await q.removeColumn('recharge_orders', 'client_order_id');
};
