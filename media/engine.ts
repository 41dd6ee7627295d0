import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { OnairConfig } from '../core/config/schema.js';
import type { Logger } from '../core/logging/logger.js';
import { TypedEmitter } from '../core/events/typed-emitter.js';
import { newSessionId } from '../core/ids.js';
import type {
  MediaControl, MediaEventName, MediaEvents, PlayProtocol, StreamHooks, StreamStats, StreamSummary,
} from '../core/media/media-contract.js';
import type { MediaPlugin, MediaPluginContext } from './plugin.js';
import { StreamRegistry } from './stream/registry.js';
import { zeroViewers, type Stream } from './stream/stream.js';
import { PlayersPerAddress } from './stream/players-per-address.js';
import { ViewerRegistry } from './stream/viewer-registry.js';
import type { ViewerSession } from './stream/viewer-session.js';
import { FlushScheduler } from './stream/flush-scheduler.js';
import { OverloadGuard, flushLagLimitMs } from './stream/overload-guard.js';
import { GuardTrace } from './stream/guard-trace.js';
import { INTERVAL_MS as SHED_INTERVAL_MS, JoinRate, ShedPolicy } from './stream/shed-policy.js';
import { RefusalSpell } from './stream/refusal-spell.js';
import { RtmpServer } from './servers/rtmp/server.js';
import { HttpFlvServer } from './servers/http-flv/server.js';
import { WsFlvServer } from './servers/ws-flv/server.js';
import { WhepServer } from './servers/whep/server.js';
import { WhipServer } from './servers/whip/server.js';
import { registerMediaMetrics } from './metrics.js';

export type MediaEngineEvents = { [K in MediaEventName]: [MediaEvents[K]] };

export interface MediaEngineOptions {
  config: OnairConfig;
  hooks: StreamHooks;
  log: Logger;
  metrics?: Registry;
  plugins?: MediaPlugin[];
  /** Tuning, mostly for tests and benchmarks. */
  tuning?: Partial<MediaEngineTuning>;
}

export interface MediaEngineTuning {
  /** Cap of each stream's GOP cache (default 8 MiB). */
  gopCacheBytes: number;
  /** How often viewer writes are flushed (default 100 ms; SRS merges 350 ms): larger means fewer syscalls and less CPU, a little more latency. */
  flushIntervalMs: number;
  /** Half-open handshakes are dropped after this (default 10 s). */
  handshakeTimeoutMs: number;
  /** publish.started waits at most this long after the first media packet for codec info (default 3 s). */
  readyTimeoutMs: number;
  /** How often the engine decides whether to shed viewers while overloaded (default ShedPolicy's INTERVAL_MS, 500 ms). */
  shedIntervalMs: number;
}

const DEFAULT_TUNING: MediaEngineTuning = { gopCacheBytes: 8 << 20, flushIntervalMs: 100, handshakeTimeoutMs: 10_000, readyTimeoutMs: 3000, shedIntervalMs: SHED_INTERVAL_MS };

interface StreamBook {
  startedEmitted: boolean;
  readyTimer: NodeJS.Timeout | undefined;
  lastIn: number;
  lastOut: number;
  lastAt: number;
  bitrateInKbps: number;
  bitrateOutKbps: number;
}

/**
 * The media engine: RTMP and WebRTC (WHIP) in; RTMP, HTTP-FLV, WS-FLV and WebRTC (WHEP) out; plugins (HLS, recording) riding on
 * the stream hub. It decides nothing itself: publish and play go through the StreamHooks, and
 * what happens is reported as MediaEvents. Mount handleHttp/handleUpgrade on an HTTP server.
 *
 * Decisions worth knowing:
 * - publish.started is emitted once per publish, and only once media flows: when the codec facts
 *   are in (every track the metadata announces has its sequence header, or the first media frame
 *   arrived), at the latest readyTimeoutMs (3 s) after the first audio or video packet. A publish
 *   that sends no media never gets a publish.started, so control never marks it live (an encoder
 *   whose codec FLV cannot carry publishes and then sends nothing); the RTMP server drops it after
 *   media.firstMediaTimeout. publish.ended follows every allowed publish, started or not (control
 *   releases its claim on the room with it); one that had media and ends before it was ready
 *   gets its publish.started first.
 * - publish.ended is emitted synchronously when the socket closes, on deleteStream/FCUnpublish,
 *   on kickPublisher, on the idle timeout, or when a new publish of the same name replaces it.
 * - Play is checked before anything else: 401 (no token) / 403 (refused) come before 404 (not
 *   live), so stream names cannot be probed without a valid token. RTMP play of a name that is not
 *   live gets NetStream.Play.StreamNotFound and is closed (no waiting for a publisher).
 * - Viewer writes are coalesced into ticks for all viewers at once, spaced by the work a tick takes
 *   (FlushPolicy: a few viewers are written almost at once, thousands every flushIntervalMs, the
 *   ceiling); a new viewer's start-up burst (metadata, sequence headers, GOP) is flushed immediately.
 * - Past the ceiling new viewers are refused (OverloadGuard); when the engine stays behind all the
 *   same once a join ramp is over (JoinRate), the newest viewers are shed (ShedPolicy), never the
 *   publisher or internal readers.
 * - A viewer over its queue bound (viewerQueueBytes, or viewerQueueTime of media) skips to the
 *   next keyframe; one still behind viewerQueueTime later is evicted with reason 'slow'.
 */
export class MediaEngine extends TypedEmitter<MediaEngineEvents> implements MediaControl {
  readonly streams: StreamRegistry;
  readonly viewers: ViewerRegistry;
  private readonly scheduler: FlushScheduler;
  private readonly rtmp: RtmpServer;
  private readonly httpFlv: HttpFlvServer;
  private readonly wsFlv: WsFlvServer;
  /** WHEP (WebRTC) playback; undefined when config.media.webrtc is off. */
  readonly whep: WhepServer | undefined;
  /** WHIP (WebRTC) ingest; undefined when config.media.webrtc is off. */
  readonly whip: WhipServer | undefined;
  private readonly plugins: MediaPlugin[];
  private readonly books = new Map<Stream, StreamBook>();
  private readonly refused = { publish: 0, play: 0 };
  /** Admission control from the flush lag (refuses new viewers while the engine is behind). */
  private readonly overload: OverloadGuard;
  /** Past the ceiling despite the refusals: which viewers to close (newest first), and how many were, by protocol. */
  private readonly shedPolicy = new ShedPolicy();
  private readonly shedCounts: Record<string, number> = {};
  private shedTimer: NodeJS.Timeout | undefined;
  /** The rate of join attempts (admitted or refused): a join ramp holds shedding off. */
  private readonly joins = new JoinRate();
  /** One log line when refusals start and one when they end, not one per refused viewer. */
  private readonly refusalSpell = new RefusalSpell();
  private readonly admitViewer: (protocol: PlayProtocol) => boolean;
  private closedBytesIn = 0;
  private closedBytesOut = 0;
  private statsTimer: NodeJS.Timeout | undefined;
  private boundPort = 0;
  private state: 'new' | 'started' | 'closed' = 'new';
  private readonly log: Logger;
  private readonly tuning: MediaEngineTuning;
  private readonly appPrefix: string;

  constructor(private readonly opts: MediaEngineOptions) {
    super();
    const { config, hooks } = opts;
    this.log = opts.log.child({ mod: 'media' });
    this.emitterLog = this.log;
    this.tuning = { ...DEFAULT_TUNING, flushIntervalMs: config.media.flushInterval, ...opts.tuning };
    this.plugins = opts.plugins ?? [];
    this.appPrefix = `/${config.rtmp.app}/`;
    this.streams = new StreamRegistry(this.log);
    this.overload = new OverloadGuard(flushLagLimitMs(this.tuning.flushIntervalMs, config.media.maxFlushLag));
    // Each tick's lag goes to the guard with the event loop's utilization since the previous tick
    // and the time the tick's wait spent on start-up bursts (see OverloadGuard).
    let elu = performance.eventLoopUtilization();
    let workMs = 0;
    let workAt = performance.now();
    const traceFile = process.env.ONAIR_DEBUG_GUARD;
    const trace = traceFile ? new GuardTrace(traceFile, this.overload, {
      workMs: () => this.scheduler.workMs,
      waitingSince: () => this.scheduler.waitingSince(),
      viewers: () => this.viewers.size,
      ramping: (now) => this.joins.ramping(now),
    }) : undefined;
    this.scheduler = new FlushScheduler(this.tuning.flushIntervalMs, (lag, now, startupMs) => {
      const e = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(e, elu).utilization;
      elu = e;
      const work = now > workAt ? (this.scheduler.workMs - workMs) / (now - workAt) : undefined;
      workMs = this.scheduler.workMs;
      workAt = now;
      this.overload.recordLag(lag, now, { busy, startupMs, work, joining: this.joins.ramping(now) });
      trace?.tick(lag, now, startupMs, busy);
    });
    // Every join attempt, admitted or refused, is noted: shedding waits until a ramp ends (ShedPolicy).
    const admitViewer = (protocol: PlayProtocol) => {
      const now = performance.now();
      this.joins.note(now);
      const admitted = this.overload.admit(protocol, now, this.scheduler.waitingSince());
      const spell = this.refusalSpell.note(admitted, now);
      if (spell?.kind === 'started') {
        this.log.warn({ lagMs: Math.round(this.overload.lagMs), limitMs: this.overload.limitMs, loopBusy: Math.round(this.overload.busyShare * 100) / 100, viewers: this.viewers.size }, 'media engine behind (flush lag): refusing new viewers');
      } else if (spell?.kind === 'ended') {
        this.log.info({ refused: spell.refused, durationMs: Math.round(spell.durationMs), viewers: this.viewers.size }, 'media engine caught up: admitting new viewers again');
      }
      return admitted;
    };
    this.admitViewer = admitViewer;
    this.viewers = new ViewerRegistry(
      this.scheduler,
      { queueBytes: config.media.viewerQueueBytes, queueTimeMs: config.media.viewerQueueTime },
      this.log,
      config.live.reconnectGrace,
    );
    this.viewers.on('play.started', (e) => this.safeEmit('play.started', e));
    this.viewers.on('play.ended', (e) => this.safeEmit('play.ended', e));
    const onRefused = (kind: 'publish' | 'play') => void this.refused[kind]++;
    const players = new PlayersPerAddress(config.media.playersPerAddress, config.http.trustedProxies, this.viewers);
    const playDeps = { hooks, streams: this.streams, hookTimeoutMs: config.media.hookTimeout, onRefused, viewers: this.viewers, admitViewer, players };
    this.httpFlv = new HttpFlvServer({ ...playDeps, log: this.log.child({ mod: 'http-flv' }) });
    this.wsFlv = new WsFlvServer({ ...playDeps, log: this.log.child({ mod: 'ws-flv' }) });
    if (config.media.webrtc) {
      this.whep = new WhepServer({
        ...playDeps,
        log: this.log.child({ mod: 'whep' }),
        peer: { iceHosts: config.media.webrtcIceHosts, portRange: config.media.webrtcPorts, iceServers: config.media.webrtcIceServers },
        ffmpegPath: config.media.webrtcAudio ? config.media.ffmpegPath : undefined,
        warmOnPublish: config.media.webrtcWarm,
      });
      this.whip = new WhipServer({
        hooks,
        streams: this.streams,
        hookTimeoutMs: config.media.hookTimeout,
        onRefused,
        log: this.log.child({ mod: 'whip' }),
        peer: { iceHosts: config.media.webrtcIceHosts, portRange: config.media.webrtcPorts, iceServers: config.media.webrtcIceServers },
        ffmpegPath: config.media.ffmpegPath,
        gopCacheBytes: this.tuning.gopCacheBytes,
        newPublisherId: newSessionId,
        idleTimeoutMs: config.media.idleTimeout,
        firstMediaTimeoutMs: config.media.firstMediaTimeout,
        addresses: players,
        onEndedUnconnected: (e) => this.emitEvent('publish.ended', e),
      });
    }
    this.rtmp = new RtmpServer({
      host: config.host,
      port: config.rtmp.port,
      log: this.log,
      streams: this.streams,
      hooks,
      viewers: this.viewers,
      hookTimeoutMs: config.media.hookTimeout,
      idleTimeoutMs: config.media.idleTimeout,
      firstMediaTimeoutMs: config.media.firstMediaTimeout,
      handshakeTimeoutMs: this.tuning.handshakeTimeoutMs,
      startTimeoutMs: config.rtmp.startTimeout,
      limits: { max: config.rtmp.maxConnections, maxPerIp: config.rtmp.maxConnectionsPerIp, publisherReserve: config.rtmp.publisherReserve },
      gopCacheBytes: this.tuning.gopCacheBytes,
      newPublisherId: newSessionId,
      onRefused,
      admitViewer,
    });
    this.streams.on('publish', (s) => this.onPublish(s as Stream));
    if (opts.metrics) this.registerMetrics(opts.metrics);
  }

  /** Listens for RTMP, then starts the plugins and the stats timer. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`MediaEngine.start() called when ${this.state}`);
    this.state = 'started';
    this.boundPort = await this.rtmp.listen();
    const ctx: MediaPluginContext = {
      config: this.opts.config,
      log: this.log,
      streams: this.streams,
      hooks: this.opts.hooks,
      emit: (name, payload) => this.emitEvent(name, payload),
      admitViewer: this.admitViewer,
    };
    for (const p of this.plugins) await p.start(ctx);
    this.statsTimer = setInterval(() => this.emitStats(), this.opts.config.media.statsInterval);
    this.statsTimer.unref();
    this.shedTimer = setInterval(() => this.shedTick(), this.tuning.shedIntervalMs);
    this.shedTimer.unref();
    this.log.info({ port: this.boundPort }, 'media engine listening for RTMP');
  }

  /** The bound RTMP port (useful when config.rtmp.port is 0). */
  get rtmpPort(): number {
    return this.boundPort;
  }

  private emitEvent<K extends MediaEventName>(name: K, payload: MediaEvents[K]): void {
    (this.safeEmit as (n: string, p: unknown) => boolean)(name, payload);
  }

  private onPublish(stream: Stream): void {
    const now = Date.now();
    const book: StreamBook = {
      startedEmitted: false,
      readyTimer: undefined,
      lastIn: 0, lastOut: 0, lastAt: now, bitrateInKbps: 0, bitrateOutKbps: 0,
    };
    stream.on('media', () => {
      book.readyTimer = setTimeout(() => stream.markReady(), this.tuning.readyTimeoutMs);
    });
    this.books.set(stream, book);
    const started = () => {
      if (book.startedEmitted) return;
      book.startedEmitted = true;
      clearTimeout(book.readyTimer);
      this.emitEvent('publish.started', {
        streamName: stream.name, app: stream.app, publisherId: stream.publisherId, sessionId: stream.sessionId,
        clientIp: stream.clientIp, at: Date.now(), video: stream.video, audio: stream.audio,
      });
    };
    stream.on('ready', started);
    // Viewers outlive a dropped publisher for the reconnect grace, and a republish takes them over.
    stream.parkViewers = (viewers, lastTs) => this.viewers.park(stream, viewers as ViewerSession[], lastTs);
    this.viewers.adopt(stream);
    stream.on('close', (reason) => {
      clearTimeout(book.readyTimer);
      this.books.delete(stream);
      this.closedBytesIn += stream.bytesIn;
      this.closedBytesOut += stream.bytesOut;
      if (stream.mediaFlowing) started(); // media flowed: its publish.ended has a publish.started
      this.emitEvent('publish.ended', {
        streamName: stream.name, app: stream.app, publisherId: stream.publisherId, sessionId: stream.sessionId,
        at: Date.now(), reason, bytesIn: stream.bytesIn, durationMs: Date.now() - stream.startedAt,
      });
    });
  }

  /**
   * Sheds load while the engine stays behind despite refusing new viewers (ShedPolicy decides):
   * closes the newest viewers, counted by protocol; logs once when a spell starts and once when it ends.
   */
  private shedTick(): void {
    const now = performance.now();
    const d = this.shedPolicy.decide(now, this.overload.isOverloaded(now, this.scheduler.waitingSince()), this.viewers.size, this.joins.lastRampAt);
    if (d.spellStarted) {
      this.log.warn({ lagMs: Math.round(this.overload.lagMs), limitMs: this.overload.limitMs, loopBusy: Math.round(this.overload.busyShare * 100) / 100, viewers: this.viewers.size }, 'media engine still behind while refusing new viewers: shedding the newest viewers');
    }
    if (d.shed > 0) {
      for (const [protocol, n] of Object.entries(this.viewers.shedNewest(d.shed))) this.shedCounts[protocol] = (this.shedCounts[protocol] ?? 0) + n;
    }
    if (d.spellEnded) this.log.info({ shed: d.spellShed, viewers: this.viewers.size }, 'media engine caught up: shedding ended');
  }

  private emitStats(): void {
    const now = Date.now();
    for (const [stream, book] of this.books) {
      const bytesOut = stream.bytesOut;
      const secs = Math.max(0.001, (now - book.lastAt) / 1000);
      book.bitrateInKbps = Math.round(((stream.bytesIn - book.lastIn) * 8) / secs / 1000);
      book.bitrateOutKbps = Math.round(((bytesOut - book.lastOut) * 8) / secs / 1000);
      book.lastIn = stream.bytesIn;
      book.lastOut = bytesOut;
      book.lastAt = now;
      const stats: StreamStats = {
        streamName: stream.name, publisherId: stream.publisherId, sessionId: stream.sessionId, at: now,
        bitrateInKbps: book.bitrateInKbps, bitrateOutKbps: book.bitrateOutKbps, viewers: { ...stream.viewers },
        videoFrames: stream.videoFrames, audioFrames: stream.audioFrames, bytesIn: stream.bytesIn, bytesOut,
      };
      this.emitEvent('stream.stats', stats);
    }
  }

  /** Serves FLV play requests, then asks each plugin; false when nobody owns the path. */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return false;
    }
    if (this.httpFlv.handle(req, res, url)) return true;
    if (this.whep?.handle(req, res, url)) return true;
    if (this.whip?.handle(req, res, url)) return true;
    for (const p of this.plugins) {
      try {
        if (p.handleHttp?.(req, res, url)) return true;
      } catch (err) {
        this.log.error({ err, plugin: p.name }, 'plugin handleHttp threw');
        if (!res.headersSent) res.writeHead(500).end();
        return true;
      }
    }
    // Everything under /{app}/ is media's, served or not: such a path carries stream names, which
    // may be keys typed in the wrong place, and must not travel on to other handlers and their logs.
    if (url.pathname.startsWith(this.appPrefix)) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":{"code":"not_found","message":"not found"}}');
      return true;
    }
    return false;
  }

  /** WS-FLV upgrades; false when the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return false;
    }
    return this.wsFlv.handleUpgrade(req, socket, head, url);
  }

  async kickPublisher(streamName: string): Promise<boolean> {
    this.viewers.endParked(streamName); // the show is over: nobody waits for a reconnect
    const stream = this.streams.get(streamName);
    if (!stream) return false;
    stream.kick('kicked');
    return true;
  }

  async kickViewer(viewerId: string): Promise<boolean> {
    return this.viewers.kick(viewerId);
  }

  async listStreams(): Promise<StreamSummary[]> {
    return this.streams.list().map((s) => ({
      streamName: s.name, app: s.app, publisherId: s.publisherId, sessionId: s.sessionId, clientIp: s.clientIp,
      startedAt: s.startedAt, video: s.video, audio: s.audio, viewers: { ...s.viewers },
      bytesIn: s.bytesIn, bytesOut: s.bytesOut, bitrateInKbps: this.books.get(s)?.bitrateInKbps ?? 0,
      keyframeIntervalMs: s.keyframeIntervalMs,
    }));
  }

  private registerMetrics(registry: Registry): void {
    registerMediaMetrics(registry, {
      streamCount: () => this.streams.size,
      publisherCount: () => this.streams.size,
      rtmpConnections: () => this.rtmp.connectionCount,
      viewersByProtocol: () => {
        const v = zeroViewers();
        for (const s of this.streams.list()) for (const k of Object.keys(v) as PlayProtocol[]) v[k] += s.viewers[k];
        return v;
      },
      bytesIn: () => this.closedBytesIn + this.streams.list().reduce((n, s) => n + s.bytesIn, 0),
      bytesOut: () => this.closedBytesOut + this.streams.list().reduce((n, s) => n + s.bytesOut, 0),
      refusals: () => ({ ...this.refused }),
      rtmpRefusals: () => this.rtmp.refusals,
      skips: () => this.viewers.counters.skips,
      evictions: () => this.viewers.counters.evictions,
      flushTicks: () => this.scheduler.ticks,
      flushAlignedTicks: () => this.scheduler.alignedTicks,
      flushCostPerViewerMs: () => this.scheduler.costPerViewerMs,
      flushLagMs: () => this.overload.lagMs,
      overloaded: () => this.overload.isOverloaded(performance.now(), this.scheduler.waitingSince()),
      overloadRefusals: () => ({ ...this.overload.refusals }),
      shedViewers: () => ({ ...this.shedCounts }),
      perStream: (limit) =>
        [...this.books]
          .map(([s, b]) => ({
            name: s.name, bitrateInKbps: b.bitrateInKbps, bitrateOutKbps: b.bitrateOutKbps,
            viewers: Object.values(s.viewers).reduce((a, b) => a + b, 0), keyframeIntervalMs: s.keyframeIntervalMs,
          }))
          .sort((a, b) => b.viewers - a.viewers || b.bitrateInKbps - a.bitrateInKbps)
          .slice(0, limit),
    });
  }

  /** Closes plugins, then every connection and stream. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasStarted = this.state === 'started';
    this.state = 'closed';
    clearInterval(this.statsTimer);
    clearInterval(this.shedTimer);
    for (const p of this.plugins) {
      try {
        await p.close();
      } catch (err) {
        this.log.error({ err, plugin: p.name }, 'plugin close failed');
      }
    }
    this.viewers.closeAll();
    this.whep?.close();
    this.whip?.close();
    this.wsFlv.close();
    this.streams.closeAll();
    if (wasStarted) await this.rtmp.close();
    this.scheduler.close();
  }
}
