/**
 * The all-in-one process (`npm start`): control (with its callback pipeline), the media engine and
 * the transcoder and the web pages on embedded defaults (SQLite, in-process cache and bus, local storage), with
 * the API, WebSocket, FLV, HLS and pages on one HTTP port and RTMP on another.
 * Each role can also run alone: control/main.ts, media/main.ts, transcoder/main.ts.
 */
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { loadConfig } from './core/config/load.js';
import type { OnairConfig } from './core/config/schema.js';
import { createLogger, type Logger } from './core/logging/logger.js';
import type { MediaControl } from './core/media/media-contract.js';
import { createControl } from './control/main.js';
import { openPorts } from './core/ports.js';
import type { MediaEngine } from './media/engine.js';
import { createMedia } from './media/create-media.js';
import { LISTEN_BACKLOG } from './media/servers/listen-backlog.js';
import { createWebHandler } from './web/serve.js';
import { objectStoreOrigin } from './core/http/security-headers.js';
import { startMetricsListener, type MetricsListener } from './core/http/metrics-endpoint.js';
import { drainHttpServer } from './core/lifecycle/http-drain.js';
import { startTranscoder, type Transcoder } from './transcoder/transcoder.js';

export interface OnairProcess {
  config: OnairConfig;
  server: Server;
  engine: MediaEngine;
  httpPort: number;
  rtmpPort: number;
  /** The /metrics listener of ONAIR_METRICS_ADDRESS, when configured. */
  metricsListener: MetricsListener | undefined;
  close(): Promise<void>;
}

/** Builds and starts every role in this process. Tests call this with ports 0 and a temp data dir. */
export async function startOnair(config: OnairConfig, log: Logger, options: { refusalDelayMs?: number } = {}): Promise<OnairProcess> {
  // Redis Streams and the Redis cache when ONAIR_REDIS_URL is set, else in-process and a table in the database.
  const ports = await openPorts(config, log);

  // Control and media need each other (hooks one way, kicks the other): the engine is built
  // second, and control reaches it through this forwarding MediaControl.
  let engine: MediaEngine | undefined;
  const media: MediaControl = {
    kickPublisher: async (name) => (engine ? engine.kickPublisher(name) : false),
    kickViewer: async (id) => (engine ? engine.kickViewer(id) : false),
    listStreams: async () => (engine ? engine.listStreams() : []),
  };
  const control = createControl({ config, log, ...ports, media, refusalDelayMs: options.refusalDelayMs });
  await control.bootstrap();

  engine = createMedia({ config, hooks: control.hooks, log, metrics: ports.metrics });
  const detachEvents = control.attachMediaEvents(engine);
  // Recordings become MP4 replays in this process too, unless ONAIR_TRANSCODER=off (a separate transcoder runs).
  const transcoder: Transcoder | undefined = config.transcoder.enabled
    ? await startTranscoder({ config, log, db: ports.db, bus: ports.bus, objects: ports.objects, metrics: ports.metrics })
    : undefined;

  const web = createWebHandler({ mediaOrigins: [objectStoreOrigin(config.s3.target)].filter((o): o is string => !!o) });
  const server = createServer((req, res) => {
    if (engine!.handleHttp(req, res)) return;
    web(req, res, () => control.handle(req, res));
  });
  // Routed by path: control's chat sockets (/ws, /ws/live/{session_id}), then media's WS-FLV (/live/{room}.flv).
  server.on('upgrade', (req, socket: Duplex, head) => {
    if (control.handleUpgrade(req, socket, head)) return;
    if (!engine!.handleUpgrade(req, socket, head)) socket.destroy();
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;

  await engine.start();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.host, LISTEN_BACKLOG, () => resolve());
  });
  const metricsListener = await startMetricsListener(ports.metrics, config.metrics, config.host, log);
  const address = server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.http.port;
  // With port 0 (tests, several stacks on one machine) the URLs handed to clients must name the
  // ports actually bound; services read these at call time.
  config.http.port = httpPort;
  config.rtmp.port = engine.rtmpPort;

  let closing: Promise<void> | undefined;
  return {
    config,
    server,
    engine,
    httpPort,
    rtmpPort: engine.rtmpPort,
    metricsListener,
    close() {
      // A graceful stop within ONAIR_SHUTDOWN_TIMEOUT: refuse new work, end every show and viewer
      // (their last events still reach control), let requests in progress finish, drain what
      // control has queued (audience writes, bus appends, consumer, live_events, settlements), and
      // only then close the database, cache and bus. What missed the deadline is logged.
      closing ??= (async () => {
        const deadline = Date.now() + config.shutdownTimeout;
        const http = drainHttpServer(server, deadline);
        // Chat sockets close with the drain (1001: clients reconnect elsewhere and resume).
        await Promise.all([control.chat.gateway.close(), control.notifications.gateway.close()]);
        await metricsListener?.close();
        await engine!.close();
        const cut = await http;
        if (cut > 0) log.warn({ connections: cut }, 'requests still running at the shutdown deadline were cut');
        await control.close({ deadline });
        await transcoder?.close();
        detachEvents();
        await ports.close();
      })();
      return closing;
    },
  };
}

function banner(p: OnairProcess): string {
  const host = p.config.publicHost ?? (p.config.host === '0.0.0.0' ? '127.0.0.1' : p.config.host);
  const api = `http://${host}:${p.httpPort}`;
  return [
    '',
    'onair is running.',
    '',
    `  Push (OBS "Server"):  rtmp://${host}:${p.rtmpPort}/${p.config.rtmp.app}`,
    '  Stream key:           register an anchor and create a room; the answer holds stream_key:',
    `      curl -s -X POST ${api}/api/v1/auth/register -H 'content-type: application/json' \\`,
    `           -d '{"username":"alice","password":"change-me-please","role":"anchor"}'`,
    `      curl -s -X POST ${api}/api/v1/auth/login -H 'content-type: application/json' \\`,
    `           -d '{"username":"alice","password":"change-me-please"}'          # -> {"token":...}`,
    `      curl -s -X POST ${api}/api/v1/rooms -H "authorization: Bearer $TOKEN" \\`,
    `           -H 'content-type: application/json' -d '{"title":"My first show"}'  # -> {id, stream_key, push_url}`,
    `  Watch:                ${api}/watch/{room_id}     (live rooms: ${api}/)`,
    `  In a browser:         ${api}/login, then ${api}/studio (anchors) or ${api}/admin (operators)`,
    `  Health and metrics:   ${api}/healthz  ${p.metricsListener ? `http://${p.config.metrics.address}/metrics` : `${api}/metrics`}${p.config.metrics.token ? '  (Bearer ONAIR_METRICS_TOKEN)' : ''}`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel });
  const onair = await startOnair(config, log);
  process.stdout.write(banner(onair) + '\n');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1); // a second Ctrl-C does not wait
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Past the deadline plus a margin, exit anyway: a hung dependency must not keep the process up.
    setTimeout(() => process.exit(1), config.shutdownTimeout + 5_000).unref();
    onair.close().then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
