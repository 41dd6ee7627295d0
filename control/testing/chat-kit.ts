import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Registry } from 'prom-client';
import request from 'supertest';
import WebSocket from 'ws';
import { silentLogger } from '../../core/logging/logger.js';
import { DbEventBus } from '../../core/event-bus/db-event-bus.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import type { ConfigOverrides, TestAdapterSet, TestPorts } from '../../core/testing/test-ports.js';
import { testPubSubs, type TestPubSubCluster } from '../../core/testing/test-pubsubs.js';
import { waitFor } from '../../core/testing/wait-for.js';
import type { PubSub } from '../../core/pubsub/pubsub.port.js';
import { createControl, type Control } from '../main.js';
import { RecordingMediaControl } from './control-kit.js';

/**
 * Test kit for chat and the audience: control nodes on one adapter set (one database and cache
 * shared, as a cluster shares MariaDB and Redis), each with its own pub/sub node on one broker
 * (in-process hub, or Redis for the mariadb+redis set), each served on 127.0.0.1:0 with the
 * upgrade routed as the composition roots route it. Clients are real `ws` sockets.
 */
export interface ChatNode {
  control: Control;
  media: RecordingMediaControl;
  http: ReturnType<typeof request>;
  /** This node's pub/sub (what another role on the node would publish into a room with). */
  pubsub: PubSub;
  /** ws://127.0.0.1:port */
  ws: string;
  server: Server;
  /** Stops this node as a crash would: sockets cut, no goodbye (the others keep running). */
  kill(): Promise<void>;
  close(): Promise<void>;
}

export interface ChatKit {
  ports: TestPorts;
  cluster: TestPubSubCluster;
  nodes: ChatNode[];
  /** A new control node; `pubsub` replaces the one it would get from the cluster (e.g. cluster.nodeVia(a proxy)). */
  node(options?: { pubsub?: PubSub }): Promise<ChatNode>;
  user(role?: 'viewer' | 'anchor'): Promise<{ id: string; username: string; token: string; auth: { Authorization: string } }>;
  operator(): Promise<{ id: string; token: string; auth: { Authorization: string } }>;
  /** An anchor with a live room (publish authorised and marked live, as the engine would). */
  liveRoom(): Promise<{ roomId: string; sessionId: string; anchor: { id: string; token: string; auth: { Authorization: string } } }>;
  close(): Promise<void>;
}

let counter = 0;

/**
 * `nodeCount` control nodes (2: node A and node B, a cluster of two) on one adapter set; kit.node()
 * adds another. The pub/sub of the same family as the adapter set: in-process for embedded, Redis
 * for mariadb+redis.
 */
export async function makeChatKit(set: TestAdapterSet, overrides: ConfigOverrides = {}, nodeCount = 1): Promise<ChatKit> {
  const ports = await set.make(overrides);
  const factories = testPubSubs();
  const factory = factories.find((f) => f.name === (set.name === 'embedded' ? 'memory' : 'redis')) ?? factories[0]!;
  const cluster = await factory.cluster({ historySize: ports.config.chat.historySize });
  const nodes: ChatNode[] = [];
  const buses: Array<DbEventBus<BusEvents>> = [];
  const kit: ChatKit = {
    ports, cluster, nodes,
    async node(options = {}) {
      const pubsub = options.pubsub ?? await cluster.node();
      const media = new RecordingMediaControl();
      const bus = new DbEventBus<BusEvents>(ports.db);
      buses.push(bus);
      const control = createControl({
        config: ports.config, log: silentLogger(), db: ports.db, cache: ports.cache, media, metrics: new Registry(), refusalDelayMs: 0,
        bus, rateLimits: ports.rateLimits, pubsub,
      });
      await control.bootstrap();
      const server = createServer((req, res) => control.handle(req, res));
      server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
        if (!control.handleUpgrade(req, socket, head)) socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      let closed = false;
      const node: ChatNode = {
        control, media, server, pubsub, http: request(control.app), ws: `ws://127.0.0.1:${port}`,
        async kill() {
          if (closed) return;
          closed = true;
          server.closeAllConnections();
          // A crash: sockets cut without a close frame, timers stopped, pub/sub connection gone.
          control.chat.gateway.abort();
          await control.close({ deadline: Date.now() + 2000 });
          await pubsub.close();
          await new Promise((r) => server.close(r));
        },
        async close() {
          if (closed) return;
          closed = true;
          await control.chat.gateway.close();
          server.closeAllConnections();
          await new Promise((r) => server.close(r));
          await control.close();
        },
      };
      nodes.push(node);
      return node;
    },
    async user(role = 'viewer') {
      const username = `${role}${process.pid}_${Date.now().toString(36)}_${counter++}`;
      const http = request(nodes[0]!.control.app);
      const reg = await http.post('/api/v1/auth/register').send({ username, password: 'correct horse', role }).expect(201);
      const login = await http.post('/api/v1/auth/login').send({ username, password: 'correct horse' }).expect(200);
      const token = login.body.token as string;
      return { id: String(reg.body.id), username, token, auth: { Authorization: `Bearer ${token}` } };
    },
    async operator() {
      const username = `op${process.pid}_${counter++}`;
      const { user } = await nodes[0]!.control.auth.ensureOperator(username, 'operator pass');
      const login = await request(nodes[0]!.control.app).post('/api/v1/auth/login').send({ username, password: 'operator pass' }).expect(200);
      return { id: user.id, token: login.body.token as string, auth: { Authorization: `Bearer ${login.body.token as string}` } };
    },
    async liveRoom() {
      const anchor = await kit.user('anchor');
      const control = nodes[0]!.control;
      const room = await request(control.app).post('/api/v1/rooms').set(anchor.auth).send({ title: 'Chat show' }).expect(201);
      const d = await control.hooks.authorizePublish({ app: 'live', streamKey: room.body.stream_key as string, query: {}, clientIp: '127.0.0.1' });
      if (!d.allow) throw new Error(`publish refused: ${d.reason}`);
      await control.liveSessions.markLive({ streamName: room.body.id as string, app: 'live', publisherId: 'p', sessionId: d.sessionId, clientIp: '127.0.0.1', at: Date.now() });
      await control.rooms.invalidate(room.body.id as string);
      return { roomId: String(room.body.id), sessionId: d.sessionId!, anchor };
    },
    async close() {
      for (const node of nodes) await node.close();
      for (const bus of buses) await bus.close();
      await cluster.close();
      await ports.close();
    },
  };
  while (nodes.length < nodeCount) await kit.node();
  return kit;
}

/** A chat client: every message the server sent (frames are arrays), in order. */
export class ChatClient {
  readonly messages: Array<Record<string, any>> = [];
  /** The messages of each frame received, in order (one server frame = one entry). */
  readonly frames: Array<Array<Record<string, any>>> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const parsed = JSON.parse(data.toString()) as unknown;
      const frame = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, any>>;
      this.frames.push(frame);
      for (const m of frame) this.messages.push(m);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a socket; rejects with `{status, body}` when the upgrade is refused. */
  static connect(url: string, headers: Record<string, string> = {}): Promise<ChatClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const client = new ChatClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => {
          let parsed: unknown = body;
          try { parsed = JSON.parse(body); } catch { /* text */ }
          reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body: parsed }));
        });
      });
      ws.once('error', (err) => reject(err));
    });
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The first message (from `from` on) matching `pred`; waits for it. */
  async next(pred: (m: Record<string, any>) => boolean, what = 'a message', from = 0, timeoutMs = 15_000): Promise<Record<string, any>> {
    return waitFor(what, () => this.messages.slice(from).find(pred), timeoutMs, 10);
  }

  /** The close, or a rejection after `timeoutMs` (a socket that should close but does not fails the test instead of hanging it). */
  closedWithin(timeoutMs = 15_000): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the socket did not close within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.closed, timeout]).finally(() => clearTimeout(timer));
  }

  ofType(type: string): Array<Record<string, any>> {
    return this.messages.filter((m) => m.type === type);
  }

  close(): void {
    this.ws.close();
  }
}

/** The refusal of a WebSocket upgrade to `url` (status and the API's JSON body); throws if the upgrade is accepted. */
export async function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { error: { code: string } } }> {
  let client: ChatClient;
  try {
    client = await ChatClient.connect(url, headers);
  } catch (err) {
    return err as { status: number; body: { error: { code: string } } };
  }
  client.close();
  throw new Error(`the upgrade to ${url} should have been refused`);
}
