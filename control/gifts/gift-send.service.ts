import { QueryTypes } from 'sequelize';
import type { Cache } from '../../core/cache/cache.port.js';
import type { Database } from '../../core/database/database.js';
import { ConflictError, DuplicateKeyError, ForbiddenError, NotFoundError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import { roomChannel, type PubSub } from '../../core/pubsub/index.js';
import type { AuthUser } from '../auth/user.js';
import { moneyTransaction } from '../wallet/money-transaction.js';
import { credit, debit, ensureWallets, linkOrder, lockWallets } from '../wallet/wallet-ledger.js';
import type { GiftCatalogStore } from './gift-catalog.store.js';
import { findByClientOrderId, insertOrder, splitAmount, type GiftOrder } from './gift-orders.js';
import { giftKeys, RANKING_TTL_MS } from './gift-keys.js';
import type { MoneyMetrics } from './money-metrics.js';

export interface GiftSendDeps {
  db: Database;
  catalog: GiftCatalogStore;
  rooms: { findById(id: string): Promise<{ id: string; ownerId: string } | null> };
  sessions: { findActiveByRoom(roomId: string): Promise<{ id: string; status: string } | null> };
  cache: Cache;
  pubsub: PubSub;
  /** Basis points (config.gifts.platformShare). */
  platformShareBps: number;
  comboWindowMs: number;
  log: Logger;
  metrics?: MoneyMetrics;
  /**
   * Throws ForbiddenError (`kicked`, `blacklisted`) when the user may not be in the room
   * (control/audience's checkAccess): a gift is a line in the room's chat, so one the anchor
   * blocked would be back in the chat through it.
   */
  roomAccess?: (roomId: string, userId: string) => Promise<void>;
}

/** 409 `price_changed`: the price the sender saw is not the gift's price any more; nothing was charged. */
export class PriceChangedError extends ConflictError {
  constructor(readonly giftId: string, readonly price: number) {
    super(`the gift's price is now ${price} coins`, { code: 'price_changed' });
    this.name = 'PriceChangedError';
  }
}

export interface Combo {
  /** The id of the combo's first order: the same for every send the combo grows by. */
  id: string;
  /** Gifts in the combo so far, this send included. */
  count: number;
}

export interface SendResult {
  order: GiftOrder;
  /** True when client_order_id had been used already: the first send's order, nothing charged again. */
  replayed: boolean;
  /** The sender's balance after the send (now, for a replay). */
  balance: number;
  combo: Combo | null;
}

/**
 * Sending a gift: one transaction debits the sender (the conditional UPDATE of wallet-ledger.ts,
 * so the balance can never go below zero however many sends race), writes the order, credits the
 * anchor their share, and records both in the ledger; the client's `client_order_id` (unique per
 * sender in `orders`) makes a retried request return the first order instead of charging again.
 * After the commit, what is for show: the combo count, the room's ranking (a sorted set in the
 * cache) and the broadcast into the room's chat (`{v:1, type:'gift'}` on the room channel). A
 * failure there is logged, never turned into an error: the money part has happened.
 */
export class GiftSendService {
  constructor(private readonly deps: GiftSendDeps) {}

  /**
   * `input.price`, when given, is the unit price the sender was shown: a different current price is
   * 409 price_changed (PriceChangedError, with the current price) and nothing is charged. The charge
   * uses the price read inside the money transaction (shared lock on MariaDB), so an operator's price
   * change either waits for the send to commit or is what the send charges (and compares).
   */
  async send(sender: AuthUser, roomId: string, input: { giftId: string; count: number; clientOrderId: string; price?: number }): Promise<SendResult> {
    const { db, log } = this.deps;
    const senderId = String(sender.id);
    const room = await this.deps.rooms.findById(roomId);
    if (!room) throw new NotFoundError('no such room', { code: 'room_not_found' });
    if (room.ownerId === senderId) throw new ForbiddenError('you cannot send gifts to your own room', { code: 'self_gift' });

    const replay = async (existing: GiftOrder): Promise<SendResult> => {
      if (existing.roomId !== roomId || existing.giftId !== input.giftId || existing.count !== input.count) {
        throw new ConflictError('client_order_id was already used for a different gift send', { code: 'client_order_id_reused' });
      }
      this.deps.metrics?.giftSends.inc({ result: 'replayed' });
      return { order: existing, replayed: true, balance: await this.balance(senderId), combo: null };
    };
    const earlier = await findByClientOrderId(this.reader(), senderId, input.clientOrderId);
    if (earlier) return replay(earlier);

    await this.deps.roomAccess?.(roomId, senderId);
    const gift = await this.deps.catalog.find(input.giftId);
    if (!gift) throw new NotFoundError('no such gift', { code: 'gift_not_found' });
    if (!gift.enabled) throw new ConflictError('this gift is not available', { code: 'gift_disabled' });
    if (input.price !== undefined && input.price !== gift.price) throw new PriceChangedError(gift.id, gift.price);
    const session = await this.deps.sessions.findActiveByRoom(roomId);
    if (!session || session.status !== 'live') throw new ConflictError('the room is not live', { code: 'room_not_live' });

    const now = Date.now();
    await ensureWallets(db, [senderId, room.ownerId]);
    let outcome: { kind: 'sent'; order: GiftOrder; balance: number } | { kind: 'existing'; order: GiftOrder } | { kind: 'insufficient'; amount: number } | { kind: 'ended' }
      | { kind: 'price_changed'; price: number } | { kind: 'gone'; disabled: boolean };
    try {
      outcome = await moneyTransaction(db, async (tx) => {
        const existing = await findByClientOrderId(tx, senderId, input.clientOrderId);
        if (existing) return { kind: 'existing' as const, order: existing };
        // The show may have ended since it was read above (sends racing its close): read it again,
        // under a shared lock on MariaDB, so that an end either waits for this send to commit (and
        // the settlement, which runs after the end, counts it) or is seen here (refused, nothing
        // charged). SQLite's transaction is the only writer.
        const [current] = await tx.select<{ status: string }>(
          `SELECT status FROM live_streams WHERE id = ?${tx.dialect === 'mysql' ? ' LOCK IN SHARE MODE' : ''}`, [session.id],
        );
        if (current?.status !== 'live') return { kind: 'ended' as const };
        // The price charged is the one read here, under the same kind of lock: an operator's price
        // change racing this send either waits for its commit or is read (and compared) here.
        const [priced] = await tx.select<{ price: string | number; enabled: unknown }>(
          `SELECT price, enabled FROM gifts WHERE id = ?${tx.dialect === 'mysql' ? ' LOCK IN SHARE MODE' : ''}`, [gift.id],
        );
        if (!priced || !Number(priced.enabled)) return { kind: 'gone' as const, disabled: Boolean(priced) };
        const unitPrice = Number(priced.price);
        if (input.price !== undefined && input.price !== unitPrice) return { kind: 'price_changed' as const, price: unitPrice };
        const amount = unitPrice * input.count;
        const split = splitAmount(amount, this.deps.platformShareBps);
        await lockWallets(tx, [senderId, room.ownerId]);
        // The debit is the first write: when it is refused, the transaction has written nothing.
        const debited = await debit(tx, senderId, amount, 'gift_sent', {}, now);
        if (!debited) return { kind: 'insufficient' as const, amount };
        const order: Omit<GiftOrder, 'id'> = {
          userId: senderId, roomId, giftId: gift.id, count: input.count, unitPrice, amount, anchorId: room.ownerId,
          sessionId: session.id, anchorIncome: split.anchorIncome, platformAmount: split.platformAmount,
          clientOrderId: input.clientOrderId, status: 'paid', createdAt: now,
        };
        const orderId = await insertOrder(tx, order);
        await linkOrder(tx, debited.entryId, orderId);
        if (split.anchorIncome > 0) await credit(tx, room.ownerId, split.anchorIncome, 'gift_income', { orderId }, now);
        return { kind: 'sent' as const, order: { id: orderId, ...order }, balance: debited.balance };
      });
    } catch (err) {
      // Two sends with one client_order_id racing on MariaDB: the second insert hit the unique index and rolled back whole.
      if (!(err instanceof DuplicateKeyError)) throw err;
      const existing = await findByClientOrderId(this.reader(), senderId, input.clientOrderId);
      if (!existing) throw err;
      outcome = { kind: 'existing', order: existing };
    }
    if (outcome.kind === 'insufficient') {
      this.deps.metrics?.giftSends.inc({ result: 'insufficient' });
      throw new ConflictError(`not enough coins: this send costs ${outcome.amount}`, { code: 'insufficient_balance' });
    }
    if (outcome.kind === 'existing') return replay(outcome.order);
    if (outcome.kind === 'ended') throw new ConflictError('the room is not live', { code: 'room_not_live' });
    if (outcome.kind === 'price_changed') throw new PriceChangedError(gift.id, outcome.price);
    if (outcome.kind === 'gone') {
      if (outcome.disabled) throw new ConflictError('this gift is not available', { code: 'gift_disabled' });
      throw new NotFoundError('no such gift', { code: 'gift_not_found' });
    }

    const { order } = outcome;
    const { amount } = order;
    log.info({ orderId: order.id, senderId, roomId, giftId: gift.id, count: order.count, amount }, 'gift sent');
    this.deps.metrics?.giftSends.inc({ result: 'sent' });
    this.deps.metrics?.giftCoins.inc(amount);
    let combo: Combo | null = null;
    try {
      combo = await this.growCombo(order);
      await this.deps.cache.zIncrBy(giftKeys.sessionRanking(order.sessionId!), amount, senderId);
      await this.deps.cache.expire(giftKeys.sessionRanking(order.sessionId!), RANKING_TTL_MS);
      await this.deps.pubsub.publishKept(roomChannel(roomId), {
        v: 1, type: 'gift', room_id: roomId, session_id: order.sessionId, order_id: order.id,
        sender: { id: senderId, username: sender.username },
        gift: { id: gift.id, name: gift.name, icon_url: gift.iconUrl, animation_tier: gift.animationTier, price: order.unitPrice },
        count: order.count, amount, combo: { id: combo.id, count: combo.count }, at: new Date(now).toISOString(),
      });
    } catch (err) {
      log.error({ err, orderId: order.id, roomId }, 'gift charged but its combo, ranking or broadcast failed');
    }
    return { order, replayed: false, balance: outcome.balance, combo };
  }

  /**
   * The same sender sending the same gift in the room again within the combo window grows one
   * combo: the first send of a burst names it (its order id), each send adds its count.
   */
  private async growCombo(order: GiftOrder): Promise<Combo> {
    const { cache, comboWindowMs } = this.deps;
    const idKey = giftKeys.combo(order.roomId, order.userId, order.giftId);
    const took = await cache.setIfAbsent(idKey, order.id, comboWindowMs);
    const id = took ? order.id : (await cache.get(idKey)) ?? order.id;
    if (!took) await cache.expire(idKey, comboWindowMs);
    const countKey = giftKeys.comboCount(id);
    const count = await cache.incrBy(countKey, order.count);
    await cache.expire(countKey, comboWindowMs * 2);
    return { id, count };
  }

  private reader() {
    return { select: <T extends object>(sql: string, replacements: unknown[] = []) => this.deps.db.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT }) };
  }

  private async balance(userId: string): Promise<number> {
    const [row] = await this.reader().select<{ balance: string | number }>('SELECT balance FROM wallets WHERE user_id = ?', [userId]);
    return Number(row?.balance ?? 0);
  }
}
