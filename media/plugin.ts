import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logging/logger.js';
import type { OnairConfig } from '../core/config/schema.js';
import type { MediaEventName, MediaEvents, StreamHooks, VideoInfo, AudioInfo } from '../core/media/media-contract.js';
import type { TypedEmitter } from '../core/events/typed-emitter.js';
import type { StreamReader } from './stream/stream-reader.js';

/** A live stream as plugins see it: who publishes it, and a way to read it. */
export interface LiveStreamView {
  /** Public name viewers play by (the room id). */
  readonly name: string;
  readonly app: string;
  readonly publisherId: string;
  readonly sessionId?: string;
  /** Recording was asked for by the publish decision. */
  readonly record: boolean;
  readonly startedAt: number;
  readonly video?: VideoInfo;
  readonly audio?: AudioInfo;
  /** Attaches a reader; it first receives the start-up cache (metadata, sequence headers, GOP). */
  addReader(reader: StreamReader): void;
  removeReader(reader: StreamReader): void;
}

export interface StreamRegistryEvents {
  /** A publish was authorized and media is about to flow. */
  publish: [LiveStreamView];
  /** The publisher is gone; readers have been told (onStreamEnd). */
  unpublish: [LiveStreamView];
}

export interface StreamRegistryView extends TypedEmitter<StreamRegistryEvents> {
  get(name: string): LiveStreamView | undefined;
}

export interface MediaPluginContext {
  config: OnairConfig;
  log: Logger;
  streams: StreamRegistryView;
  hooks: StreamHooks;
  /** Reports an event through the engine (in-process listeners, or signed HTTP callbacks). */
  emit<K extends MediaEventName>(name: K, payload: MediaEvents[K]): void;
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
