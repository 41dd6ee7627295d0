/**
 * The standalone media service (`npm run start:media`): the engine with HLS and recording, asking
 * control over HTTP before any publish or play (HttpStreamHooks; plays are checked locally instead
 * when the service holds the play-token key, TokenPlayHooks), reporting its events as signed
 * callbacks (HttpEventSink), and serving FLV/HLS, WS-FLV, /healthz, /metrics and a small signed
 * control API (kick publisher/viewer, list streams) on config.http.port.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadConfigInChild } from '../core/config/load-in-child.js';
import type { OnairConfig } from '../core/config/schema.js';
import { createLogger, safeUrl, type Logger } from '../core/logging/logger.js';
import type { StreamHooks } from '../core/media/media-contract.js';
import type { MediaEngine } from './engine.js';
import { createMedia } from './create-media.js';
import { HttpStreamHooks } from './remote/http-stream-hooks.js';
import { HttpEventSink } from './remote/http-event-sink.js';
import { TokenPlayHooks } from './remote/token-play-hooks.js';
import { handleControlApi } from './remote/control-api.js';
import { hookSecretToSend } from '../core/callbacks/hook-secret.js';
import { handleMetricsOnMainPort, startMetricsListener, type MetricsListener } from '../core/http/metrics-endpoint.js';
import { drainHttpServer } from '../core/lifecycle/http-drain.js';
import { LISTEN_BACKLOG } from './servers/listen-backlog.js';

export interface MediaService {
  engine: MediaEngine;
  http: Server;
  httpPort: number;
  rtmpPort: number;
  /** Undefined when no control URL and media key are configured (events then stay in-process). */
  sink: HttpEventSink | undefined;
  /** The /metrics listener of ONAIR_METRICS_ADDRESS, when configured. */
  metricsListener: MetricsListener | undefined;
  close(): Promise<void>;
}

export interface MediaServiceOptions {
  /** Defaults to HttpStreamHooks against config.media.controlUrl. */
  hooks?: StreamHooks;
}

/** Builds and starts the service; resolves once RTMP and HTTP listen. */
export async function startMediaService(config: OnairConfig, log: Logger, options: MediaServiceOptions = {}): Promise<MediaService> {
  const controlUrl = config.media.controlUrl;
  let hooks = options.hooks;
  if (!hooks) {
    if (!controlUrl) throw new Error("'media.controlUrl' (ONAIR_CONTROL_URL) is required to run media as its own service");
    hooks = new HttpStreamHooks({
      controlUrl, timeoutMs: config.media.hookTimeout, key: config.callbacks.mediaKey, secret: hookSecretToSend(config), log: log.child({ mod: 'hooks' }),
    });
    const playTokenKey = config.live.playTokenKey;
    if (playTokenKey) hooks = new TokenPlayHooks({ publish: hooks, playTokenKey, app: config.rtmp.app });
    log.info({ playCheck: playTokenKey ? 'local (ONAIR_PLAY_TOKEN_KEY)' : 'on_play hook to control' }, 'play tokens');
  }
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const engine = createMedia({ config, hooks, log, metrics });

  let sink: HttpEventSink | undefined;
  if (controlUrl && config.callbacks.mediaKey) {
    // record.done goes through an outbox in the recordings folder: one queued when media dies is sent on the next start.
    const outboxDir = join(config.media.recordingsDir ?? join(config.dataDir, 'recordings'), '.outbox');
    sink = new HttpEventSink({ controlUrl, key: config.callbacks.mediaKey, log: log.child({ mod: 'callbacks' }), outboxDir });
    sink.replayOutbox();
    sink.attach(engine);
  } else {
    log.warn("no 'media.controlUrl' or 'callbacks.mediaKey': media events are not sent to control");
  }

  await engine.start();
  const control = { key: config.callbacks.mediaKey, control: engine, log: log.child({ mod: 'control-api' }) };
  const http = createServer((req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
        return;
      }
      // Bearer token and/or a listener of its own (ONAIR_METRICS_TOKEN / ONAIR_METRICS_ADDRESS).
      if (handleMetricsOnMainPort(req, res, metrics, config.metrics, log)) return;
      if (handleControlApi(req, res, url, control)) return;
      if (engine.handleHttp(req, res)) return;
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":{"code":"not_found","message":"not found"}}');
    } catch (err) {
      log.error({ err, url: safeUrl(req.url) }, 'media HTTP request failed');
      if (!res.headersSent) res.writeHead(400).end();
      else res.destroy();
    }
  });
  http.on('upgrade', (req, socket, head) => {
    if (!engine.handleUpgrade(req, socket, head)) socket.destroy();
  });
  http.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.http.port, config.host, LISTEN_BACKLOG, () => resolve());
  });
  const httpPort = (http.address() as { port: number }).port;
  const metricsListener = await startMetricsListener(metrics, config.metrics, config.host, log);
  log.info({ http: httpPort, rtmp: engine.rtmpPort }, 'media service listening');

  let closing: Promise<void> | undefined;
  return {
    engine, http, httpPort, rtmpPort: engine.rtmpPort, sink, metricsListener,
    close() {
      // Within ONAIR_SHUTDOWN_TIMEOUT: end every publish and viewer (publish.ended, play.ended and
      // record.done join the callback queue), let requests in progress finish, then deliver the
      // queued callbacks to control; what is still undelivered at the deadline is logged.
      closing ??= (async () => {
        const deadline = Date.now() + config.shutdownTimeout;
        const drained = drainHttpServer(http, deadline);
        await engine.close();
        await drained;
        await metricsListener?.close();
        if (sink) {
          const dropped = sink.dropped;
          await sink.close(Math.max(0, deadline - Date.now()));
          if (sink.dropped > dropped) log.error({ undelivered: sink.dropped - dropped }, 'shutdown deadline (ONAIR_SHUTDOWN_TIMEOUT) passed before these media callbacks reached control');
        }
      })();
      return closing;
    },
  };
}

async function main(): Promise<void> {
  // In a child process: zod and the config schema never enter this process (see load-in-child.ts).
  const config = loadConfigInChild();
  const log = createLogger({ level: config.logLevel, name: 'onair-media' });
  let service: MediaService;
  try {
    service = await startMediaService(config, log);
  } catch (err) {
    log.fatal({ err }, 'media service failed to start');
    process.exit(1);
  }
  const stop = (signal: string) => {
    log.info({ signal }, 'stopping');
    // Past the deadline plus a margin, exit anyway: a hung control must not keep the process up.
    const force = setTimeout(() => process.exit(1), config.shutdownTimeout + 5_000);
    force.unref();
    service.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
