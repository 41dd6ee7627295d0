/**
 * What a refused RTMP play costs the server, from handshake to refusal, on a fake socket (no
 * engine, no network): during a join ramp past the ceiling the engine refuses up to ~1,000 RTMP
 * viewers a second (issue 15), so each refusal must be cheap: a write per answer (the connect's
 * four replies in one), the very bytes a client got before, no per-connection logger, no timer
 * left behind, and at the players' cap one log line per spell of refusals, not one per play.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { silentLogger, type Logger } from '../../../core/logging/logger.js';
import { captureLogger } from '../../../core/testing/log-capture.js';
import { buildClientHello, HANDSHAKE_SIZE } from '../../protocols/rtmp/handshake.js';
import { serializeMessage } from '../../protocols/rtmp/chunk-writer.js';
import * as M from '../../protocols/rtmp/messages.js';
import type { StreamRegistry } from '../../stream/registry.js';
import type { ViewerRegistry } from '../../stream/viewer-registry.js';
import { RtmpConn, type RtmpConnDeps } from './conn.js';
import { RtmpAdmission } from './admission.js';
import { connectReplies } from './replies.js';

class FakeSocket extends EventEmitter {
  remoteAddress = '127.0.0.9';
  remotePort = 40000;
  readonly writes: Buffer[] = [];
  ended = false;
  destroyed = false;
  setNoDelay(): this { return this; }
  setTimeout(): this { return this; }
  pause(): this { return this; }
  resume(): this { return this; }
  write(b: Buffer): boolean {
    this.writes.push(Buffer.from(b));
    return true;
  }
  end(): this {
    this.ended = true;
    return this;
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      setImmediate(() => this.emit('close'));
    }
    return this;
  }
}

const tick = () => new Promise((r) => setImmediate(r));
const cmd = (streamId: number, name: string, txId: number, ...args: M.RtmpCommand['args']) =>
  serializeMessage(M.commandMsg(streamId, name, txId, null, ...(args as Parameters<typeof M.commandMsg>[4][])), 128);
const connectCmd = () => serializeMessage(M.commandMsg(0, 'connect', 1, { app: 'live', tcUrl: 'rtmp://x/live', flashVer: 'LNX 9,0,124,2' }), 128);

function deps(over: Partial<RtmpConnDeps>): RtmpConnDeps {
  return {
    streams: { get: () => ({ isClosed: false, app: 'live' }) } as unknown as StreamRegistry,
    hooks: {
      authorizePublish: async () => ({ allow: false, reason: 'no' }),
      authorizePlay: async () => ({ allow: true }),
    },
    viewers: { start: () => ({ end() {} }) } as unknown as ViewerRegistry,
    log: silentLogger(),
    hookTimeoutMs: 1000,
    idleTimeoutMs: 10_000,
    firstMediaTimeoutMs: 10_000,
    handshakeTimeoutMs: 10_000,
    gopCacheBytes: 1 << 20,
    newPublisherId: () => 'p1',
    onRefused: () => {},
    startTimeoutMs: 10_000,
    admission: { activate: () => true, activatePlay: () => ({ admitted: true, note: undefined }), startTimedOut() {} },
    ...over,
  };
}

/** Handshake, connect, createStream and play on a fresh fake socket; resolves once the play is answered. */
async function playOn(socket: FakeSocket, d: RtmpConnDeps, accepted?: (conn: RtmpConn) => void): Promise<RtmpConn> {
  const conn = new RtmpConn(socket as unknown as Socket, d);
  accepted?.(conn);
  socket.emit('data', buildClientHello(false));
  const s1 = socket.writes[0]!.subarray(1, 1 + HANDSHAKE_SIZE);
  socket.emit('data', Buffer.concat([s1, connectCmd()]));
  socket.emit('data', cmd(0, 'createStream', 2));
  socket.emit('data', cmd(1, 'play', 0, 'room1?token=good', -2000));
  for (let i = 0; i < 5; i++) await tick();
  return conn;
}

describe('a refused RTMP play', () => {
  it('gets each answer in one write, the same bytes as before, and leaves no logger nor timer behind', async () => {
    let children = 0;
    const base = silentLogger();
    const log = Object.assign(Object.create(base) as Logger, { child: () => (children++, base) });
    // Timers the connection starts and never clears (fired ones are gone as well).
    const pending = new Set<unknown>();
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      const t = realSet(() => {
        pending.delete(t);
        fn();
      }, ms);
      pending.add(t);
      return t;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((t: NodeJS.Timeout | undefined) => {
      pending.delete(t);
      realClear(t);
    }) as typeof clearTimeout;
    const socket = new FakeSocket();
    try {
      const conn = await playOn(socket, deps({ log, admitViewer: () => false }));
      const [window, bandwidth, chunkSize, result] = connectReplies(1, 0, 4096);
      assert.equal(socket.writes.length, 4, 'handshake, connect, createStream, onStatus: four writes');
      assert.equal(socket.writes[0]!.length, 1 + 2 * HANDSHAKE_SIZE);
      assert.deepEqual(socket.writes[1], Buffer.concat([
        serializeMessage(window!, 128), serializeMessage(bandwidth!, 128), serializeMessage(chunkSize!, 128), serializeMessage(result!, 4096),
      ]), 'the connect replies: window, bandwidth, Set Chunk Size at 128, then _result at 4096');
      assert.deepEqual(socket.writes[2], serializeMessage(M.commandMsg(0, '_result', 2, null, 1), 4096));
      assert.deepEqual(socket.writes[3], serializeMessage(M.onStatusMsg(1, 'error', 'NetStream.Play.Failed', 'Server busy, retry later.'), 4096));
      assert.equal(socket.ended, true, 'the refusal ends the connection gracefully');
      socket.destroy(); // the client closes on Play.Failed
      await tick();
      assert.equal((conn as unknown as { closed: boolean }).closed, true);
      assert.equal(pending.size, 0, 'no timer outlives the closed connection');
      assert.equal(children, 0, 'no per-connection logger for a connection that logs nothing');
    } finally {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
      for (const t of pending) realClear(t as NodeJS.Timeout);
    }
  });

  it('the second connection gets the same connect bytes (shared, not rebuilt into something else)', async () => {
    const a = new FakeSocket();
    const b = new FakeSocket();
    await playOn(a, deps({ admitViewer: () => false }));
    await playOn(b, deps({ admitViewer: () => false }));
    assert.deepEqual(a.writes.slice(1), b.writes.slice(1));
    a.destroy();
    b.destroy();
    await tick();
  });

  it('at the players cap: one warning for a spell of refusals, then one line with their count when a play is admitted', async () => {
    const captured = captureLogger('info');
    const admission = new RtmpAdmission<RtmpConn>({ max: 3, maxPerIp: 100, publisherReserve: 2 }); // one player
    const d = deps({ log: captured.log, admission });
    const open = async () => {
      const socket = new FakeSocket();
      const conn = await playOn(socket, d, (c) => {
        // What RtmpServer does with an accepted connection.
        admission.joined(c);
        c.on('close', () => admission.left(c, c.isPlayer));
      });
      return { socket, conn };
    };
    const first = await open();
    assert.equal(first.conn.isPlayer, true);
    const refused = [];
    for (let i = 0; i < 5; i++) refused.push(await open());
    for (const r of refused) {
      assert.equal(r.conn.isPlayer, false);
      assert.deepEqual(r.socket.writes.at(-1), serializeMessage(M.onStatusMsg(1, 'error', 'NetStream.Play.Failed', 'Server full.'), 4096));
    }
    const cap = (l: Record<string, unknown>) => String(l.msg).includes('players at their cap');
    assert.equal(captured.lines.filter(cap).length, 1, 'one warning for five refusals');
    assert.equal(captured.lines.find(cap)!.level, 40);
    first.conn.close();
    for (const r of refused) r.conn.close();
    await tick();
    const again = await open();
    assert.equal(again.conn.isPlayer, true);
    const ended = captured.lines.filter((l) => String(l.msg).includes('below their cap again'));
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.refused, 5);
    assert.equal(captured.lines.filter(cap).length, 1);
    again.conn.close();
    await tick();
  });
});
