import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAdtsConfig, writeAdtsHeader } from './adts.js';
import { AUD_NAL, parseAvcConfig, writeAnnexB } from './avc-annexb.js';
import { ByteSink } from './byte-sink.js';
import { crc32Mpeg2 } from './crc32.js';
import { writePcr, writePes, writeTimestamp } from './pes.js';
import { writePat, writePmt } from './psi.js';
import { PID_AUDIO, PID_PMT, PID_VIDEO, STREAM_TYPE_AAC_ADTS, STREAM_TYPE_H264, TS_PACKET_SIZE } from './ts-constants.js';
import { TsMuxer } from './ts-muxer.js';

/** Reads a 33-bit PTS/DTS field back. */
function readTimestamp(b: Buffer, at: number): number {
  return ((b[at]! >> 1) & 0x07) * 2 ** 30 + (b[at + 1]! << 22) + ((b[at + 2]! >> 1) << 15) + (b[at + 3]! << 7) + (b[at + 4]! >> 1);
}

function readPcrBase(b: Buffer, at: number): number {
  return b[at]! * 2 ** 25 + (b[at + 1]! << 17) + (b[at + 2]! << 9) + (b[at + 3]! << 1) + (b[at + 4]! >> 7);
}

interface TsPacket { pid: number; pusi: boolean; cc: number; af: Buffer | undefined; payload: Buffer }

function parsePackets(data: Buffer): TsPacket[] {
  assert.equal(data.length % TS_PACKET_SIZE, 0, 'whole packets');
  const out: TsPacket[] = [];
  for (let at = 0; at < data.length; at += TS_PACKET_SIZE) {
    const p = data.subarray(at, at + TS_PACKET_SIZE);
    assert.equal(p[0], 0x47, 'sync byte');
    const control = (p[3]! >> 4) & 0x03;
    let o = 4;
    let af: Buffer | undefined;
    if (control & 0x02) {
      af = p.subarray(5, 5 + p[4]!);
      o = 5 + p[4]!;
    }
    assert.ok(control & 0x01, 'every packet carries payload');
    out.push({ pid: ((p[1]! & 0x1f) << 8) | p[2]!, pusi: (p[1]! & 0x40) !== 0, cc: p[3]! & 0x0f, af, payload: p.subarray(o) });
  }
  return out;
}

describe('crc32Mpeg2', () => {
  it('matches the CRC-32/MPEG-2 check value', () => {
    assert.equal(crc32Mpeg2(Buffer.from('123456789')), 0x0376e6e7);
    assert.equal(crc32Mpeg2(Buffer.alloc(0)), 0xffffffff);
  });
});

describe('PSI', () => {
  it('writes the PAT byte for byte as ffmpeg does (program 1 on PID 0x1000)', () => {
    const out = new ByteSink(16);
    assert.equal(writePat(out, 15), 0, 'continuity counter wraps');
    const p = out.view();
    assert.equal(p.length, 188);
    assert.deepEqual([...p.subarray(0, 21)], [
      0x47, 0x40, 0x00, 0x1f, 0x00,
      0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2,
    ]);
    assert.ok(p.subarray(21).every((x) => x === 0xff), 'stuffing');
  });

  it('writes a PMT whose section checks out', () => {
    const out = new ByteSink(16);
    writePmt(out, 3, PID_VIDEO, [{ streamType: STREAM_TYPE_H264, pid: PID_VIDEO }, { streamType: STREAM_TYPE_AAC_ADTS, pid: PID_AUDIO }]);
    const [pkt] = parsePackets(out.view());
    assert.equal(pkt!.pid, PID_PMT);
    assert.ok(pkt!.pusi);
    assert.equal(pkt!.cc, 3);
    const s = pkt!.payload.subarray(1); // after the pointer field
    assert.equal(s[0], 0x02);
    const sectionLength = ((s[1]! & 0x0f) << 8) | s[2]!;
    assert.equal(sectionLength, 9 + 10 + 4);
    assert.equal(crc32Mpeg2(s, 0, 3 + sectionLength), 0, 'CRC over the section including its CRC is 0');
    assert.equal(((s[8]! & 0x1f) << 8) | s[9]!, PID_VIDEO, 'PCR PID');
    assert.deepEqual([...s.subarray(12, 22)], [0x1b, 0xe1, 0x00, 0xf0, 0x00, 0x0f, 0xe1, 0x01, 0xf0, 0x00]);
  });
});

describe('PES packetization', () => {
  it('encodes 33-bit PTS/DTS and PCR fields', () => {
    const b = Buffer.alloc(6);
    for (const ts of [0, 1, 90_000, 2 ** 32 + 12345, 2 ** 33 - 1]) {
      writeTimestamp(b, 0, 2, ts);
      assert.equal(b[0]! >> 4, 2);
      assert.equal(b[0]! & 1, 1); assert.equal(b[2]! & 1, 1); assert.equal(b[4]! & 1, 1);
      assert.equal(readTimestamp(b, 0), ts);
      writePcr(b, 0, ts);
      assert.equal(readPcrBase(b, 0), ts);
      assert.equal(b[4]! & 0x7e, 0x7e, 'reserved bits set');
      assert.equal(((b[4]! & 1) << 8) | b[5]!, 0, 'extension 0');
    }
  });

  it('cuts any payload length into whole packets that reassemble to header + payload', () => {
    for (let len = 1; len < 800; len += 1) {
      const payload = Buffer.alloc(len, len & 0xff);
      const out = new ByteSink(64);
      const video = len % 2 === 0;
      const next = writePes(out, 14, {
        pid: 0x100, streamId: video ? 0xe0 : 0xc0, payload, payloadLength: len,
        pts: 183_000, dts: video ? 180_000 : undefined, pcr: video ? 171_000 : undefined, randomAccess: video,
      });
      const pkts = parsePackets(out.view());
      assert.equal(next, (14 + pkts.length) & 0x0f);
      pkts.forEach((p, i) => {
        assert.equal(p.cc, (14 + i) & 0x0f);
        assert.equal(p.pusi, i === 0);
      });
      const first = pkts[0]!;
      if (video) {
        assert.equal(first.af![0]! & 0x50, 0x50, 'random access + PCR flags');
        assert.equal(readPcrBase(first.af!, 1), 171_000);
      }
      const pes = Buffer.concat(pkts.map((p) => p.payload));
      assert.deepEqual([...pes.subarray(0, 4)], [0, 0, 1, video ? 0xe0 : 0xc0]);
      const headerDataLength = pes[8]!;
      assert.equal(headerDataLength, video ? 10 : 5);
      assert.equal(pes.readUInt16BE(4), 3 + headerDataLength + len, 'PES_packet_length');
      assert.equal(pes[7], video ? 0xc0 : 0x80);
      assert.equal(readTimestamp(pes, 9), 183_000);
      if (video) {
        assert.equal(pes[9]! >> 4, 3);
        assert.equal(pes[14]! >> 4, 1);
        assert.equal(readTimestamp(pes, 14), 180_000);
      }
      assert.ok(pes.subarray(9 + headerDataLength).equals(payload), `payload of ${len}`);
    }
  });
});

describe('ADTS', () => {
  it('describes AAC LC 44.1 kHz stereo frames', () => {
    const cfg = parseAdtsConfig(Buffer.from([0x12, 0x10]))!; // LC, index 4, 2 channels
    assert.deepEqual(cfg, { profile: 1, samplingIndex: 4, channelConfig: 2 });
    const b = Buffer.alloc(7);
    writeAdtsHeader(b, 0, cfg, 371);
    assert.deepEqual([...b], [0xff, 0xf1, 0x50, 0x80, 0x2f, 0x5f, 0xfc]);
    const frameLength = ((b[3]! & 0x03) << 11) | (b[4]! << 3) | (b[5]! >> 5);
    assert.equal(frameLength, 378);
    assert.equal(parseAdtsConfig(Buffer.from([0x17, 0x80, 0, 0, 0])), undefined, 'explicit rate cannot be carried');
  });
});

describe('Annex-B', () => {
  const sps = Buffer.from([0x67, 0x42, 0xc0, 0x1e, 0xd9]);
  const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
  const record = Buffer.from([1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, sps.length, ...sps, 1, 0, pps.length, ...pps]);

  it('puts an AUD first and SPS/PPS before each IDR, with start codes', () => {
    const cfg = parseAvcConfig(record)!;
    assert.equal(cfg.nalLengthSize, 4);
    const idr = Buffer.from([0x65, 1, 2, 3]);
    const aud = Buffer.from([0x09, 0xf0]);
    const frame = Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0]), u32(aud.length), aud, u32(idr.length), idr]);
    const out = new ByteSink(4);
    assert.equal(writeAnnexB(out, cfg, frame, 5, true), true);
    const sc = [0, 0, 0, 1];
    assert.deepEqual([...out.view()], [...AUD_NAL, ...sc, ...sps, ...sc, ...pps, ...sc, ...idr]);
    out.reset();
    writeAnnexB(out, cfg, frame, 5, false);
    assert.deepEqual([...out.view()], [...AUD_NAL, ...sc, ...idr], 'no parameter sets, in-band AUD dropped');
    assert.equal(writeAnnexB(out, cfg, Buffer.concat([frame.subarray(0, 5), u32(99), idr]), 5, false), false, 'length past the data');
  });

  it('refuses malformed records', () => {
    assert.equal(parseAvcConfig(Buffer.from([1, 2, 3])), undefined);
    assert.equal(parseAvcConfig(Buffer.from([1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 50, 1])), undefined);
  });
});

describe('TsMuxer', () => {
  it('writes frames as PES on their PIDs with shifted 90 kHz timestamps', () => {
    const sps = Buffer.from([0x67, 0x42, 0xc0, 0x1e]);
    const pps = Buffer.from([0x68, 0xce]);
    const m = new TsMuxer(1000, 100);
    assert.ok(m.setVideoConfig(Buffer.from([0x17, 0, 0, 0, 0, 1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 4, ...sps, 1, 0, 2, ...pps])));
    assert.ok(m.setAudioConfig(Buffer.from([0xaf, 0, 0x12, 0x10])));
    const out = new ByteSink(1024);
    m.writeTables(out);
    const nal = Buffer.alloc(500, 7); nal[0] = 0x65;
    assert.ok(m.writeVideo(out, Buffer.concat([Buffer.from([0x17, 1, 0, 0, 40]), u32(nal.length), nal]), 2000, true));
    assert.ok(m.writeAudio(out, Buffer.concat([Buffer.from([0xaf, 1]), Buffer.alloc(300, 3)]), 2010));
    assert.equal(m.writeVideo(out, Buffer.from([0x27, 1, 0, 0, 0]), 2033, false), true, 'empty frame: just the AUD');
    assert.equal(m.writeAudio(out, Buffer.from([0x2f, 1, 2]), 2040), false, 'MP3 is not muxed');
    const pkts = parsePackets(out.view());
    assert.deepEqual(pkts.slice(0, 2).map((p) => p.pid), [0, PID_PMT]);
    const video = pkts.filter((p) => p.pid === PID_VIDEO);
    const pes = video[0]!.payload;
    assert.equal(readTimestamp(pes, 9), (2000 + 40 + 1000) * 90, 'PTS = DTS + composition time');
    assert.equal(readTimestamp(pes, 14), 3000 * 90);
    assert.equal(readPcrBase(video[0]!.af!, 1), 2900 * 90, 'PCR leads the DTS');
    const audio = pkts.filter((p) => p.pid === PID_AUDIO);
    assert.equal(audio[0]!.payload[9 + 5], 0xff, 'ADTS sync after the PES header');
    assert.equal(readTimestamp(audio[0]!.payload, 9), 3010 * 90);
  });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
