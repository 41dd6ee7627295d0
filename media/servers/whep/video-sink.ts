import { FLV_TAG_HEADER_SIZE, FLV_TAG_VIDEO } from '../../protocols/flv/flv-tag.js';
import { accessUnitPayloads, parseAvcConfig, readFlvAvc, type AvcConfig } from '../../protocols/webrtc/h264-rtp.js';
import type { ViewerSink } from '../../stream/viewer-session.js';

/** Where the sink's RTP goes: one peer's SRTP sender (SrtpSender). */
export interface RtpOut {
  send(payload: Buffer, seq: number, timestamp: number, marker: boolean): boolean;
}

/**
 * RTP payloads of each FLV video tag, made once and shared by every WebRTC viewer of the stream
 * (keyed by the packet's shared FLV tag buffer, so it goes when the packet goes).
 */
const payloadCache = new WeakMap<Buffer, { config: AvcConfig; payloads: Buffer[] }>();
/**
 * The AVC configuration of each sequence-header tag, parsed once for every viewer: the payload
 * cache is valid for the configuration object it was made with, so viewers must share that object
 * (with one parse per viewer each viewer missed the cache and packetized every frame again).
 */
const configCache = new WeakMap<Buffer, AvcConfig | undefined>();

function sharedConfig(tag: Buffer, record: Buffer): AvcConfig | undefined {
  if (!configCache.has(tag)) configCache.set(tag, parseAvcConfig(record));
  return configCache.get(tag);
}

export interface VideoSinkEvents {
  /** The first frame with a non-zero composition time: the stream has B-frames. */
  onBFrames(): void;
  /** The first frame went out (the viewer's start-up keyframe). */
  onFirstFrame?(): void;
}

/**
 * The start-up burst (the GOP cache: the latest keyframe and the frames since) is stamped this many
 * times faster than it was recorded, so the browser decodes it at once and shows the live picture
 * (a 2 s GOP takes 67 ms) instead of playing the GOP's age behind live for the rest of the session.
 */
export const CATCH_UP_SPEEDUP = 30;

/**
 * The ViewerSink of a WebRTC viewer's video: ViewerSession hands it the shared FLV tags (one per
 * write: framesWrites), it sends each AVC frame as RTP through the peer's SrtpSender (SRTP and the
 * 12-byte header are the only per-viewer work). So WebRTC viewers get ViewerSession's bounded
 * queue, skip-to-keyframe and eviction like the FLV ones: a frame counts as sent once its packets
 * are handed to the UDP socket (at once: UDP has no backpressure to wait for).
 *
 * - Sequence headers update the SPS/PPS, sent in front of every keyframe that lacks them.
 * - RTP timestamps are the FLV decode timestamps on the 90 kHz clock, except the start-up burst's,
 *   squeezed towards the live edge (CATCH_UP_SPEEDUP): the viewer starts at once on the cached
 *   keyframe and is at live a few frames later, not the GOP's age behind. B-frames (composition time
 *   != 0) are sent in decode order stamped with the decode time: browsers decode them, but
 *   WebRTC has no reordering, so motion judders; encoders should use no B-frames for WebRTC
 *   (x264 tune zerolatency, OBS "Baseline" or bframes=0). The first such frame is reported once.
 * - Audio tags are skipped here (the Opus track has its own feed), as is script data.
 */
export class VideoRtpSink implements ViewerSink {
  readonly framesWrites = true;
  private config: AvcConfig | undefined;
  private seq = Math.floor(Math.random() * 0xffff);
  private sawBFrames = false;
  bytesSent = 0;
  framesSent = 0;

  constructor(
    private readonly out: RtpOut,
    private readonly events: VideoSinkEvents,
    /** The stream's live edge when the viewer starts (Stream.newestTimestamp): older frames are the burst. */
    private readonly liveTs = -1,
  ) {}

  /** The RTP timestamp (90 kHz) of a frame at `ts` ms: start-up frames squeezed towards the live edge. */
  rtpTimestamp(ts: number): number {
    const behind = this.liveTs >= 0 ? (this.liveTs - ts) | 0 : 0;
    const ticks = behind > 0 ? this.liveTs * 90 - Math.round((behind * 90) / CATCH_UP_SPEEDUP) : ts * 90;
    return ((ticks % 0x1_0000_0000) + 0x1_0000_0000) % 0x1_0000_0000;
  }

  write(tag: Buffer, done?: (err?: Error | null) => void): void {
    if (tag.length < FLV_TAG_HEADER_SIZE || tag[0] !== FLV_TAG_VIDEO) {
      done?.();
      return;
    }
    const size = tag.readUIntBE(1, 3);
    const ts = (tag.readUIntBE(4, 3) | (tag[7]! << 24)) >>> 0;
    const avc = readFlvAvc(tag.subarray(FLV_TAG_HEADER_SIZE, FLV_TAG_HEADER_SIZE + size));
    if (!avc) {
      done?.();
      return;
    }
    if (avc.packetType === 0) {
      this.config = sharedConfig(tag, avc.data) ?? this.config;
      done?.();
      return;
    }
    if (avc.packetType !== 1 || !this.config) {
      done?.();
      return;
    }
    if (avc.compositionTime !== 0 && !this.sawBFrames) {
      this.sawBFrames = true;
      this.events.onBFrames();
    }
    let cached = payloadCache.get(tag);
    if (!cached || cached.config !== this.config) {
      cached = { config: this.config, payloads: accessUnitPayloads(avc.data, this.config, avc.isKeyframe) };
      payloadCache.set(tag, cached);
    }
    const payloads = cached.payloads;
    if (payloads.length === 0) {
      done?.();
      return;
    }
    const timestamp = this.rtpTimestamp(ts);
    for (let i = 0; i < payloads.length; i++) {
      this.seq = (this.seq + 1) & 0xffff;
      this.bytesSent += payloads[i]!.length + 12;
      this.out.send(payloads[i]!, this.seq, timestamp, i === payloads.length - 1);
    }
    if (this.framesSent++ === 0) this.events.onFirstFrame?.();
    done?.();
  }

  cork(): void {}
  uncork(): void {}

  /** Nothing waits: every packet is in the socket when write returns. */
  get writableLength(): number {
    return 0;
  }
}
