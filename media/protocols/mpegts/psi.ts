import type { ByteSink } from './byte-sink.js';
import { crc32Mpeg2 } from './crc32.js';
import { PID_PAT, PID_PMT, TS_PACKET_SIZE, TS_SYNC_BYTE } from './ts-constants.js';

/** One elementary stream listed in the PMT. */
export interface PmtStream {
  streamType: number;
  pid: number;
}

/**
 * Writes one TS packet holding a PSI section (PUSI set, pointer field 0), the section's CRC and
 * 0xFF stuffing. `section` writes the bytes from table_id up to (not including) the CRC at the
 * offset it is given and returns how many it wrote. Returns the next continuity counter.
 */
function writeSectionPacket(out: ByteSink, pid: number, cc: number, section: (b: Buffer, at: number) => number): number {
  const at = out.reserve(TS_PACKET_SIZE);
  const b = out.buf;
  b[at] = TS_SYNC_BYTE;
  b[at + 1] = 0x40 | ((pid >> 8) & 0x1f);
  b[at + 2] = pid & 0xff;
  b[at + 3] = 0x10 | (cc & 0x0f); // payload only
  b[at + 4] = 0; // pointer field
  const start = at + 5;
  const n = section(b, start);
  const crc = crc32Mpeg2(b, start, start + n);
  b.writeUInt32BE(crc, start + n);
  b.fill(0xff, start + n + 4, at + TS_PACKET_SIZE);
  return (cc + 1) & 0x0f;
}

/** The PAT: one program (number 1) whose PMT is on PID_PMT. Returns the next continuity counter. */
export function writePat(out: ByteSink, cc: number): number {
  return writeSectionPacket(out, PID_PAT, cc, (b, o) => {
    b[o] = 0x00; // table_id: program_association_section
    // section_syntax_indicator 1, '0', reserved '11', section_length (12 bits): 5 + 4 (program) + 4 (CRC)
    b[o + 1] = 0xb0;
    b[o + 2] = 13;
    b[o + 3] = 0x00; b[o + 4] = 0x01; // transport_stream_id 1
    b[o + 5] = 0xc1; // reserved '11', version 0, current_next 1
    b[o + 6] = 0x00; b[o + 7] = 0x00; // section_number, last_section_number
    b[o + 8] = 0x00; b[o + 9] = 0x01; // program_number 1
    b[o + 10] = 0xe0 | ((PID_PMT >> 8) & 0x1f); // reserved '111', program_map_PID
    b[o + 11] = PID_PMT & 0xff;
    return 12;
  });
}

/** The PMT of program 1: the PCR PID and each stream, no descriptors. Returns the next continuity counter. */
export function writePmt(out: ByteSink, cc: number, pcrPid: number, streams: readonly PmtStream[]): number {
  return writeSectionPacket(out, PID_PMT, cc, (b, o) => {
    const sectionLength = 9 + 5 * streams.length + 4;
    b[o] = 0x02; // table_id: TS_program_map_section
    b[o + 1] = 0xb0 | ((sectionLength >> 8) & 0x0f);
    b[o + 2] = sectionLength & 0xff;
    b[o + 3] = 0x00; b[o + 4] = 0x01; // program_number 1
    b[o + 5] = 0xc1;
    b[o + 6] = 0x00; b[o + 7] = 0x00;
    b[o + 8] = 0xe0 | ((pcrPid >> 8) & 0x1f);
    b[o + 9] = pcrPid & 0xff;
    b[o + 10] = 0xf0; b[o + 11] = 0x00; // reserved '1111', program_info_length 0
    let p = o + 12;
    for (const s of streams) {
      b[p] = s.streamType;
      b[p + 1] = 0xe0 | ((s.pid >> 8) & 0x1f);
      b[p + 2] = s.pid & 0xff;
      b[p + 3] = 0xf0; b[p + 4] = 0x00; // ES_info_length 0
      p += 5;
    }
    return p - o;
  });
}
