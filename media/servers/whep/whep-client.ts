import { request } from 'node:http';
import { RTCPeerConnection, RTCRtpCodecParameters, type RtpPacket } from 'werift';
import { adaptWerift, gathered, skipDefaultStun } from './peer.js';

export interface WhepClientStats {
  videoPackets: number;
  videoBytes: number;
  /** RTP packets with the marker bit: one per frame. */
  videoFrames: number;
  audioPackets: number;
  /** ms from the POST to its 201 answer. */
  answerMs: number;
  /** ms from the POST to ICE connected (a nominated pair), -1 before. */
  iceMs: number;
  /** ms from the POST to a connected peer (ICE and DTLS done), -1 before. */
  connectedMs: number;
  /** ms from the POST to the first video packet / the first keyframe (its SPS), -1 before. */
  firstPacketMs: number;
  firstKeyframeMs: number;
}

export interface WhepPlay {
  status: number;
  /** The JSON error body (refusals) or the SDP answer. */
  body: string;
  location?: string;
  stats: WhepClientStats;
  pc: RTCPeerConnection;
  /** Waits for the peer to connect; false after `ms`. */
  connected(ms: number): Promise<boolean>;
  /** Called with every video RTP packet (for SEI clocks). */
  onVideo?: (rtp: RtpPacket, atMs: number) => void;
  close(): Promise<void>;
}

function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp', ...headers }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A WHEP viewer in Node (werift), for tests and the benchmark: offers recvonly H.264 + Opus, POSTs
 * the offer, applies the answer and counts what arrives.
 */
export async function whepPlay(
  url: string,
  opts: { bearer?: string; iceHosts?: string[]; /** Tests: adjusts the peer before its offer. */ beforeOffer?: (pc: RTCPeerConnection) => void } = {},
): Promise<WhepPlay> {
  adaptWerift(); // the client's peers too (bench:webrtc's viewers share the cores)
  const pc = new RTCPeerConnection({
    codecs: {
      video: [new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }], parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1' })],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
    },
    iceAdditionalHostAddresses: opts.iceHosts ?? ['127.0.0.1'],
    iceUseIpv6: false,
    // One transport for audio and video: werift leaves the unused ones' sockets open otherwise.
    bundlePolicy: 'max-bundle',
  });
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  skipDefaultStun(pc); // loopback: no outside STUN server
  opts.beforeOffer?.(pc);
  const stats: WhepClientStats = { videoPackets: 0, videoBytes: 0, videoFrames: 0, audioPackets: 0, answerMs: -1, iceMs: -1, connectedMs: -1, firstPacketMs: -1, firstKeyframeMs: -1 };
  let t0 = performance.now();
  const play: WhepPlay = {
    status: 0, body: '', stats, pc,
    connected: (ms) => new Promise((resolve) => {
      if (pc.connectionState === 'connected') return resolve(true);
      const t = setTimeout(() => resolve(false), ms);
      pc.connectionStateChange.subscribe((s) => {
        if (s === 'connected') {
          clearTimeout(t);
          resolve(true);
        }
      });
    }),
    close: async () => {
      await pc.close();
    },
  };
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => {
      if (track.kind === 'audio') {
        stats.audioPackets++;
        return;
      }
      const now = performance.now();
      stats.videoPackets++;
      stats.videoBytes += rtp.payload.length;
      if (stats.firstPacketMs < 0) stats.firstPacketMs = now - t0;
      const nal = rtp.payload[0]! & 0x1f;
      if (stats.firstKeyframeMs < 0 && nal === 7) stats.firstKeyframeMs = now - t0;
      if (rtp.header.marker) stats.videoFrames++;
      play.onVideo?.(rtp, now);
    });
  });
  pc.connectionStateChange.subscribe((s) => {
    if (s === 'connected' && stats.connectedMs < 0) stats.connectedMs = performance.now() - t0;
  });
  pc.iceConnectionStateChange.subscribe((s) => {
    if (s === 'connected' && stats.iceMs < 0) stats.iceMs = performance.now() - t0;
  });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc, 2000);
  t0 = performance.now();
  const res = await post(url, pc.localDescription!.sdp, opts.bearer ? { Authorization: `Bearer ${opts.bearer}` } : {});
  stats.answerMs = performance.now() - t0;
  play.status = res.status;
  play.body = res.body;
  play.location = res.location;
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: res.body });
  return play;
}
