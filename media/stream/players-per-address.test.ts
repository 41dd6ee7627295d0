import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { TypedEmitter } from '../../core/events/typed-emitter.js';
import type { PlayEnded, PlayProtocol, PlayStarted } from '../../core/media/media-contract.js';
import { startEngine, testConfig, until, type EngineHarness } from '../engine-test-kit.js';
import { RtmpClient } from '../servers/rtmp/client.js';
import { AddressSlots, ClientAddresses, PlayersPerAddress } from './players-per-address.js';
import type { ViewerRegistryEvents } from './viewer-registry.js';

/**
 * The sweep of 2026-11-29: one play token opened 40 times over HTTP-FLV made a room show 40 viewers
 * (and a hot score of 40): media counted connections and capped them per address only for RTMP.
 */
describe('PlayersPerAddress', () => {
  const events = () => new TypedEmitter<ViewerRegistryEvents>();
  const started = (clientIp: string, streamName = 'room1', protocol: PlayProtocol = 'http-flv'): PlayStarted =>
    ({ streamName, viewerId: `v-${Math.random()}`, protocol, clientIp, at: Date.now() });
  const ended = (s: PlayStarted): PlayEnded => ({ ...s, at: Date.now(), reason: 'closed', bytesOut: 0, durationMs: 1 });

  it('is full at the cap for that stream and address, and frees a place when a player ends', () => {
    const ev = events();
    const cap = new PlayersPerAddress(2, [], ev);
    const a = started('203.0.113.7');
    ev.emit('play.started', a);
    assert.equal(cap.full('room1', '203.0.113.7'), false);
    ev.emit('play.started', started('203.0.113.7'));
    assert.equal(cap.full('room1', '203.0.113.7'), true);
    assert.equal(cap.full('room2', '203.0.113.7'), false, 'another stream');
    assert.equal(cap.full('room1', '203.0.113.8'), false, 'another address');
    ev.emit('play.ended', ended(a));
    assert.equal(cap.full('room1', '203.0.113.7'), false);
  });

  it('counts an IPv6 client by its /64, never caps loopback, ignores RTMP and HLS, and 0 is no cap', () => {
    const ev = events();
    const cap = new PlayersPerAddress(1, [], ev);
    ev.emit('play.started', started('2001:db8:1:2::1'));
    assert.equal(cap.full('room1', '2001:db8:1:2:ffff::9'), true, 'same /64');
    assert.equal(cap.full('room1', '2001:db8:1:3::1'), false, 'another /64');
    for (let i = 0; i < 3; i++) ev.emit('play.started', started('127.0.0.1'));
    assert.equal(cap.full('room1', '127.0.0.1'), false);
    ev.emit('play.started', started('198.51.100.1', 'room1', 'rtmp'));
    ev.emit('play.started', started('198.51.100.1', 'room1', 'hls'));
    assert.equal(cap.full('room1', '198.51.100.1'), false);
    const off = new PlayersPerAddress(0, [], ev);
    ev.emit('play.started', started('192.0.2.1'));
    assert.equal(off.full('room1', '192.0.2.1'), false);
  });

  it('AddressSlots (WHEP/WHIP offers connecting, HLS sessions): full at the cap per scope and address, a release gives back once', () => {
    const slots = new AddressSlots(new ClientAddresses(2, []));
    const a = slots.take('203.0.113.7', 'room1');
    slots.take('203.0.113.7', 'room1');
    assert.equal(slots.full('203.0.113.7', 'room1'), true);
    assert.equal(slots.full('203.0.113.7', 'room2'), false, 'another scope');
    assert.equal(slots.full('203.0.113.8', 'room1'), false, 'another address');
    a();
    a();
    assert.equal(slots.size, 1, 'released once');
    assert.equal(slots.full('203.0.113.7', 'room1'), false);
    for (let i = 0; i < 5; i++) slots.take('::1');
    assert.equal(slots.full('::1'), false, 'loopback is never capped');
    assert.equal(slots.size, 1);
  });

  it('takes the client from X-Forwarded-For only behind a trusted proxy', () => {
    const req = (peer: string, xff?: string) => ({ socket: { remoteAddress: peer }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as unknown as IncomingMessage;
    const trusting = new PlayersPerAddress(1, ['127.0.0.1'], events());
    assert.equal(trusting.clientOf(req('127.0.0.1', '10.9.9.9, 203.0.113.7')), '203.0.113.7');
    assert.equal(trusting.clientOf(req('198.51.100.4', '203.0.113.7')), '198.51.100.4', 'a forged header from an untrusted peer');
    assert.equal(new PlayersPerAddress(1, [], events()).clientOf(req('127.0.0.1', '203.0.113.7')), '127.0.0.1');
  });
});

/** A GET with headers; resolves with the response (the caller destroys it). */
function get(port: number, path: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WS-FLV socket; resolves with the upgrade's status (101 or the refusal's). */
function wsOpen(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; ws?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.destroy();
    });
    ws.once('error', reject);
  });
}

describe('HTTP-FLV and WS-FLV players per address, behind a trusted proxy', () => {
  let h: EngineHarness;
  let pub: RtmpClient;
  const from = (address: string) => ({ 'X-Forwarded-For': address });
  before(async () => {
    const config = testConfig({ playersPerAddress: 2 });
    config.http.trustedProxies = ['127.0.0.1']; // the test is the edge: its X-Forwarded-For names the client
    h = await startEngine({ config });
    pub = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await pub.connect('live');
    pub.publish('X');
    await pub.nextStatus(); // publishing: players are admitted (and wait for a first keyframe)
  });
  after(async () => {
    pub.close();
    await h.close();
  });

  it('answers 429 past the cap of one address, serves another, and frees the place of a player that left', async () => {
    const path = '/live/room1.flv?token=good';
    const first = await get(h.httpPort, path, from('203.0.113.7'));
    const second = await get(h.httpPort, path, from('203.0.113.7'));
    assert.deepEqual([first.statusCode, second.statusCode], [200, 200]);
    const third = await get(h.httpPort, path, from('203.0.113.7'));
    assert.equal(third.statusCode, 429);
    assert.ok(Number(third.headers['retry-after']) > 0);
    const body = await new Promise<string>((r) => {
      let s = '';
      third.on('data', (d: Buffer) => (s += d.toString()));
      third.on('end', () => r(s));
    });
    assert.equal(JSON.parse(body).error.code, 'too_many_players');
    const ws = await wsOpen(h.httpPort, path, from('203.0.113.7'));
    assert.equal(ws.status, 429, 'WS-FLV shares the cap');
    const other = await get(h.httpPort, path, from('198.51.100.4'));
    assert.equal(other.statusCode, 200, 'another address');
    // The play hook was told the client's address, not the proxy's.
    const seen = h.events.filter((e) => e.name === 'play.started').map((e) => (e.payload as PlayStarted).clientIp);
    assert.deepEqual(seen.sort(), ['198.51.100.4', '203.0.113.7', '203.0.113.7']);
    first.destroy();
    await until(() => h.events.some((e) => e.name === 'play.ended'), 5000);
    const again = await wsOpen(h.httpPort, path, from('203.0.113.7'));
    assert.equal(again.status, 101, 'the place of the player that left');
    again.ws!.close();
    for (const r of [second, other]) r.destroy();
  });
});
