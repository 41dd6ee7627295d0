import type { Logger } from '../../../core/logging/logger.js';
import type { PublishEndReason } from '../../../core/media/media-contract.js';
import { Amf0Error } from '../../protocols/rtmp/rtmp-error.js';
import { MsgType, type RtmpMessage } from '../../protocols/rtmp/message-types.js';
import * as M from '../../protocols/rtmp/messages.js';
import type { Stream } from '../../stream/stream.js';
import type { StreamRegistry } from '../../stream/registry.js';
import { createMediaPacket } from '../../stream/packet.js';

export interface PublishingOptions {
  /** No audio or video this long (after the first) drops the publisher. */
  idleTimeoutMs: number;
  /** No audio or video at all this long after the publish was allowed drops it: it never went live. */
  firstMediaTimeoutMs: number;
  log: Logger;
  /** Called when a deadline passed: the connection closes with reason 'idle'. */
  onIdle: () => void;
}

/**
 * The publishing half of an RTMP connection: turns its media and data messages into hub packets
 * for the stream, and watches two deadlines, the first audio or video (an encoder that published
 * and then cannot send, such as ffmpeg with a codec FLV does not carry, is not live) and silence.
 */
export class Publishing {
  private lastMediaAt = Date.now();
  private gotMedia = false;
  private readonly firstMediaTimer: NodeJS.Timeout;
  private readonly idleTimer: NodeJS.Timeout;
  private ended = false;

  constructor(readonly stream: Stream, private readonly o: PublishingOptions) {
    this.firstMediaTimer = setTimeout(() => {
      o.log.warn({ stream: stream.name }, 'no audio or video after publish: dropping the publisher');
      o.onIdle();
    }, o.firstMediaTimeoutMs);
    this.idleTimer = setInterval(() => {
      if (Date.now() - this.lastMediaAt > o.idleTimeoutMs) o.onIdle();
    }, Math.min(1000, o.idleTimeoutMs));
  }

  onMedia(type: number, timestamp: number, payload: Buffer): void {
    if (this.ended || payload.length === 0) return;
    this.lastMediaAt = Date.now();
    if (!this.gotMedia) {
      this.gotMedia = true;
      clearTimeout(this.firstMediaTimer);
    }
    this.stream.push(createMediaPacket(type as 8 | 9, timestamp, payload));
  }

  onData(msg: RtmpMessage): void {
    if (this.ended) return;
    const payload = msg.typeId === MsgType.DataAmf3 && msg.payload[0] === 0 ? msg.payload.subarray(1) : msg.payload;
    let body: Buffer;
    try {
      body = M.stripSetDataFrame(payload);
    } catch (err) {
      if (err instanceof Amf0Error) return; // malformed data message: dropped, the publish goes on
      throw err;
    }
    // Only metadata travels to viewers; other data messages (cue points, |RtmpSampleAccess) do not.
    if (M.parseMetadata(body)) this.stream.push(createMediaPacket(18, 0, body));
  }

  /** Ends the publish (publish.ended) and its deadlines. Idempotent. */
  end(reason: PublishEndReason): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.firstMediaTimer);
    clearInterval(this.idleTimer);
    this.stream.close(reason);
  }
}

export interface PublishedStreamInit extends Omit<PublishingOptions, 'log'> {
  streams: StreamRegistry;
  /** The publish hook's allow: the public stream name, recording, the control plane's session. */
  decision: { streamName: string; record: boolean; sessionId?: string };
  app: string;
  publisherId: string;
  clientIp: string;
  gopCacheBytes: number;
  log: Logger;
}

/**
 * A publish the hook allowed, on any ingest protocol (RTMP, WHIP): the registry's Stream
 * (publish.started; a previous publisher of the name is replaced) and the Publishing that feeds
 * it and watches its deadlines.
 */
export function createPublishedStream(o: PublishedStreamInit): Publishing {
  const stream = o.streams.create({
    name: o.decision.streamName,
    app: o.app,
    publisherId: o.publisherId,
    sessionId: o.decision.sessionId,
    record: o.decision.record,
    clientIp: o.clientIp,
    gopCacheBytes: o.gopCacheBytes,
    log: o.log,
  });
  return new Publishing(stream, { idleTimeoutMs: o.idleTimeoutMs, firstMediaTimeoutMs: o.firstMediaTimeoutMs, log: o.log, onIdle: o.onIdle });
}
