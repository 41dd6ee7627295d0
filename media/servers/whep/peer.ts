import { RTCPeerConnection, RTCRtpCodecParameters, type RTCRtpTransceiver } from 'werift';
import type { IceServer } from '../../../core/config/ice-servers.js';
import type { PeerSettings } from './http.js';

const h264 = () =>
  new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90000,
    rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
  });
const opus = () => new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 });

function stunOnly(servers: IceServer[] | undefined): { urls: string }[] | undefined {
  const stun = (servers ?? []).filter((x) => x.urls.startsWith('stun:')).map((x) => ({ urls: x.urls }));
  return stun.length ? stun : undefined;
}

/** A werift peer that sends H.264 and Opus, with the configured ICE host addresses and ports. */
export function createPeer(s: PeerSettings): RTCPeerConnection {
  return new RTCPeerConnection({
    codecs: { video: [h264()], audio: [opus()] },
    iceAdditionalHostAddresses: s.iceHosts.length ? s.iceHosts : undefined,
    icePortRange: s.portRange,
    // STUN only: the server's own reflexive address. TURN servers are for clients (the answers' Link
    // headers); werift allocating on an unreachable TURN server never finishes the answer.
    iceServers: stunOnly(s.iceServers),
    iceUseIpv6: false,
    // One transport for audio and video: werift leaves the unused ones' sockets open otherwise.
    bundlePolicy: 'max-bundle',
  });
}

const fmtp = (c: RTCRtpCodecParameters): Record<string, string> =>
  Object.fromEntries((c.parameters ?? '').split(';').map((kv) => kv.trim().split('=') as [string, string]));

/**
 * Puts first the offered H.264 format that fits the stream: packetization-mode 1 (FU-A), then the
 * stream's profile (its profile_idc, e.g. 64 for High), then constrained baseline. The first codec
 * is the one the answer names first and the sender stamps on its packets. False when the offer has
 * no H.264 with packetization-mode 1.
 */
export function preferH264(tr: RTCRtpTransceiver, profileLevelId: string | undefined): boolean {
  const profile = profileLevelId?.slice(0, 2).toLowerCase();
  const score = (c: RTCRtpCodecParameters): number => {
    const p = fmtp(c);
    if (c.mimeType.toLowerCase() !== 'video/h264' || p['packetization-mode'] !== '1') return -1;
    const plid = (p['profile-level-id'] ?? '').toLowerCase();
    return (profile && plid.startsWith(profile) ? 4 : 0) + (plid.startsWith('42e0') ? 2 : 0) + 1;
  };
  const ranked = tr.codecs.map((c) => ({ c, s: score(c) })).filter((x) => x.s > 0).sort((a, b) => b.s - a.s).map((x) => x.c);
  if (ranked.length === 0) return false;
  tr.codecs = ranked;
  tr.sender.codec = ranked[0];
  return true;
}

/** Resolves once ICE gathering is complete, or after `ms` (the answer then has what was gathered). */
export function gathered(pc: RTCPeerConnection, ms: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    const sub = pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && done());
    function done() {
      clearTimeout(t);
      sub.unSubscribe();
      resolve();
    }
  });
}

/**
 * Makes the server the DTLS server (`a=setup:passive` in the answer): the viewer or the publisher,
 * once its ICE is done, sends the ClientHello and the server, already listening, answers at once.
 * werift's default makes the answerer the DTLS client, which sends its ClientHello 100 ms after its
 * own ICE completes; when the remote has not started its DTLS server yet (its ICE finishes later:
 * a busy machine, many peers at once) the hello is lost and retransmitted after 0.5, 1, 1.5, 2 s...:
 * that backoff was most of bench:webrtc's 5.7 s time to first frame when 25 viewers joined at once.
 * Call after setRemoteDescription (the transports exist), before createAnswer.
 */
export function answerAsDtlsServer(pc: RTCPeerConnection): void {
  for (const tr of pc.getTransceivers()) {
    const dtls = (tr as unknown as { dtlsTransport?: { role: string; state: string } }).dtlsTransport;
    if (dtls && dtls.state === 'new' && dtls.role === 'auto') dtls.role = 'server';
  }
}
