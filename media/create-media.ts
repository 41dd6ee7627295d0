import type { Registry } from 'prom-client';
import type { OnairConfig } from '../core/config/schema.js';
import type { Logger } from '../core/logging/logger.js';
import type { StreamHooks } from '../core/media/media-contract.js';
import { MediaEngine, type MediaEngineTuning } from './engine.js';
import type { MediaPlugin } from './plugin.js';
import { Recorder } from './recording/recorder.js';
import { FrameGrabber } from './frames/frame-grabber.js';
import { HlsServer } from './servers/hls/server.js';

export interface CreateMediaOptions {
  config: OnairConfig;
  /** In-process control (onair.ts) or control over HTTP (media/main.ts). */
  hooks: StreamHooks;
  log: Logger;
  metrics?: Registry;
  tuning?: Partial<MediaEngineTuning>;
}

/**
 * The plugins the configuration asks for, in start order: the frame grabber (ONAIR_FRAMES) first,
 * so its /{app}/{name}/frame.jpg is answered before HLS claims the folder; the recorder; then HLS
 * (ONAIR_HLS).
 */
export function mediaPlugins(config: OnairConfig): MediaPlugin[] {
  return [...(config.media.frames ? [new FrameGrabber()] : []), new Recorder(), ...(config.media.hls ? [new HlsServer()] : [])];
}

/**
 * The one way to build the media engine with its plugins, for every composition root: the
 * all-in-one process (onair.ts) and the media service (media/main.ts). Before it the two roots
 * built different plugin sets (the service served HLS even with ONAIR_HLS=false).
 */
export function createMedia(options: CreateMediaOptions): MediaEngine {
  return new MediaEngine({ ...options, plugins: mediaPlugins(options.config) });
}
