/**
 * Helpers of the gift and money tests: an operator, a live room pushed by a light ffmpeg, and the
 * environment the money features need (sandbox payments with a known webhook key).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { createPubSub, roomChannel, type Delivery, type PubSub } from '../../core/pubsub/index.js';
import { startStack, until, type Stack, type StackAdapters } from './onair-stack.js';

export const SANDBOX_SECRET = 'sandbox-webhook-key-of-the-gift-tests';
export const OPERATOR = { username: 'root', password: 'operator-password-1' };

/** Env of a stack with money on: sandbox payments, a 30% platform share, an operator, no rate limits. */
export const moneyEnv: Record<string, string> = {
  ONAIR_PAYMENT_PROVIDER: 'sandbox', ONAIR_PAYMENT_SANDBOX_SECRET: SANDBOX_SECRET, ONAIR_GIFT_PLATFORM_SHARE: '30%',
  ONAIR_ADMIN_USER: OPERATOR.username, ONAIR_ADMIN_PASSWORD: OPERATOR.password, ONAIR_RATE_LIMITS: 'off',
};

export async function operatorToken(stack: Stack): Promise<string> {
  const login = await stack.call('POST', '/auth/login', OPERATOR);
  assert.equal(login.status, 200, JSON.stringify(login.body));
  return login.body.token as string;
}

/** ffmpeg pushing a small, cheap test picture (160x120, 10 fps) until killed: enough for a live room. */
export function publishLight(url: string): ChildProcess & { exited: Promise<number | null> } {
  const child = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '20', '-pix_fmt', 'yuv420p', '-f', 'flv', url,
  ], { stdio: 'ignore' }) as ChildProcess & { exited: Promise<number | null> };
  child.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return child;
}

/** An anchor's room, started and pushed until it is live; returns the room, the session and the pusher to kill. */
export async function liveRoom(stack: Stack, anchor: { token: string }) {
  const room = await stack.call('POST', '/rooms', { title: 'gift show' }, anchor.token);
  assert.equal(room.status, 201, JSON.stringify(room.body));
  const start = await stack.call('POST', '/live/start', { room_id: room.body.id }, anchor.token);
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const pusher = publishLight(stack.fixPort(start.body.push_url));
  await until('the room to be live', async () => (await stack.call('GET', `/rooms/${room.body.id}`)).body.is_live === true, 20_000, 100);
  return { roomId: room.body.id as string, sessionId: start.body.session_id as string, pusher };
}

/** Buys `coins` through the sandbox provider the way a user does: order, pay, the provider's webhook. */
export async function recharge(stack: Stack, token: string, coins: number) {
  const order = await stack.call('POST', '/wallet/recharges', { coins }, token);
  assert.equal(order.status, 201, JSON.stringify(order.body));
  const paid = await stack.call('POST', order.body.pay_url.replace('/api/v1', ''), undefined, token);
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal(paid.body.webhook.response_status, 200, JSON.stringify(paid.body.webhook));
  return { order: order.body, paid: paid.body };
}

export type LiveRoom = Awaited<ReturnType<typeof liveRoom>>;

/**
 * The setup of the gift, money and discovery tests: a stack with money on (moneyEnv) on one adapter
 * set, its operator's token, live rooms whose pushers stop on close(), and on the Redis set a
 * second node's subscriber to a room's channel (what another control node receives).
 */
export interface MoneyStack {
  stack: Stack;
  op: string;
  /** The adapter set's ONAIR_* settings (ONAIR_DATABASE_URL, ONAIR_REDIS_URL...). */
  env: Record<string, string>;
  /** An anchor's live room (liveRoom); its pusher is killed on close(). */
  liveRoom(anchor: { token: string }): Promise<LiveRoom>;
  /**
   * On the Redis set, a pub/sub node of its own subscribed to the room's channel, pushing what it
   * receives into `into` (closed on close()); undefined on the embedded set (no other node).
   */
  otherNodeOn(roomId: string, into: Delivery[]): Promise<PubSub | undefined>;
  close(): Promise<void>;
}

export async function startMoneyStack(set: StackAdapters): Promise<MoneyStack> {
  const adapters = await set.env();
  const rooms: LiveRoom[] = [];
  const others: PubSub[] = [];
  let stack: Stack | undefined;
  const close = async () => {
    for (const r of rooms) r.pusher.kill('SIGKILL');
    for (const o of others) await o.close();
    await stack?.close();
    await adapters.cleanup();
  };
  try {
    stack = await startStack({ ...moneyEnv, ...adapters.env });
    const op = await operatorToken(stack);
    const started = stack;
    return {
      stack, op, env: adapters.env, close,
      async liveRoom(anchor) {
        const live = await liveRoom(started, anchor);
        rooms.push(live);
        return live;
      },
      async otherNodeOn(roomId, into) {
        if (!adapters.env.ONAIR_REDIS_URL) return undefined;
        const other = createPubSub({ redisUrl: adapters.env.ONAIR_REDIS_URL, prefix: adapters.env.ONAIR_REDIS_PREFIX });
        others.push(other);
        await other.subscribe(roomChannel(roomId), (d) => { into.push(d); });
        return other;
      },
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
