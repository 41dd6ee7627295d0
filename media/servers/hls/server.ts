import type { IncomingMessage, ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../../core/logging/logger.js';
import type { LiveStreamView, MediaPlugin, MediaPluginContext } from '../../plugin.js';
import { handleHlsRequest, HLS_STREAM_NAME } from './http.js';
import { HlsSession } from './session.js';
import { InProcessHlsSession } from './inprocess-session.js';
import { HlsViewerTracker } from './viewers.js';
import { AddressSlots, ClientAddresses } from '../../stream/players-per-address.js';

/** A stream's HLS output: an ffmpeg child (HlsSession) or the in-process segmenter. */
type AnySession = HlsSession | InProcessHlsSession;

export interface HlsServerOptions {
  /** Segments kept in the live playlist (default 6). */
  listSize?: number;
  /** ffmpeg crashes tolerated per publish (default 3). */
  maxRestarts?: number;
  restartDelayMs?: number;
  /** How long ffmpeg may take to exit after its input ends (default 3 s). */
  stopGraceMs?: number;
  /** Bytes ffmpeg's stdin may hold before the feed skips to the next keyframe (default 8 MiB). */
  maxBufferedBytes?: number;
  /** An HLS viewer that made no request this long has left (default 4 segments, at least 10 s). */
  viewerIdleMs?: number;
}

/**
 * The HLS plugin: for every published stream a segmenter turns the stream into a live HLS
 * playlist under `{dataDir}/hls/{name}/`, served at `/{app}/{name}/index.m3u8` with the play
 * check on every request. The folder goes away when the stream ends. The segmenter is the
 * engine's own MPEG-TS muxer (ONAIR_HLS_SEGMENTER=inprocess, the default) or one ffmpeg child per
 * stream (ffmpeg). While the engine is behind, a new viewer's first playlist request gets 503.
 */
export class HlsServer implements MediaPlugin {
  readonly name = 'hls';
  private ctx: MediaPluginContext | undefined;
  private log: Logger | undefined;
  private viewers: HlsViewerTracker | undefined;
  /** The client of a request (behind ONAIR_TRUSTED_PROXIES the one X-Forwarded-For names) and ONAIR_MEDIA_PLAYERS_PER_ADDRESS. */
  private addresses: ClientAddresses | undefined;
  private readonly sessions = new Map<string, AnySession>();
  /** Sessions still stopping, by stream name: a republish waits for its folder to be cleaned. */
  private readonly closing = new Map<string, Promise<void>>();
  private root = '';

  constructor(private readonly options: HlsServerOptions = {}) {}

  start(ctx: MediaPluginContext): void {
    if (!ctx.config.media.hls) return;
    this.ctx = ctx;
    this.log = ctx.log.child({ mod: 'hls' });
    this.root = join(ctx.config.dataDir, 'hls');
    // Folders left by a process that died without cleaning up; every live folder is ours to make.
    rmSync(this.root, { recursive: true, force: true });
    const segmentMs = ctx.config.media.hlsSegment;
    this.addresses = new ClientAddresses(ctx.config.media.playersPerAddress, ctx.config.http.trustedProxies);
    this.viewers = new HlsViewerTracker(
      (name, payload) => ctx.emit(name, payload),
      this.options.viewerIdleMs ?? Math.max(10_000, 4 * segmentMs),
      20_000,
      (name, count) => this.publishViewerCount(name, count),
      new AddressSlots(this.addresses),
    );
    ctx.streams.on('publish', (view) => this.onPublish(view));
    ctx.streams.on('unpublish', (view) => this.onUnpublish(view));
  }

  handleHttp(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const ctx = this.ctx;
    if (!ctx || !this.viewers || !this.log) return false;
    return handleHlsRequest(req, res, url, {
      app: ctx.config.rtmp.app,
      root: this.root,
      hooks: ctx.hooks,
      hookTimeoutMs: ctx.config.media.hookTimeout,
      isServing: (name) => this.sessions.has(name),
      playlistText: (name) => {
        const s = this.sessions.get(name);
        return s instanceof InProcessHlsSession ? s.playlistText : undefined;
      },
      admitViewer: ctx.admitViewer ? () => ctx.admitViewer!('hls') : undefined,
      viewers: this.viewers,
      clientOf: (r) => this.addresses!.clientOf(r),
      log: this.log,
    });
  }

  /** The live session of a stream (tests look at its ffmpeg pid and restarts, or its segments). */
  session(streamName: string): AnySession | undefined {
    return this.sessions.get(streamName);
  }

  /** HLS viewers currently counted for a stream (approximate: see HlsViewerTracker). */
  viewerCount(streamName: string): number {
    return this.viewers?.count(streamName) ?? 0;
  }

  /**
   * HLS viewers are not hub readers, so the hub cannot count them; when the live stream exposes
   * its per-protocol viewer counts (the engine's Stream does), the HLS figure is written there so
   * stream.stats and listStreams include it.
   */
  private publishViewerCount(streamName: string, count: number): void {
    const view = this.ctx?.streams.get(streamName) as { viewers?: Record<string, number> } | undefined;
    if (view?.viewers && typeof view.viewers.hls === 'number') view.viewers.hls = count;
  }

  async close(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all([...sessions.map((s) => s.close()), ...this.closing.values()]);
    this.viewers?.close();
  }

  private onPublish(view: LiveStreamView): void {
    const ctx = this.ctx!;
    if (!HLS_STREAM_NAME.test(view.name)) {
      this.log!.warn({ stream: view.name }, 'stream name is not HLS-safe; no HLS for it');
      return;
    }
    // A republish that replaced a live stream of the same name before its unpublish arrived.
    const current = this.sessions.get(view.name);
    if (current) this.retire(current);
    const seconds = Math.min(2, Math.max(1, Math.round(ctx.config.media.hlsSegment / 1000)));
    const dir = join(this.root, view.name);
    const log = this.log!.child({ stream: view.name });
    const listSize = this.options.listSize ?? 6;
    const session: AnySession = ctx.config.media.hlsSegmenter === 'inprocess'
      ? new InProcessHlsSession(view, { dir, segmentSeconds: seconds, listSize, log })
      : new HlsSession(view, {
        ffmpegPath: ctx.config.media.ffmpegPath,
        dir,
        segmentSeconds: seconds,
        listSize,
        maxRestarts: this.options.maxRestarts ?? 3,
        restartDelayMs: this.options.restartDelayMs ?? 500,
        stopGraceMs: this.options.stopGraceMs ?? 3000,
        maxBufferedBytes: this.options.maxBufferedBytes ?? 8 * 1024 * 1024,
        log,
      });
    this.sessions.set(view.name, session);
    const start = () => {
      if (this.sessions.get(view.name) !== session) return; // unpublished meanwhile
      try {
        session.start();
      } catch (err) {
        this.sessions.delete(view.name);
        this.log!.error({ err, stream: view.name }, 'HLS session failed to start');
      }
    };
    const previous = this.closing.get(view.name);
    if (previous) void previous.then(start);
    else start();
  }

  private onUnpublish(view: LiveStreamView): void {
    const session = this.sessions.get(view.name);
    if (!session || session.view !== view) return;
    this.retire(session);
  }

  /** Stops a session in the background; a republish of its name waits for it (same folder). */
  private retire(session: AnySession): void {
    const name = session.view.name;
    this.sessions.delete(name);
    this.viewers!.endStream(name);
    const done = session.close().catch((err: unknown) => this.log!.error({ err, stream: name }, 'HLS session close failed'));
    this.closing.set(name, done);
    void done.then(() => {
      if (this.closing.get(name) === done) this.closing.delete(name);
    });
  }
}
