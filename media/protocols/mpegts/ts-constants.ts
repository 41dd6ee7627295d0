/** MPEG-TS numbers shared by the muxer pieces (ISO/IEC 13818-1). */
export const TS_PACKET_SIZE = 188;
export const TS_SYNC_BYTE = 0x47;
export const PID_PAT = 0x0000;
/** The PIDs ffmpeg's mpegts muxer uses, so segments look familiar in any analyzer. */
export const PID_PMT = 0x1000;
export const PID_VIDEO = 0x0100;
export const PID_AUDIO = 0x0101;
export const STREAM_TYPE_H264 = 0x1b;
export const STREAM_TYPE_AAC_ADTS = 0x0f;
export const STREAM_ID_VIDEO = 0xe0;
export const STREAM_ID_AUDIO = 0xc0;
/** 90 kHz ticks per millisecond (PTS/DTS clock). */
export const TICKS_PER_MS = 90;
/** PTS/DTS and the PCR base are 33-bit counters. */
export const TS_CLOCK_WRAP = 2 ** 33;
