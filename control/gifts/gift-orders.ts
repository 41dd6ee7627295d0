import type { Tx } from '../../core/event-bus/db-transaction.js';

/** One gift send: a row of `orders` (seed 004). amount = unitPrice * count coins; amount = anchorIncome + platformAmount. */
export interface GiftOrder {
  id: string;
  userId: string;
  roomId: string;
  giftId: string;
  count: number;
  unitPrice: number;
  amount: number;
  anchorId: string;
  sessionId: string | null;
  anchorIncome: number;
  platformAmount: number;
  clientOrderId: string;
  /** paid, or refunded by an operator (gift-refund.service.ts). */
  status: 'paid' | 'refunded';
  createdAt: number;
}

export interface OrderRow {
  id: string | number; user_id: string | number; room_id: string | number; gift_id: string | number; count: string | number;
  unit_price: string | number; amount: string | number; anchor_id: string | number; session_id: string | null;
  anchor_income: string | number; platform_amount: string | number; client_order_id: string; status: 'paid' | 'refunded'; created_at: string | number;
}

export const toOrder = (r: OrderRow): GiftOrder => ({
  id: String(r.id), userId: String(r.user_id), roomId: String(r.room_id), giftId: String(r.gift_id), count: Number(r.count),
  unitPrice: Number(r.unit_price), amount: Number(r.amount), anchorId: String(r.anchor_id), sessionId: r.session_id,
  anchorIncome: Number(r.anchor_income), platformAmount: Number(r.platform_amount), clientOrderId: r.client_order_id,
  status: r.status, createdAt: Number(r.created_at),
});

export const orderJson = (o: GiftOrder) => ({
  id: o.id, user_id: o.userId, room_id: o.roomId, gift_id: o.giftId, count: o.count, unit_price: o.unitPrice, amount: o.amount,
  anchor_id: o.anchorId, session_id: o.sessionId, anchor_income: o.anchorIncome, platform_amount: o.platformAmount,
  client_order_id: o.clientOrderId, status: o.status, created_at: new Date(o.createdAt).toISOString(),
});

export async function findByClientOrderId(tx: Pick<Tx, 'select'>, userId: string, clientOrderId: string): Promise<GiftOrder | null> {
  const [row] = await tx.select<OrderRow>('SELECT * FROM orders WHERE user_id = ? AND client_order_id = ?', [userId, clientOrderId]);
  return row ? toOrder(row) : null;
}

export async function insertOrder(tx: Tx, o: Omit<GiftOrder, 'id'>): Promise<string> {
  return tx.insert(
    `INSERT INTO orders (user_id, room_id, gift_id, amount, status, client_order_id, count, unit_price, anchor_id, session_id,
       anchor_income, platform_amount, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [o.userId, o.roomId, o.giftId, o.amount, o.status, o.clientOrderId, o.count, o.unitPrice, o.anchorId, o.sessionId,
      o.anchorIncome, o.platformAmount, o.createdAt],
  );
}

/** The platform's cut in whole coins (rounded down); the anchor gets the rest. */
export function splitAmount(amount: number, platformShareBps: number): { anchorIncome: number; platformAmount: number } {
  const platformAmount = Math.floor((amount * platformShareBps) / 10_000);
  return { anchorIncome: amount - platformAmount, platformAmount };
}
