import { randomBytes } from 'node:crypto';
import type { MediaStreamTrack, RTCPeerConnection, RTCRtpTransceiver, RtpPacket } from 'werift';
import type { Logger } from '../../../core/logging/logger.js';
import type { PublishEndReason } from '../../../core/media/media-contract.js';
import { encodeAmf0 } from '../../protocols/rtmp/amf0.js';
import { H264Depacketizer, flvAvcFrame, flvAvcSequenceHeader, type AccessUnit } from '../../protocols/webrtc/h264-depacketize.js';
import { createMediaPacket } from '../../stream/packet.js';
import type { Stream } from '../../stream/stream.js';
import type { Publishing } from '../rtmp/publishing.js';
import { answerAsDtlsServer, createPeer, gathered, holdEarlyDtls, preferH264, skipDefaultStun } from '../whep/peer.js';
import { OfferError, type PeerSettings } from '../whep/http.js';
import { AacFeed, AAC_LC_48K_STEREO_HEADER } from './aac-feed.js';

export interface WhipConnDeps {
  peer: PeerSettings;
  log: Logger;
  /** ffmpeg for Opus -> AAC; undefined: the publish carries video only. */
  ffmpegPath: string | undefined;
  /** How long a peer may take from the answer to a connected DTLS transport. */
  connectTimeoutMs: number;
  onClosed(conn: WhipConn): void;
  /** Called once when the peer has connected (the server's count of connecting peers). */
  onConnected(): void;
}

/** At most one PLI (keyframe request) this often. */
const PLI_EVERY_MS = 500;
/**
 * A keyframe is asked for this often: browsers send one at the start and then only when asked,
 * but HLS segments, the GOP cache (a new viewer's start) and recordings' seek points need them
 * (SRS's pli_for_rtmp does the same, every 6 s).
 */
export const KEYFRAME_EVERY_MS = 2000;

/**
 * One WHIP publisher: a werift peer that receives H.264 and Opus and publishes them into the
 * engine as an RTMP publisher would (a Publishing on a registry Stream): H.264 depacketized into
 * FLV AVC frames (the SPS/PPS as the sequence header), Opus turned into AAC by one ffmpeg.
 * Timestamps: each track's RTP clock from the wall-clock moment its first packet arrived after
 * the publish began (no RTCP sender-report sync: audio and video line up to their arrival jitter).
 */
export class WhipConn {
  readonly id = randomBytes(16).toString('base64url');
  private readonly pc: RTCPeerConnection;
  private videoTr: RTCRtpTransceiver | undefined;
  private audioTr: RTCRtpTransceiver | undefined;
  private stream: Stream | undefined;
  private publishing: Publishing | undefined;
  private readonly depack = new H264Depacketizer();
  private aac: AacFeed | undefined;
  private t0 = 0;
  private videoBase = -1;
  private videoLastRtp = 0;
  private videoExt = 0;
  private audioBase = -1;
  private sentHeaders = false;
  private ffmpegHeaderSeen = false;
  private lastPli = 0;
  private closed = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private disconnectTimer: NodeJS.Timeout | undefined;
  private keyframeTimer: NodeJS.Timeout | undefined;
  private videoSsrc: number | undefined;

  constructor(private readonly deps: WhipConnDeps) {
    this.pc = createPeer(deps.peer);
  }

  get streamName(): string | undefined {
    return this.stream?.name;
  }

  /** Answers the offer: receive H.264 (415 without it) and Opus; every gathered candidate, no trickle. */
  async answer(offerSdp: string): Promise<string> {
    // werift announces the offer's tracks while it applies the offer.
    this.pc.onTrack.subscribe((track) => this.onTrack(track));
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    } catch (err) {
      throw new OfferError(400, `offer not usable: ${(err as Error).message}`);
    }
    for (const tr of this.pc.getTransceivers()) {
      if (tr.kind === 'video' && !this.videoTr && preferH264(tr, '42e01f')) {
        tr.setDirection('recvonly');
        this.videoTr = tr;
      } else if (tr.kind === 'audio' && !this.audioTr && tr.codecs.some((c) => c.mimeType.toLowerCase() === 'audio/opus')) {
        tr.setDirection('recvonly');
        this.audioTr = tr;
      } else {
        tr.setDirection('inactive');
      }
    }
    if (!this.videoTr) throw new OfferError(415, 'WHIP takes H.264 video (packetization-mode 1); the offer has none (a VP8/VP9/AV1-only encoder: choose H.264)');
    answerAsDtlsServer(this.pc);
    skipDefaultStun(this.pc, this.deps.peer);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    holdEarlyDtls(this.pc); // the publisher's DTLS hello may come before our side of ICE is done
    await gathered(this.pc, 2000);
    this.pc.connectionStateChange.subscribe((s) => this.onState(s));
    this.connectTimer = setTimeout(() => {
      this.deps.log.info({ conn: this.id }, 'whip peer never connected');
      this.close('error');
    }, this.deps.connectTimeoutMs);
    return this.pc.localDescription!.sdp;
  }

  /** True when the answer receives audio (the stream's metadata announces AAC). */
  get hasAudio(): boolean {
    return this.audioTr !== undefined && this.deps.ffmpegPath !== undefined;
  }

  /** The publish was allowed and its stream exists: media may flow into it from now on. */
  attach(stream: Stream, publishing: Publishing): void {
    this.stream = stream;
    this.publishing = publishing;
    this.t0 = performance.now();
    // Metadata announces both tracks, so HTTP-FLV headers and readiness wait for the audio too.
    const meta = this.hasAudio
      ? { videocodecid: 7, audiocodecid: 10, audiosamplerate: 48000, stereo: true, encoder: 'onair WHIP' }
      : { videocodecid: 7, encoder: 'onair WHIP' };
    stream.push(createMediaPacket(18, 0, encodeAmf0('onMetaData', meta)));
    stream.on('kick', (reason) => this.close(reason));
  }

  private onTrack(track: MediaStreamTrack): void {
    // Called while the offer is applied, before the answer chose what it takes: checked per packet.
    if (track.kind === 'video') track.onReceiveRtp.subscribe((rtp) => this.onVideo(rtp, track.ssrc));
    else if (track.kind === 'audio') track.onReceiveRtp.subscribe((rtp) => this.onOpus(rtp));
  }

  private now(): number {
    return performance.now() - this.t0;
  }

  private onVideo(rtp: RtpPacket, ssrc: number | undefined): void {
    if (this.closed || !this.publishing) return;
    const frames = this.depack.push({ sequenceNumber: rtp.header.sequenceNumber, timestamp: rtp.header.timestamp, marker: rtp.header.marker, payload: rtp.payload });
    this.videoSsrc = ssrc ?? rtp.header.ssrc;
    if (this.depack.needKeyframe) this.requestKeyframe(this.videoSsrc);
    for (const au of frames) this.publishFrame(au);
  }

  private publishFrame(au: AccessUnit): void {
    const publishing = this.publishing!;
    if (this.videoBase < 0) {
      this.videoBase = Math.max(0, this.now());
      this.videoLastRtp = au.rtpTimestamp;
    }
    this.videoExt += (au.rtpTimestamp - this.videoLastRtp) | 0;
    this.videoLastRtp = au.rtpTimestamp;
    const ts = Math.max(0, Math.round(this.videoBase + this.videoExt / 90));
    if (au.configChanged || !this.sentHeaders) {
      publishing.onMedia(9, ts, flvAvcSequenceHeader(this.depack.sps!, this.depack.pps!));
      if (!this.sentHeaders && this.hasAudio) publishing.onMedia(8, ts, Buffer.from(AAC_LC_48K_STEREO_HEADER));
      this.sentHeaders = true;
    }
    publishing.onMedia(9, ts, flvAvcFrame(au.nalus, au.isKeyframe));
  }

  private requestKeyframe(ssrc: number): void {
    const now = Date.now();
    if (now - this.lastPli < PLI_EVERY_MS || !this.videoTr) return;
    this.lastPli = now;
    this.videoTr.receiver.sendRtcpPLI(ssrc).catch(() => {});
  }

  private onOpus(rtp: RtpPacket): void {
    if (this.closed || !this.publishing || !this.hasAudio) return;
    if (this.audioBase < 0) this.audioBase = Math.max(0, this.now());
    this.aac ??= new AacFeed(this.deps.ffmpegPath!, this.deps.log.child({ mod: 'whip-aac' }), (body, ts) => this.onAac(body, ts));
    this.aac.push(rtp.payload, rtp.header.timestamp);
  }

  private onAac(body: Buffer, ts: number): void {
    if (this.closed || !this.publishing || !this.sentHeaders) return;
    if (body[1] === 0) {
      // The sequence header went out with the video's; ffmpeg's says the same unless it chose otherwise.
      const same = this.ffmpegHeaderSeen || body.subarray(2, 4).equals(AAC_LC_48K_STEREO_HEADER.subarray(2, 4));
      this.ffmpegHeaderSeen = true;
      if (same) return;
    }
    this.publishing.onMedia(8, Math.max(0, Math.round(this.audioBase + ts)), body);
  }

  private onState(s: string): void {
    if (this.closed) return;
    if (s === 'connected') {
      this.deps.onConnected();
      clearTimeout(this.connectTimer);
      this.keyframeTimer ??= setInterval(() => this.videoSsrc !== undefined && this.requestKeyframe(this.videoSsrc), KEYFRAME_EVERY_MS);
      clearTimeout(this.disconnectTimer);
      this.disconnectTimer = undefined;
    } else if (s === 'disconnected') {
      this.disconnectTimer ??= setTimeout(() => this.close('closed'), 5000);
    } else if (s === 'failed' || s === 'closed') {
      this.close('closed');
    }
  }

  /** Ends the publish (publish.ended with `reason`) and the peer. Idempotent. */
  close(reason: PublishEndReason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    clearTimeout(this.disconnectTimer);
    clearInterval(this.keyframeTimer);
    this.aac?.stop();
    this.publishing?.end(reason);
    this.pc.close().catch((err) => this.deps.log.warn({ err }, 'closing a whip peer failed'));
    this.deps.onClosed(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
