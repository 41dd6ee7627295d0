import { RTCPeerConnection, RTCRtpCodecParameters, type RTCRtpTransceiver } from 'werift';
import type { IceServer } from '../../../core/config/ice-servers.js';
import type { PeerSettings } from './http.js';
import { useNativeDtlsCrypto } from './native-dtls-crypto.js';
import { stopFlightsAtClose } from './werift-close.js';

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
/**
 * werift as onair runs every peer (server, warm-up, WHEP client), installed once per process: the
 * X25519 and key signature of its DTLS handshakes through node:crypto (native-dtls-crypto.ts), and a
 * closed peer that stops resending its DTLS flights (werift-close.ts).
 */
export function adaptWerift(): void {
  useNativeDtlsCrypto();
  stopFlightsAtClose();
}

export function createPeer(s: PeerSettings): RTCPeerConnection {
  adaptWerift();
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

/**
 * Without a configured STUN server, gathers host candidates only (and config.media.webrtcIceHosts).
 * werift otherwise asks Google's (stun.l.google.com:19302) for every peer: an outside service the
 * operator did not choose, a round trip added to every answer, and the whole gathering cap
 * (gathered(), 2 s) where outbound UDP is filtered. Call once the transports exist (after
 * setRemoteDescription, or addTransceiver for an offerer), before setLocalDescription (gathering).
 */
export function skipDefaultStun(pc: RTCPeerConnection, s: Pick<PeerSettings, 'iceServers'> = {}): void {
  if (stunOnly(s.iceServers)) return;
  for (const tr of pc.getTransceivers()) {
    const t = (tr as unknown as { dtlsTransport?: { iceTransport: { connection: { stunServer?: unknown } } } }).dtlsTransport;
    if (t) t.iceTransport.connection.stunServer = undefined;
  }
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

/** The parts of werift's DTLS transport that holdEarlyDtls reaches (werift 0.24.x internals). */
interface DtlsInternals {
  state: string;
  role: string;
  dtls?: { transport: { socket: { onData?: (buf: Buffer) => void } } };
  onStateChange: { subscribe(f: (s: string) => void): { unSubscribe(): void } };
  iceTransport: { connection: { onData: { subscribe(f: (buf: Buffer) => void): { unSubscribe(): void } } } };
}

/** DTLS records (RFC 7983: first byte 20-63) held for one transport at most; a ClientHello flight is 1-2. */
const EARLY_DTLS_MAX = 8;

/**
 * Keeps the DTLS packets that arrive before werift starts the server's DTLS transport, and hands
 * them to it when it starts. werift starts DTLS only once its own side of ICE has nominated a pair,
 * and drops what came before; the viewer (the DTLS client: answerAsDtlsServer) sends its
 * ClientHello as soon as its side of ICE is done, which can be first when the server's check of the
 * pair is still on its way (a busy machine, many peers joining at once): the hello was lost and
 * resent after werift's flight backoff (0.5, 1, 1.5, 2 s...), seconds of a viewer's time to first
 * frame. Returns the number of packets held so far (for the 'webrtc viewer started' log).
 * Call after setLocalDescription (the ICE sockets exist), before the answer is sent.
 */
export function holdEarlyDtls(pc: RTCPeerConnection): () => number {
  let held = 0;
  for (const tr of pc.getTransceivers()) {
    const t = (tr as unknown as { dtlsTransport?: DtlsInternals }).dtlsTransport;
    if (!t || t.role !== 'server' || t.state !== 'new') continue;
    const early: Buffer[] = [];
    const data = t.iceTransport.connection.onData.subscribe((buf) => {
      if (t.dtls || t.state !== 'new' || buf.length === 0 || buf[0]! < 20 || buf[0]! > 63) return;
      if (early.length < EARLY_DTLS_MAX) early.push(buf);
      held++;
    });
    const state = t.onStateChange.subscribe((s) => {
      if (s === 'new') return;
      data.unSubscribe();
      state.unSubscribe();
      // 'connecting' is set just before werift makes its DtlsServer, in the same synchronous run.
      if (s === 'connecting') queueMicrotask(() => {
        const socket = t.dtls?.transport.socket;
        for (const buf of early.splice(0)) socket?.onData?.(buf);
      });
    });
    // One transport (bundlePolicy max-bundle): the others share it.
    break;
  }
  return () => held;
}

/**
 * Runs werift once, end to end, on a throwaway loopback pair: a recvonly viewer's offer, the server's
 * answer made as WhepConn makes it (createPeer, preferH264, DTLS server, no default STUN), ICE and
 * DTLS to 'connected', then both closed. The first real viewer then finds werift's code compiled and
 * warm (SDP, ICE, DTLS with X25519/P-256, SRTP key setup) and the process's DTLS certificate made
 * (werift keeps one per process): its answer no longer pays werift's first run. Bounded by `ms`;
 * never throws (a failed warm-up only means the first viewer pays as before).
 */
export async function warmUp(s: PeerSettings, ms = 5000): Promise<boolean> {
  adaptWerift();
  const viewer = new RTCPeerConnection({
    codecs: { video: [h264()], audio: [opus()] },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    bundlePolicy: 'max-bundle',
  });
  // The server's side on loopback only, in the configured port range.
  const server = createPeer({ iceHosts: ['127.0.0.1'], portRange: s.portRange });
  let timer: NodeJS.Timeout | undefined;
  try {
    viewer.addTransceiver('video', { direction: 'recvonly' });
    viewer.addTransceiver('audio', { direction: 'recvonly' });
    skipDefaultStun(viewer);
    await viewer.setLocalDescription(await viewer.createOffer());
    await gathered(viewer, 2000);
    await server.setRemoteDescription({ type: 'offer', sdp: viewer.localDescription!.sdp });
    for (const tr of server.getTransceivers()) {
      if (tr.kind === 'video' && preferH264(tr, '42e01f')) tr.setDirection('sendonly');
      else tr.setDirection(tr.kind === 'audio' ? 'sendonly' : 'inactive');
    }
    answerAsDtlsServer(server);
    skipDefaultStun(server);
    await server.setLocalDescription(await server.createAnswer());
    holdEarlyDtls(server);
    await gathered(server, 2000);
    await viewer.setRemoteDescription({ type: 'answer', sdp: server.localDescription!.sdp });
    return await new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
      if (server.connectionState === 'connected') resolve(true);
      server.connectionStateChange.subscribe((st) => st === 'connected' && resolve(true));
    });
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    await Promise.allSettled([viewer.close(), server.close()]);
  }
}
