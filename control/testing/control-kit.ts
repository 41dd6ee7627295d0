import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import request from 'supertest';
import { silentLogger, type Logger } from '../../core/logging/logger.js';
import type { MediaControl, StreamSummary } from '../../core/media/media-contract.js';
import type { ConfigOverrides, TestAdapterSet, TestPorts } from '../../core/testing/test-ports.js';
import { createControl, type Control } from '../main.js';
import { DbEventBus } from '../../core/event-bus/db-event-bus.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import type { ObjectStore } from '../../core/object-store/object-store.port.js';

/**
 * Test kit for control's service and API tests: real ports from a test adapter set, control built
 * with createControl, and a MediaControl that only records what it was asked (media has its own tests).
 */
export class RecordingMediaControl implements MediaControl {
  readonly kickedPublishers: string[] = [];
  readonly kickedViewers: string[] = [];
  /** Streams that have a publisher "now"; kickPublisher answers true for them. */
  readonly publishing = new Set<string>();

  async kickPublisher(streamName: string): Promise<boolean> {
    this.kickedPublishers.push(streamName);
    return this.publishing.delete(streamName);
  }
  async kickViewer(viewerId: string): Promise<boolean> {
    this.kickedViewers.push(viewerId);
    return false;
  }
  /** The streams in `publishing`, as media would list them. */
  async listStreams(): Promise<StreamSummary[]> {
    return [...this.publishing].map((streamName) => ({
      streamName, app: 'live', publisherId: `pub-${streamName}`, clientIp: '127.0.0.1', startedAt: Date.now(),
      viewers: { rtmp: 0, 'http-flv': 0, 'ws-flv': 0, hls: 0, webrtc: 0 }, bytesIn: 0, bytesOut: 0, bitrateInKbps: 0,
    }));
  }
}

export interface Kit {
  ports: TestPorts;
  control: Control;
  media: RecordingMediaControl;
  http: ReturnType<typeof request>;
  /** Registers and logs in; returns the user id and a bearer header. */
  user(role: 'viewer' | 'anchor', name?: string): Promise<{ id: string; username: string; auth: { Authorization: string } }>;
  operator(name?: string): Promise<{ id: string; username: string; auth: { Authorization: string } }>;
  /**
   * Serves control as the composition roots do (callback fast path, then express) on a real socket
   * at `host` (127.0.0.1 unless given, e.g. '::1'); returns the base URL. Closed by close().
   */
  listen(host?: string): Promise<string>;
  /** The registry control's /metrics serves. */
  metrics: Registry;
  /** An anchor with a room. */
  anchorWithRoom(title?: string): Promise<{ id: string; auth: { Authorization: string }; roomId: string; streamKey: string }>;
  close(): Promise<void>;
}

export interface KitOptions {
  /** The logger control logs to (silent by default); tests that assert log lines pass captureLogger()'s. */
  log?: Logger;
  /** The object store replays live in (default: a folder under the test's data dir). */
  objects?: ObjectStore;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}${process.pid}_${Date.now().toString(36)}_${counter++}`;

export async function makeKit(set: TestAdapterSet, overrides: ConfigOverrides = {}, options: KitOptions = {}): Promise<Kit> {
  const ports = await set.make(overrides);
  const media = new RecordingMediaControl();
  // The callback pipeline's bus on the set's database (the embedded adapter; the bus has its own contract suite).
  const bus = new DbEventBus<BusEvents>(ports.db);
  const metrics = new Registry();
  const control = createControl({
    config: ports.config, log: options.log ?? silentLogger(), db: ports.db, cache: ports.cache, media, metrics, refusalDelayMs: 0, bus,
    rateLimits: ports.rateLimits, ...(options.objects ? { objects: options.objects } : {}),
  });
  const servers: Server[] = [];
  await control.bootstrap();
  const http = request(control.app);
  const login = async (username: string, password: string) => {
    const res = await http.post('/api/v1/auth/login').send({ username, password }).expect(200);
    return { Authorization: `Bearer ${res.body.token as string}` };
  };
  const kit: Kit = {
    ports, control, media, http, metrics,
    async listen(host = '127.0.0.1') {
      const server = createServer((req, res) => control.handle(req, res));
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      const port = (server.address() as AddressInfo).port;
      return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
    async user(role, name = unique(role)) {
      const res = await http.post('/api/v1/auth/register').send({ username: name, password: 'correct horse', role }).expect(201);
      return { id: res.body.id as string, username: name, auth: await login(name, 'correct horse') };
    },
    async operator(name = unique('op')) {
      const { user } = await control.auth.ensureOperator(name, 'operator pass');
      return { id: user.id, username: name, auth: await login(name, 'operator pass') };
    },
    async anchorWithRoom(title = 'My show') {
      const anchor = await kit.user('anchor');
      const res = await http.post('/api/v1/rooms').set(anchor.auth).send({ title }).expect(201);
      return { id: anchor.id, auth: anchor.auth, roomId: res.body.id as string, streamKey: res.body.stream_key as string };
    },
    async close() {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
      await control.close();
      await bus.close();
      await ports.close();
    },
  };
  return kit;
}
