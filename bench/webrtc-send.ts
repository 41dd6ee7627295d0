/**
 * `npx tsx bench/webrtc-send.ts`: the media process's cost per WebRTC RTP packet, without viewers
 * that need CPU of their own (bench:webrtc's viewers starve on a loaded machine and then the server
 * has little to send). Two werift peers on loopback in this process; once connected, the receiver's
 * socket stops handing packets to werift (the kernel still delivers them: the same small cost for
 * both paths), and the sender sends 30 frames/s worth of 1100-byte packets as fast as it can through
 * (a) werift's RTCRtpSender.sendRtp, as onair did until 2026-11-28, and (b) SrtpSender, our path.
 * Printed: CPU microseconds per packet (process.cpuUsage) and the implied viewers per core at the
 * bench stream's ~100 video + 50 audio packets/s per viewer.
 *
 *   npx tsx bench/webrtc-send.ts [--packets 40000] [--rounds 3]
 *   npx tsx bench/webrtc-send.ts --viewers 40 [--seconds 15] [--profile DIR]   (end to end: bench/webrtc-viewer-cost.ts)
 */
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCRtpSender } from 'werift';
import { SrtpSender } from '../media/servers/whep/srtp-sender.js';

const h264 = () => new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, parameters: 'profile-level-id=42e01f;packetization-mode=1' });
const PACKETS_PER_VIEWER_S = 150;

async function connectedPair(): Promise<{ sender: RTCRtpSender; a: RTCPeerConnection; b: RTCPeerConnection }> {
  const opts = { codecs: { video: [h264()] }, iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false, bundlePolicy: 'max-bundle' as const };
  const a = new RTCPeerConnection(opts);
  const b = new RTCPeerConnection(opts);
  const tr = a.addTransceiver('video', { direction: 'sendonly' });
  b.addTransceiver('video', { direction: 'recvonly' });
  await a.setLocalDescription(await a.createOffer());
  await new Promise((r) => setTimeout(r, 300));
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await new Promise((r) => setTimeout(r, 300));
  await a.setRemoteDescription(b.localDescription!);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('peers never connected')), 15_000);
    a.connectionStateChange.subscribe((s) => s === 'connected' && (clearTimeout(t), resolve()));
  });
  await new Promise((r) => setTimeout(r, 500));
  // The receiver stops decrypting: its sockets' packets are read and dropped.
  for (const t of (b as unknown as { iceTransports: { connection: { protocols: { transport?: { socket?: Socket } }[] } }[] }).iceTransports) {
    for (const p of t.connection.protocols) p.transport?.socket?.removeAllListeners('message').on('message', () => {});
  }
  return { sender: tr.sender, a, b };
}

async function cost(packets: number, sendFrame: (payloads: Buffer[], seq: number, ts: number) => Promise<void> | void): Promise<number> {
  const payloads = Array.from({ length: 4 }, () => randomBytes(1100));
  const before = process.cpuUsage();
  let seq = 0;
  for (let i = 0; i < packets / 4; i++) {
    await sendFrame(payloads, seq, i * 3000);
    seq += 4;
    if (i % 64 === 0) await new Promise((r) => setImmediate(r)); // let the sockets drain
  }
  await new Promise((r) => setTimeout(r, 50));
  const d = process.cpuUsage(before);
  return (d.user + d.system) / packets;
}

async function main(): Promise<void> {
  const arg = (name: string, def: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1]! : def;
  };
  const packets = Math.max(4000, Number(arg('packets', '40000')));
  const rounds = Math.min(10, Math.max(1, Number(arg('rounds', '3'))));
  const { sender, a, b } = await connectedPair();
  const ours = new SrtpSender(sender);
  const weriftPath = (payloads: Buffer[], seq: number, ts: number) =>
    Promise.all(payloads.map((p, k) => sender.sendRtp(new RtpPacket(new RtpHeader({ sequenceNumber: (seq + k) & 0xffff, timestamp: ts, marker: k === 3, payloadType: 96 }), p)))).then(() => {});
  const oursPath = (payloads: Buffer[], seq: number, ts: number) => {
    for (let k = 0; k < payloads.length; k++) ours.send(payloads[k]!, (seq + k) & 0xffff, ts, k === 3);
  };
  const profile = (sender as unknown as { dtlsTransport: { srtp: { localContext: { profile: number } } } }).dtlsTransport.srtp.localContext.profile;
  console.log(`onair webrtc send cost: ${packets} packets of 1100 bytes per measurement, SRTP profile ${profile === 7 ? 'AEAD_AES_128_GCM' : profile}`);
  const rows: string[] = [];
  for (let r = 0; r < rounds; r++) {
    const w = await cost(packets, weriftPath);
    const o = await cost(packets, oursPath);
    rows.push(`round ${r + 1}: werift sendRtp ${w.toFixed(1)} us/packet (${Math.round(1e6 / (w * PACKETS_PER_VIEWER_S))} viewers/core); SrtpSender ${o.toFixed(1)} us/packet (${Math.round(1e6 / (o * PACKETS_PER_VIEWER_S))} viewers/core); ${(w / o).toFixed(2)}x`);
    console.log(rows.at(-1));
  }
  console.log(`uptime: ${execSync('uptime').toString().trim()}`);
  ours.close();
  await Promise.allSettled([a.close(), b.close()]);
  process.exit(0);
}

const viewersAt = process.argv.indexOf('--viewers');
const secondsAt = process.argv.indexOf('--seconds');
const run = viewersAt > 0
  ? import('./webrtc-viewer-cost.js').then((m) => m.viewerCost(
    Math.min(300, Math.max(1, Number(process.argv[viewersAt + 1]))),
    Math.min(60, Math.max(5, secondsAt > 0 ? Number(process.argv[secondsAt + 1]) : 15)),
    process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : undefined,
  )).then(() => process.exit(0))
  : main();
run.catch((err) => {
  console.error(err);
  process.exit(1);
});
