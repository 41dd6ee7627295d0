import { createCipheriv, createHmac } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { RTCRtpSender } from 'werift';

/** werift's SRTP protection profiles (RFC 5764 4.1.2, RFC 7714 14.2). */
const AES_CM_128_HMAC_SHA1_80 = 1;
const AEAD_AES_128_GCM = 7;
/** Packets kept for NACK retransmission (werift keeps 128 too). */
const HISTORY = 256;
const NTP_EPOCH_OFFSET_S = 2_208_988_800;

/** The parts of werift's objects this sender reads (werift 0.24.x; not part of its typed API). */
interface WeriftInternals {
  ssrc: number;
  codec?: { payloadType: number };
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  runRtcp(): Promise<void>;
  onGenericNack: { subscribe(f: (nack: { lost: number[] }) => void): { unSubscribe(): void } };
  dtlsTransport: {
    state: string;
    srtp?: {
      localContext?: {
        profile: number;
        cipher: { srtpSessionKey: Buffer; srtpSessionSalt: Buffer; srtpSessionAuthTag?: Buffer };
      };
    };
    iceTransport: {
      connection: {
        nominated?: { remoteAddr: [string, number]; protocol: { transport?: { socket?: Socket; closed?: boolean } } };
        canSendApplicationData(): boolean;
      };
    };
  };
}

interface Keys {
  profile: number;
  key: Buffer;
  salt: Buffer;
  authKey: Buffer | undefined;
}

interface Sent {
  seq: number;
  roc: number;
  timestamp: number;
  marker: boolean;
  payload: Buffer;
}

/** Sockets whose address lookup answers IP literals at once (skipIpLookup). */
const patched = new WeakSet<Socket>();

/**
 * An unconnected dgram socket resolves the address of every `send` through `dns.lookup`, which
 * for an IP literal answers on the next tick: per packet, a lookup call, a nextTick and a closure.
 * ICE's remote addresses are IP literals (a connected socket would skip the lookup, but werift's
 * socket also talks ICE to other addresses). This answers IP literals synchronously, as Node does
 * for a connected socket, and leaves names to Node's lookup. Node's internals (its handle's
 * `lookup`, Node 18-22): if they are not there, nothing is changed.
 */
export function skipIpLookup(socket: Socket): void {
  if (patched.has(socket)) return;
  patched.add(socket);
  const state = Object.getOwnPropertySymbols(socket).find((k) => k.description === 'state symbol');
  const handle = state ? (socket as unknown as Record<symbol, { handle?: { lookup?: unknown } }>)[state]?.handle : undefined;
  const lookup = handle?.lookup;
  if (!handle || typeof lookup !== 'function') return;
  const family = socket.address().family === 'IPv6' ? 6 : 4;
  handle.lookup = (address: string, cb: (err: Error | null, ip?: string) => void) => {
    if (isIP(address) === family) cb(null, address);
    else (lookup as (a: string, c: typeof cb) => void).call(handle, address, cb);
  };
}

/** The current time as a 64-bit NTP timestamp (RTCP sender reports). */
export function ntpNow(nowMs = Date.now()): bigint {
  const seconds = Math.floor(nowMs / 1000);
  const fraction = Math.floor(((nowMs % 1000) / 1000) * 0x1_0000_0000);
  return (BigInt(seconds + NTP_EPOCH_OFFSET_S) << 32n) | BigInt(fraction);
}

/**
 * Sends RTP of one werift sender straight to the UDP socket: its own 12-byte header, SRTP
 * (AES-128-GCM or AES-CM-128 + HMAC-SHA1-80 with the keys werift derived from DTLS) written into one
 * buffer, then `socket.send` to the nominated ICE pair. werift's own `sendRtp` did per packet, per
 * viewer: an RtpHeader object and its serialization, a header-extension list (none negotiated
 * here), an NTP timestamp through `toString().split()`, bandwidth-estimation bookkeeping,
 * three concatenations and four promise layers; the profile of `bench:webrtc` had it at about
 * twice the cost of the encryption itself.
 *
 * werift keeps everything else: ICE (consent checks), DTLS, RTCP receiving, and the sender reports,
 * for which this class updates the sender's counters (packet and octet count, the latest RTP
 * timestamp with its wall-clock time). NACKs are answered from this class's own history (werift's
 * cache stays empty as its sendRtp is not used).
 */
export class SrtpSender {
  private keys: Keys | undefined;
  private roc = 0;
  private lastSeq = -1;
  private readonly history: (Sent | undefined)[] = new Array(HISTORY);
  private readonly s: WeriftInternals;
  private nackSub: { unSubscribe(): void } | undefined;
  /** IVs are read once, when the cipher is made: one buffer per sender serves every packet. */
  private readonly gcmIv = Buffer.alloc(12);
  private readonly cmIv = Buffer.alloc(16);
  packetsSent = 0;
  bytesSent = 0;

  constructor(sender: RTCRtpSender) {
    this.s = sender as unknown as WeriftInternals;
  }

  /** The SRTP keys, once DTLS is done; undefined before (and for a profile this class lacks). */
  private ready(): Keys | undefined {
    if (this.keys) return this.keys;
    const t = this.s.dtlsTransport;
    const ctx = t.state === 'connected' ? t.srtp?.localContext : undefined;
    if (!ctx || (ctx.profile !== AEAD_AES_128_GCM && ctx.profile !== AES_CM_128_HMAC_SHA1_80)) return undefined;
    const c = ctx.cipher;
    this.keys = { profile: ctx.profile, key: c.srtpSessionKey, salt: c.srtpSessionSalt, authKey: c.srtpSessionAuthTag };
    this.nackSub = this.s.onGenericNack.subscribe((nack) => {
      for (const seq of nack.lost) {
        const p = this.history[seq % HISTORY];
        if (p && p.seq === seq) this.transmit(p);
      }
    });
    void this.s.runRtcp(); // sender reports every 0.5-1.5 s (werift's loop; idempotent)
    return this.keys;
  }

  /**
   * Sends one RTP packet; false when it could not go (DTLS or ICE not ready, socket closed). `seq`
   * is 16 bits and must increase by one per packet (the rollover counter follows it).
   */
  send(payload: Buffer, seq: number, timestamp: number, marker: boolean): boolean {
    if (!this.ready()) return false;
    if (this.lastSeq >= 0 && seq < this.lastSeq && this.lastSeq - seq > 0x8000) this.roc = (this.roc + 1) >>> 0;
    this.lastSeq = seq;
    const p: Sent = { seq, roc: this.roc, timestamp, marker, payload };
    this.history[seq % HISTORY] = p;
    const ok = this.transmit(p);
    const s = this.s;
    s.packetCount = (s.packetCount + 1) >>> 0;
    s.octetCount = (s.octetCount + payload.length) >>> 0;
    if (marker || s.rtpTimestamp !== timestamp) {
      s.rtpTimestamp = timestamp;
      s.ntpTimestamp = ntpNow();
    }
    return ok;
  }

  private transmit(p: Sent): boolean {
    const keys = this.keys!;
    const pair = this.s.dtlsTransport.iceTransport.connection;
    const nominated = pair.nominated;
    const socket = nominated?.protocol.transport?.socket;
    if (!nominated || !socket || nominated.protocol.transport?.closed || !pair.canSendApplicationData()) return false;
    // The datagram goes out as three buffers (one sendmsg with an iovec): the header, the
    // ciphertext as node:crypto returned it and the tag, so nothing is copied into a packet buffer.
    // Each is new per packet: a send the kernel cannot take at once is queued holding them.
    const header = Buffer.allocUnsafe(12);
    header[0] = 0x80;
    header[1] = (p.marker ? 0x80 : 0) | (this.s.codec?.payloadType ?? 96);
    header.writeUInt16BE(p.seq, 2);
    header.writeUInt32BE(p.timestamp >>> 0, 4);
    const ssrc = this.s.ssrc >>> 0;
    header.writeUInt32BE(ssrc, 8);
    let enc: Buffer;
    let tag: Buffer;
    if (keys.profile === AEAD_AES_128_GCM) {
      // RFC 7714 8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt; the header is the AAD.
      const iv = this.gcmIv;
      iv.writeUInt16BE(0, 0);
      iv.writeUInt32BE(ssrc, 2);
      iv.writeUInt32BE(p.roc, 6);
      iv.writeUInt16BE(p.seq, 10);
      for (let i = 0; i < 12; i++) iv[i]! ^= keys.salt[i]!;
      const c = createCipheriv('aes-128-gcm', keys.key, iv);
      c.setAAD(header);
      enc = c.update(p.payload);
      c.final();
      tag = c.getAuthTag();
    } else {
      // RFC 3711 4.1.1: IV = (SSRC << 64 | index << 16) XOR (salt << 16); tag = HMAC-SHA1(header||payload||ROC)[0..10].
      const iv = this.cmIv;
      iv.fill(0);
      iv.writeUInt32BE(ssrc, 4);
      iv.writeUInt32BE(p.roc, 8);
      iv.writeUInt16BE(p.seq, 12);
      for (let i = 0; i < keys.salt.length; i++) iv[i]! ^= keys.salt[i]!;
      enc = createCipheriv('aes-128-ctr', keys.key, iv).update(p.payload);
      const roc = Buffer.allocUnsafe(4);
      roc.writeUInt32BE(p.roc, 0);
      tag = createHmac('sha1', keys.authKey!).update(header).update(enc).update(roc).digest().subarray(0, 10);
    }
    const [address, port] = nominated.remoteAddr;
    skipIpLookup(socket);
    try {
      socket.send([header, enc, tag], port, address);
    } catch {
      return false; // the socket closed under us (the peer is going)
    }
    this.packetsSent++;
    this.bytesSent += 12 + enc.length + tag.length;
    return true;
  }

  close(): void {
    this.nackSub?.unSubscribe();
    this.history.fill(undefined);
  }
}
