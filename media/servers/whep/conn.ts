import { randomBytes } from 'node:crypto';
import { MediaStream, type RTCPeerConnection, type RTCRtpSender } from 'werift';
import type { Logger } from '../../../core/logging/logger.js';
import type { ViewerRegistry } from '../../stream/viewer-registry.js';
import type { ViewerSession } from '../../stream/viewer-session.js';
import type { Stream } from '../../stream/stream.js';
import { parseAvcConfig, readFlvAvc } from '../../protocols/webrtc/h264-rtp.js';
import { answerAsDtlsServer, createPeer, gathered, holdEarlyDtls, preferH264, skipDefaultStun } from './peer.js';
import { OfferError, type PeerSettings } from './http.js';
import { VideoRtpSink } from './video-sink.js';
import { SrtpSender } from './srtp-sender.js';
import type { OpusFeeds } from './opus-feed.js';

export interface WhepConnDeps {
  viewers: ViewerRegistry;
  opus: OpusFeeds | undefined;
  peer: PeerSettings;
  log: Logger;
  /** How long a peer may take from the answer to a connected DTLS transport. */
  connectTimeoutMs: number;
  /**
   * A connected peer that sends no RTCP for this long is gone (a closed tab says nothing; browsers
   * send receiver reports about every second while they receive).
   */
  silenceTimeoutMs: number;
  onClosed(conn: WhepConn): void;
}

/**
 * When each step of a viewer's start happened, in ms after its offer arrived (-1: not yet). Logged
 * once with the first frame ('webrtc viewer started'): a slow time to first frame names its part.
 */
export interface WhepPhases {
  /** The answer was made (candidates gathered), just before the 201. */
  answered: number;
  /** ICE has a nominated pair (the server's side of the checks). */
  ice: number;
  /** DTLS done: the peer is connected and the viewer starts. */
  dtls: number;
  /** The first video frame (the cached GOP's keyframe) was handed to the socket. */
  firstFrame: number;
}

/**
 * One WHEP viewer: a werift peer that sends the stream's H.264 (through a ViewerSession of the
 * shared viewer registry, so it is counted, kicked and bounded like every other viewer) and its
 * audio as Opus (a listener of the stream's shared transcoder). The viewer session starts once
 * DTLS is connected, with the start-up cache (SPS/PPS, the GOP from its keyframe).
 */
export class WhepConn {
  readonly id = randomBytes(16).toString('base64url');
  private readonly pc: RTCPeerConnection;
  private video: RTCRtpSender | undefined;
  private audio: RTCRtpSender | undefined;
  /** Our SRTP send path of each sender (werift's sendRtp is not used). */
  private videoOut: SrtpSender | undefined;
  private audioOut: SrtpSender | undefined;
  private session: ViewerSession | undefined;
  private unsubscribeAudio: (() => void) | undefined;
  private audioSeq = Math.floor(Math.random() * 0xffff);
  private closed = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private disconnectTimer: NodeJS.Timeout | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  private lastRtcpAt = Date.now();
  /** DTLS packets that came before werift's DTLS server started (held, then handed to it). */
  private earlyDtls: () => number = () => 0;
  readonly createdAt = Date.now();
  readonly phases: WhepPhases = { answered: -1, ice: -1, dtls: -1, firstFrame: -1 };
  /** Called once when the peer has connected (the server's count of connecting peers). */
  onConnected: (() => void) | undefined;

  constructor(
    private stream: Stream,
    private readonly clientIp: string,
    private readonly viewerId: string | undefined,
    private readonly deps: WhepConnDeps,
    /** performance.now() when the offer's POST arrived (the phases count from it). */
    private readonly offerAt = performance.now(),
  ) {
    this.pc = createPeer(deps.peer);
  }

  private since(): number {
    return Math.round(performance.now() - this.offerAt);
  }

  get streamName(): string {
    return this.stream.name;
  }

  /** Answers the offer (with every gathered candidate: no trickle) and waits for the peer. */
  async answer(offerSdp: string): Promise<string> {
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    } catch (err) {
      throw new OfferError(400, `offer not usable: ${(err as Error).message}`);
    }
    const ms = new MediaStream({ id: `onair-${this.stream.name}` });
    const profile = this.profileLevelId();
    for (const tr of this.pc.getTransceivers()) {
      if (tr.kind === 'video' && !this.video && preferH264(tr, profile)) {
        tr.setDirection('sendonly');
        tr.sender.setStreams([ms]);
        this.video = tr.sender;
      } else if (tr.kind === 'audio' && !this.audio && this.deps.opus && this.stream.audio?.codec === 'AAC') {
        tr.setDirection('sendonly');
        tr.sender.setStreams([ms]);
        this.audio = tr.sender;
      } else {
        tr.setDirection('inactive');
      }
    }
    if (!this.video) throw new OfferError(415, 'the offer has no H.264 (packetization-mode 1) video');
    this.video.onRtcp.subscribe(() => void (this.lastRtcpAt = Date.now()));
    this.audio?.onRtcp.subscribe(() => void (this.lastRtcpAt = Date.now()));
    answerAsDtlsServer(this.pc);
    skipDefaultStun(this.pc, this.deps.peer);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.earlyDtls = holdEarlyDtls(this.pc);
    await gathered(this.pc, 2000);
    this.pc.connectionStateChange.subscribe((s) => this.onState(s));
    this.pc.iceConnectionStateChange.subscribe((s) => {
      if (s === 'connected' && this.phases.ice < 0) this.phases.ice = this.since();
    });
    this.phases.answered = this.since();
    this.connectTimer = setTimeout(() => {
      this.deps.log.info({ conn: this.id }, 'webrtc peer never connected');
      this.close();
    }, this.deps.connectTimeoutMs);
    return this.pc.localDescription!.sdp;
  }

  /** profile-level-id of the stream's SPS, when the stream has sent its AVC configuration. */
  private profileLevelId(): string | undefined {
    const header = this.stream.videoSequenceHeader;
    const avc = header ? readFlvAvc(header.body) : undefined;
    return avc ? parseAvcConfig(avc.data)?.profileLevelId : undefined;
  }

  private onState(s: string): void {
    if (this.closed) return;
    if (s === 'connected') {
      if (this.phases.dtls < 0) this.phases.dtls = this.since();
      clearTimeout(this.connectTimer);
      clearTimeout(this.disconnectTimer);
      this.disconnectTimer = undefined;
      this.onConnected?.();
      if (!this.session) this.startViewer();
      this.watchSilence();
    } else if (s === 'disconnected') {
      // Consent may come back (a network change); give it a few seconds.
      this.disconnectTimer ??= setTimeout(() => this.close(), 5000);
    } else if (s === 'failed' || s === 'closed') {
      this.close();
    }
  }

  private watchSilence(): void {
    if (this.silenceTimer) return;
    this.lastRtcpAt = Date.now();
    const every = Math.max(250, Math.min(2000, this.deps.silenceTimeoutMs / 4));
    this.silenceTimer = setInterval(() => {
      if (Date.now() - this.lastRtcpAt <= this.deps.silenceTimeoutMs) return;
      this.deps.log.info({ conn: this.id }, 'webrtc peer silent: closing');
      this.close();
    }, every);
    this.silenceTimer.unref();
  }

  private startViewer(): void {
    if (this.stream.isClosed) {
      this.close();
      return;
    }
    this.videoOut = new SrtpSender(this.video!);
    if (this.audio) this.audioOut = new SrtpSender(this.audio);
    const sink = new VideoRtpSink(this.videoOut, {
      onBFrames: () => this.deps.log.warn({ stream: this.stream.name }, 'stream has B-frames: WebRTC plays them in decode order (encode without B-frames for WebRTC)'),
      onFirstFrame: () => {
        this.phases.firstFrame = this.since();
        this.deps.log.info({ conn: this.id, stream: this.stream.name, ...this.phases, earlyDtls: this.earlyDtls() }, 'webrtc viewer started');
      },
    }, this.stream.newestTimestamp);
    this.session = this.deps.viewers.start({
      stream: this.stream,
      protocol: 'webrtc',
      clientIp: this.clientIp,
      viewerId: this.viewerId,
      sink,
      encode: (p) => p.flvTag(),
      closeTransport: () => this.close(),
    });
    this.subscribeAudio(this.stream);
  }

  /** The stream was published again and the viewer carried over (ViewerRegistry.adopt). */
  republished(stream: Stream): void {
    if (this.closed || !this.session || this.session.isEnded) return;
    this.stream = stream;
    this.unsubscribeAudio?.();
    this.subscribeAudio(stream);
  }

  private subscribeAudio(stream: Stream): void {
    const audio = this.audioOut;
    if (!audio || !this.deps.opus || stream.audio?.codec !== 'AAC') return;
    this.unsubscribeAudio = this.deps.opus.subscribe(stream, (payload, timestamp, marker) => {
      const session = this.session;
      if (!session || session.isEnded) return;
      this.audioSeq = (this.audioSeq + 1) & 0xffff;
      session.bytesOut += payload.length + 12;
      audio.send(payload, this.audioSeq, timestamp, marker);
    });
  }

  /** Ends the viewer and the peer (DELETE, kick, peer gone, stream over). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    clearTimeout(this.disconnectTimer);
    clearInterval(this.silenceTimer);
    this.unsubscribeAudio?.();
    this.videoOut?.close();
    this.audioOut?.close();
    this.session?.end('closed'); // no-op when the session is what ended (kick, slow, stream end)
    this.pc.close().catch((err) => this.deps.log.warn({ err }, 'closing a webrtc peer failed'));
    this.deps.onClosed(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
