/**
 * H.264 from RTP (RFC 6184, packetization mode 1) to FLV access units, pure: a WHIP publisher's
 * packets in, whole frames out. Single NAL unit packets, STAP-A and FU-A are read (what browsers
 * and OBS send); STAP-B, MTAP and FU-B (interleaved mode) are dropped. A frame is the run of
 * packets with one RTP timestamp, ended by the marker bit or by the next timestamp. A lost packet
 * (sequence gap) spoils the frame it falls in and every frame up to the next keyframe: those are
 * dropped and `needKeyframe` says so (the caller asks the sender for one with a PLI).
 */

const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;
const NAL_FILLER = 12;
const NAL_STAP_A = 24;
const NAL_FU_A = 28;

/** Largest frame accepted (bytes of NAL units); a larger one is dropped as if lost. */
export const MAX_ACCESS_UNIT_BYTES = 4 << 20;

export interface RtpIn {
  sequenceNumber: number;
  timestamp: number;
  marker: boolean;
  payload: Buffer;
}

/** One frame: its NAL units (SPS, PPS, AUD and filler removed) and its 90 kHz RTP timestamp. */
export interface AccessUnit {
  rtpTimestamp: number;
  isKeyframe: boolean;
  nalus: Buffer[];
  /** The SPS and PPS in force for this frame changed with it (send a new sequence header first). */
  configChanged: boolean;
}

const NONE: AccessUnit[] = [];

export class H264Depacketizer {
  sps: Buffer | undefined;
  pps: Buffer | undefined;
  /** Frames dropped because a packet was lost or they came before the first keyframe. */
  dropped = 0;
  /** True from a loss (or the start) until the next keyframe: ask the sender for one. */
  needKeyframe = true;
  private lastSeq = -1;
  private curTs = -1;
  private nalus: Buffer[] = [];
  private bytes = 0;
  private fu: Buffer[] | undefined;
  private broken = false;
  private configChanged = false;

  /** Feeds one packet; returns the frames it completed (none, one, or two when a marker was lost). */
  push(p: RtpIn): AccessUnit[] {
    let gap = false;
    if (this.lastSeq >= 0 && p.sequenceNumber !== ((this.lastSeq + 1) & 0xffff)) {
      const ahead = (p.sequenceNumber - this.lastSeq) & 0xffff;
      if (ahead === 0 || ahead > 0x8000) return NONE; // a duplicate or a late packet: ignored
      gap = true; // packets are missing: from the frame in progress, the next one, or both
    }
    this.lastSeq = p.sequenceNumber;
    let out: AccessUnit[] = NONE;
    if (this.curTs !== -1 && p.timestamp !== this.curTs) {
      if (gap) this.broken = true;
      const f = this.finish();
      if (f) out = [f];
    }
    if (gap) this.broken = true;
    this.curTs = p.timestamp;
    this.read(p.payload);
    if (p.marker) {
      const f = this.finish();
      if (f) out = out === NONE ? [f] : [...out, f];
    }
    return out;
  }

  private read(payload: Buffer): void {
    if (payload.length < 1) return;
    const type = payload[0]! & 0x1f;
    if (type >= 1 && type <= 23) {
      this.fu = undefined;
      this.add(payload);
    } else if (type === NAL_STAP_A) {
      let off = 1;
      while (off + 2 <= payload.length) {
        const len = payload.readUInt16BE(off);
        off += 2;
        if (len === 0 || off + len > payload.length) {
          this.broken = true;
          return;
        }
        this.add(payload.subarray(off, off + len));
        off += len;
      }
    } else if (type === NAL_FU_A) {
      if (payload.length < 3) return;
      const start = (payload[1]! & 0x80) !== 0;
      const end = (payload[1]! & 0x40) !== 0;
      if (start) {
        this.fu = [Buffer.from([(payload[0]! & 0xe0) | (payload[1]! & 0x1f)])];
      } else if (!this.fu) {
        this.broken = true; // the start fragment was lost
        return;
      }
      this.fu.push(payload.subarray(2));
      if (end) {
        this.add(Buffer.concat(this.fu));
        this.fu = undefined;
      }
    }
    // STAP-B, MTAP16/24, FU-B: interleaved mode, never negotiated here.
  }

  private add(nalu: Buffer): void {
    this.bytes += nalu.length;
    if (this.bytes > MAX_ACCESS_UNIT_BYTES) {
      this.broken = true;
      return;
    }
    // Copied: the packet's buffer belongs to the RTP stack.
    this.nalus.push(Buffer.from(nalu));
  }

  private finish(): AccessUnit | undefined {
    const nalus = this.nalus;
    const rtpTimestamp = this.curTs;
    const broken = this.broken || this.fu !== undefined;
    this.nalus = [];
    this.bytes = 0;
    this.fu = undefined;
    this.broken = false;
    this.curTs = -1;
    if (nalus.length === 0) return undefined;
    if (broken) {
      this.dropped++;
      this.needKeyframe = true;
      return undefined;
    }
    const frame: Buffer[] = [];
    let isKeyframe = false;
    for (const n of nalus) {
      const t = n[0]! & 0x1f;
      if (t === NAL_SPS) this.setConfig('sps', n);
      else if (t === NAL_PPS) this.setConfig('pps', n);
      else if (t !== NAL_AUD && t !== NAL_FILLER) {
        if (t === NAL_IDR) isKeyframe = true;
        frame.push(n);
      }
    }
    if (frame.length === 0) return undefined;
    if (this.needKeyframe && !(isKeyframe && this.sps && this.pps)) {
      this.dropped++;
      return undefined;
    }
    this.needKeyframe = false;
    const configChanged = this.configChanged;
    this.configChanged = false;
    return { rtpTimestamp, isKeyframe, nalus: frame, configChanged };
  }

  private setConfig(kind: 'sps' | 'pps', n: Buffer): void {
    const old = this[kind];
    if (old && old.equals(n)) return;
    this[kind] = n;
    this.configChanged = true;
  }
}

/** An AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1) of one SPS and one PPS, 4-byte lengths. */
export function avcConfigRecord(sps: Buffer, pps: Buffer): Buffer {
  const out = Buffer.alloc(11 + sps.length + pps.length);
  out[0] = 1;
  out[1] = sps[1] ?? 0x42; // profile_idc
  out[2] = sps[2] ?? 0; // constraint flags
  out[3] = sps[3] ?? 0x1f; // level_idc
  out[4] = 0xff; // 6 bits reserved, lengthSizeMinusOne = 3
  out[5] = 0xe1; // 3 bits reserved, one SPS
  out.writeUInt16BE(sps.length, 6);
  sps.copy(out, 8);
  out[8 + sps.length] = 1;
  out.writeUInt16BE(pps.length, 9 + sps.length);
  pps.copy(out, 11 + sps.length);
  return out;
}

/** The FLV video tag body of an AVC sequence header. */
export function flvAvcSequenceHeader(sps: Buffer, pps: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), avcConfigRecord(sps, pps)]);
}

/** The FLV video tag body of one frame: AVCC (4-byte lengths), composition time 0 (no B-frames in WebRTC). */
export function flvAvcFrame(nalus: Buffer[], isKeyframe: boolean): Buffer {
  let size = 5;
  for (const n of nalus) size += 4 + n.length;
  const out = Buffer.allocUnsafe(size);
  out[0] = isKeyframe ? 0x17 : 0x27;
  out[1] = 1;
  out[2] = out[3] = out[4] = 0;
  let off = 5;
  for (const n of nalus) {
    out.writeUInt32BE(n.length, off);
    n.copy(out, off + 4);
    off += 4 + n.length;
  }
  return out;
}
