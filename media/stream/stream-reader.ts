import type { PlayProtocol } from '../../core/media/media-contract.js';
import type { MediaPacket } from './media-packet.js';
import type { SharedRun } from './shared-run.js';

/**
 * Whatever consumes a live stream: a viewer connection (RTMP, HTTP-FLV, WS-FLV) or an internal
 * sink (recorder, HLS ffmpeg feed). The Stream calls these synchronously on the publisher's
 * data path, so they must never block or throw; a reader that falls behind handles its own
 * backpressure (bounded queue, skip to the next keyframe, or ask to be dropped).
 */
export interface StreamReader {
  readonly id: string;
  /** For viewers, the protocol; internal sinks use 'internal' and are not counted as viewers. */
  readonly kind: PlayProtocol | 'internal';
  /**
   * Called for every packet. On addReader the Stream first replays its start-up cache: the
   * metadata, the sequence headers, then the GOP from the latest keyframe, so playback starts at once.
   */
  onPacket(packet: MediaPacket): void;
  /**
   * Called once the reader is added (after the start-up cache): the stream's shared run, which a
   * viewer in step may follow instead of getting onPacket for each packet (ViewerSession). Optional.
   */
  attachRun?(run: SharedRun): void;
  /** The publisher went away (or the stream was kicked): finish and close. */
  onStreamEnd(): void;
  /** Bytes sent so far (viewers); the stream sums them into its bytes-out figure. Optional for sinks. */
  readonly bytesOut?: number;
}
