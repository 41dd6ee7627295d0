/**
 * Opus packets into an Ogg stream (RFC 7845), pure: what a WHIP publisher's Opus RTP payloads
 * become on the stdin of the ffmpeg that turns them into AAC. One packet per page; the granule
 * position follows the RTP timestamps (48 kHz), so a gap in the audio (DTX, loss) stays a gap.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32 (polynomial 0x04c11db7, not reflected, initial 0). */
export function oggCrc(buf: Buffer): number {
  let crc = 0;
  for (let i = 0; i < buf.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ buf[i]!) & 0xff]!) >>> 0;
  return crc;
}

/** Samples at 48 kHz in one Opus packet, from its TOC byte (RFC 6716 3.1); 0 when malformed. */
export function opusPacketSamples(packet: Buffer): number {
  if (packet.length < 1) return 0;
  const toc = packet[0]!;
  const config = toc >> 3;
  const frame = config < 12 ? [480, 960, 1920, 2880][config & 3]! : config < 16 ? [480, 960][config & 1]! : [120, 240, 480, 960][config & 3]!;
  const code = toc & 3;
  const frames = code === 0 ? 1 : code < 3 ? 2 : packet.length >= 2 ? packet[1]! & 0x3f : 0;
  return frame * frames;
}

export class OggOpusWriter {
  private seq = 0;
  private readonly serial = (Math.random() * 0xffffffff) >>> 0;

  /** The two header pages (OpusHead, OpusTags): the stream's first bytes. */
  headers(channels = 2): Buffer {
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'latin1');
    head[8] = 1; // version
    head[9] = channels;
    head.writeUInt16LE(312, 10); // pre-skip: libopus's usual encoder delay
    head.writeUInt32LE(48000, 12); // input sample rate (informational)
    head.writeInt16LE(0, 16); // output gain
    head[18] = 0; // channel mapping family 0 (mono/stereo)
    const vendor = Buffer.from('onair', 'latin1');
    const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
    tags.write('OpusTags', 0, 'latin1');
    tags.writeUInt32LE(vendor.length, 8);
    vendor.copy(tags, 12);
    tags.writeUInt32LE(0, 12 + vendor.length);
    return Buffer.concat([this.page(head, 0n, 0x02), this.page(tags, 0n, 0)]);
  }

  /** One audio packet as a page; `granule` is the sample position of its end (48 kHz). */
  packet(packet: Buffer, granule: bigint): Buffer {
    return this.page(packet, granule, 0);
  }

  private page(data: Buffer, granule: bigint, flags: number): Buffer {
    const segments = Math.floor(data.length / 255) + 1;
    if (segments > 255) throw new RangeError('an Opus packet over 64 KiB');
    const page = Buffer.alloc(27 + segments + data.length);
    page.write('OggS', 0, 'latin1');
    page[4] = 0;
    page[5] = flags;
    page.writeBigUInt64LE(granule, 6);
    page.writeUInt32LE(this.serial, 14);
    page.writeUInt32LE(this.seq++, 18);
    page.writeUInt32LE(0, 22);
    page[26] = segments;
    for (let i = 0; i < segments - 1; i++) page[27 + i] = 255;
    page[27 + segments - 1] = data.length % 255;
    data.copy(page, 27 + segments);
    page.writeUInt32LE(oggCrc(page), 22);
    return page;
  }
}
