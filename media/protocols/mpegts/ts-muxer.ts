import { ADTS_MAX_RAW, parseAdtsConfig, writeAdtsHeader, type AdtsConfig } from './adts.js';
import { parseAvcConfig, writeAnnexB, type AvcConfig } from './avc-annexb.js';
import { ByteSink } from './byte-sink.js';
import { writePes } from './pes.js';
import { writePat, writePmt, type PmtStream } from './psi.js';
import {
  PID_AUDIO, PID_VIDEO, STREAM_ID_AUDIO, STREAM_ID_VIDEO, STREAM_TYPE_AAC_ADTS, STREAM_TYPE_H264, TICKS_PER_MS, TS_CLOCK_WRAP,
} from './ts-constants.js';

/**
 * FLV tag bodies (H.264 AVC, AAC) in, MPEG-TS packets out, for HLS segments. Pure apart from its
 * own state: the decoder configurations and the continuity counters, which run on across the
 * segments of a stream. Every write goes into a caller's ByteSink; the Annex-B / ADTS form of a
 * frame is built in one reused scratch buffer, so a steady stream allocates nothing per frame.
 *
 * Timestamps: FLV milliseconds (DTS; PTS = DTS + composition time for video) become 90 kHz ticks
 * shifted by `offsetMs` so that PCR, a little behind the DTS, never goes negative.
 */
export class TsMuxer {
  private avc: AvcConfig | undefined;
  private aac: AdtsConfig | undefined;
  private ccPat = 0;
  private ccPmt = 0;
  private ccVideo = 0;
  private ccAudio = 0;
  private readonly scratch = new ByteSink(256 * 1024);

  constructor(private readonly offsetMs = 1400, private readonly pcrLeadMs = 100) {}

  get hasVideo(): boolean {
    return this.avc !== undefined;
  }

  get hasAudio(): boolean {
    return this.aac !== undefined;
  }

  /** An FLV video body that is an H.264 sequence header: takes its SPS/PPS. False when it is not one this muxer can use. */
  setVideoConfig(body: Buffer): boolean {
    const v = readAvcTag(body);
    if (!v || v.packetType !== 0) return false;
    const cfg = parseAvcConfig(body.subarray(v.dataStart));
    if (cfg) this.avc = cfg;
    return cfg !== undefined;
  }

  /** An FLV audio body that is an AAC AudioSpecificConfig. */
  setAudioConfig(body: Buffer): boolean {
    if (body.length < 4 || body[0]! >> 4 !== 10 || body[1] !== 0) return false;
    const cfg = parseAdtsConfig(body.subarray(2));
    if (cfg) this.aac = cfg;
    return cfg !== undefined;
  }

  /** Same decoder configuration as the current one (a repeated sequence header changes nothing). */
  sameVideoConfig(body: Buffer): boolean {
    const v = readAvcTag(body);
    const cfg = v && v.packetType === 0 ? parseAvcConfig(body.subarray(v.dataStart)) : undefined;
    return !!cfg && !!this.avc && cfg.nalLengthSize === this.avc.nalLengthSize && cfg.parameterSets.equals(this.avc.parameterSets);
  }

  /** The PCR travels with video when there is video, else with audio. */
  private get pcrPid(): number {
    return this.avc ? PID_VIDEO : PID_AUDIO;
  }

  /** PAT and PMT (every segment starts with them). */
  writeTables(out: ByteSink): void {
    const streams: PmtStream[] = [];
    if (this.avc) streams.push({ streamType: STREAM_TYPE_H264, pid: PID_VIDEO });
    if (this.aac) streams.push({ streamType: STREAM_TYPE_AAC_ADTS, pid: PID_AUDIO });
    this.ccPat = writePat(out, this.ccPat);
    this.ccPmt = writePmt(out, this.ccPmt, this.pcrPid, streams);
  }

  /**
   * One FLV video body (coded frames) as one PES; `dtsMs` is the tag's timestamp. Returns false
   * (writing nothing) for bodies it cannot carry: sequence headers, end of sequence, other codecs,
   * frames before the configuration, malformed NAL lengths.
   */
  writeVideo(out: ByteSink, body: Buffer, dtsMs: number, keyframe: boolean): boolean {
    const cfg = this.avc;
    const v = readAvcTag(body);
    if (!cfg || !v || v.packetType !== 1) return false;
    const s = this.scratch;
    s.reset();
    if (!writeAnnexB(s, cfg, body, v.dataStart, keyframe)) return false;
    const dts = this.ticks(dtsMs);
    const pts = this.ticks(dtsMs + v.compositionMs);
    this.ccVideo = writePes(out, this.ccVideo, {
      pid: PID_VIDEO, streamId: STREAM_ID_VIDEO, payload: s.buf, payloadLength: s.length,
      pts, dts, pcr: this.pcrPid === PID_VIDEO ? this.pcr(dtsMs) : undefined, randomAccess: keyframe,
    });
    return true;
  }

  /** One FLV AAC raw frame body as one PES with an ADTS header. False for anything else. */
  writeAudio(out: ByteSink, body: Buffer, ptsMs: number): boolean {
    const cfg = this.aac;
    if (!cfg || body.length < 3 || body[0]! >> 4 !== 10 || body[1] !== 1) return false;
    const rawLength = body.length - 2;
    if (rawLength > ADTS_MAX_RAW) return false;
    const s = this.scratch;
    s.reset();
    const at = s.reserve(7 + rawLength);
    writeAdtsHeader(s.buf, at, cfg, rawLength);
    body.copy(s.buf, at + 7, 2);
    this.ccAudio = writePes(out, this.ccAudio, {
      pid: PID_AUDIO, streamId: STREAM_ID_AUDIO, payload: s.buf, payloadLength: s.length,
      pts: this.ticks(ptsMs), pcr: this.pcrPid === PID_AUDIO ? this.pcr(ptsMs) : undefined, randomAccess: true,
    });
    return true;
  }

  private ticks(ms: number): number {
    return (((ms + this.offsetMs) * TICKS_PER_MS) % TS_CLOCK_WRAP + TS_CLOCK_WRAP) % TS_CLOCK_WRAP;
  }

  private pcr(ms: number): number {
    return this.ticks(ms - this.pcrLeadMs);
  }
}

interface AvcTag {
  /** 0: sequence header, 1: coded frames, 2: end of sequence. */
  packetType: number;
  compositionMs: number;
  dataStart: number;
}

/** The AVC part of an FLV video body, legacy (codec id 7) or enhanced RTMP ('avc1'); undefined otherwise. */
function readAvcTag(body: Buffer): AvcTag | undefined {
  if (body.length < 5) return undefined;
  const b0 = body[0]!;
  if (b0 & 0x80) {
    if (body.readUInt32BE(1) !== 0x61766331) return undefined; // 'avc1'
    const type = b0 & 0x0f;
    if (type === 0) return { packetType: 0, compositionMs: 0, dataStart: 5 };
    if (type === 1 && body.length >= 8) return { packetType: 1, compositionMs: body.readIntBE(5, 3), dataStart: 8 };
    if (type === 3) return { packetType: 1, compositionMs: 0, dataStart: 5 };
    return { packetType: 2, compositionMs: 0, dataStart: 5 };
  }
  if ((b0 & 0x0f) !== 7) return undefined;
  return { packetType: body[1]!, compositionMs: body.readIntBE(2, 3), dataStart: 5 };
}
