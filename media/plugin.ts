import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logging/logger.js';
import type { OnairConfig } from '../core/config/schema.js';
import type { MediaEventName, MediaEvents, PlayProtocol, StreamHooks } from '../core/media/media-contract.js';
import type { StreamRegistryView } from './stream/stream-view.js';

// The stream views live with the streams (stream/ never imports the engine's root); plugins name them from here.
export type { LiveStreamView, StreamRegistryEvents, StreamRegistryView } from './stream/stream-view.js';

export interface MediaPluginContext {
  config: OnairConfig;
  log: Logger;
  streams: StreamRegistryView;
  hooks: StreamHooks;
  /** Reports an event through the engine (in-process listeners, or signed HTTP callbacks). */
  emit<K extends MediaEventName>(name: K, payload: MediaEvents[K]): void;
  /** Admission control (the engine's OverloadGuard): false while the engine is behind, so a new viewer is refused (counted). */
  admitViewer?(protocol: PlayProtocol): boolean;
}

/**
 * An optional part of the engine that rides on live streams: the HLS muxer, the recorder,
 * screenshots. The engine starts plugins after its own servers and closes them before.
 */
export interface MediaPlugin {
  readonly name: string;
  start(ctx: MediaPluginContext): Promise<void> | void;
  /** Serves a request it owns (e.g. /live/{name}/index.m3u8) and returns true; false to pass. */
  handleHttp?(req: IncomingMessage, res: ServerResponse, url: URL): boolean;
  close(): Promise<void>;
}
