import type { AudioInfo, VideoInfo } from '../../core/media/media-contract.js';
import type { TypedEmitter } from '../../core/events/typed-emitter.js';
import type { StreamReader } from './stream-reader.js';

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
