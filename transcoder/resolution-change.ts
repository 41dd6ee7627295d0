import { createReadStream } from 'node:fs';
import { runCapture } from '../core/ffmpeg/process.js';

/**
 * A publisher that changes resolution mid-show (an encoder reconfigured, OBS's output rescaled)
 * sends a new video sequence header (AVC/HEVC decoder configuration): live viewers switch at once,
 * and the FLV recording holds both. An MP4 has one decoder configuration per track, so `-c copy`
 * keeps the first and the part after the change does not decode. Such a recording is re-encoded
 * instead, every part scaled (aspect kept, padded) to the largest size of the show; the common
 * case, one configuration, stays on the fast copy path.
 */

/** FLV tag types and the video codec ids whose packets carry a sequence header at body[1] === 0. */
const TAG_VIDEO = 9;
const AVC = 7;
const HEVC = 12;

/**
 * How many different video decoder configurations an FLV file holds (0 for none). Reads the file
 * once in large chunks and looks only at tag headers and the first bytes of video tags; a header
 * sent again unchanged (a reconnect, a keyframe repeat) is not a change. Stops at 2.
 */
export async function distinctVideoConfigs(file: string, chunkBytes = 1 << 20): Promise<number> {
  const seen: Buffer[] = [];
  // Offset in the file of the next tag header; the first after the 9-byte FLV header and PreviousTagSize0.
  let next = 13;
  let pos = 0;
  /** A tag header (and the video body's first bytes) split over two chunks. */
  let carry = Buffer.alloc(0);
  let want: { size: number; bodyAt: number } | undefined;
  let body: Buffer[] = [];
  let bodyLen = 0;
  for await (const raw of createReadStream(file, { highWaterMark: chunkBytes })) {
    const chunk = raw as Buffer;
    const start = pos;
    pos += chunk.length;
    let at = next - start;
    while (true) {
      if (want) {
        // Collecting a video sequence header's body.
        const from = Math.max(0, want.bodyAt - start);
        const take = Math.min(chunk.length - from, want.size - bodyLen);
        if (take <= 0) break;
        body.push(chunk.subarray(from, from + take));
        bodyLen += take;
        if (bodyLen < want.size) break;
        const config = Buffer.concat(body);
        if (!seen.some((s) => s.equals(config))) seen.push(config);
        if (seen.length >= 2) return seen.length;
        want = undefined;
        body = [];
        bodyLen = 0;
        continue;
      }
      if (at >= chunk.length) break;
      // The 11-byte tag header plus 2 body bytes (codec and packet type), possibly across chunks.
      let head: Buffer;
      if (at < 0 || at + 13 > chunk.length) {
        const startInChunk = Math.max(0, at);
        carry = Buffer.concat([carry, chunk.subarray(startInChunk, Math.min(chunk.length, startInChunk + 13 - carry.length))]);
        if (carry.length < 13) break;
        head = carry;
      } else {
        head = chunk.subarray(at, at + 13);
      }
      carry = Buffer.alloc(0);
      const type = head[0]! & 0x1f;
      const size = head.readUIntBE(1, 3);
      const bodyAt = next + 11;
      if (type === TAG_VIDEO && size >= 5 && isSequenceHeader(head[11]!, head[12]!)) want = { size, bodyAt };
      next = bodyAt + size + 4;
      at = next - start;
    }
  }
  return seen.length;
}

function isSequenceHeader(b0: number, b1: number): boolean {
  // Enhanced RTMP: the high bit set, packet type (low nibble) 0 = SequenceStart.
  if (b0 & 0x80) return (b0 & 0x0f) === 0;
  const codec = b0 & 0x0f;
  return (codec === AVC || codec === HEVC) && b1 === 0;
}

/** The largest picture (by area) among the video's keyframes, from ffprobe (decodes keyframes only). */
export async function largestKeyframeSize(file: string, options: { binary?: string; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<{ width: number; height: number } | undefined> {
  const out = await runCapture(options.binary ?? 'ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-skip_frame', 'nokey', '-show_entries', 'frame=width,height', '-of', 'csv=p=0', file,
  ], { ...(options.signal ? { signal: options.signal } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
  let best: { width: number; height: number } | undefined;
  for (const m of out.matchAll(/^(\d+),(\d+)/gm)) {
    const width = Number(m[1]);
    const height = Number(m[2]);
    if (width > 0 && height > 0 && (!best || width * height > best.width * best.height)) best = { width, height };
  }
  return best;
}

/**
 * The video decoder configuration of each MP4 (codec, size and an MD5 of its avcC/hvcC), from
 * ffprobe: segments of one show whose configurations differ cannot be joined with `-c copy`.
 * A file without video answers undefined.
 */
export async function videoConfigOf(file: string, options: { binary?: string; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<{ config: string; width: number; height: number } | undefined> {
  const out = await runCapture(options.binary ?? 'ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,extradata_hash', '-show_data_hash', 'md5', '-of', 'csv=p=0', file,
  ], { ...(options.signal ? { signal: options.signal } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
  const m = /^(\w+),(\d+),(\d+),?(.*)$/m.exec(out.trim());
  return m ? { config: `${m[1]},${m[2]}x${m[3]},${m[4]}`, width: Number(m[2]), height: Number(m[3]) } : undefined;
}

/**
 * FLV -> MP4 (or, with `concat`, a concat demuxer list of a show's MP4 segments -> one MP4)
 * re-encoding the video at one size (`width`x`height`, made even): each part scaled keeping its
 * aspect and padded, H.264 at a quality close to the source's (CRF 20, veryfast), audio copied.
 * Same progress and error conventions as core/ffmpeg/args.ts's remux and concat.
 */
export function reencodeArgs(input: string, output: string, size: { width: number; height: number }, tracks: 'all' | 'video', concat = false): string[] {
  const w = size.width + (size.width % 2);
  const h = size.height + (size.height % 2);
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-progress', 'pipe:1', '-nostats', '-y',
    ...(concat ? ['-f', 'concat', '-safe', '0'] : ['-fflags', '+genpts']), '-i', input,
    '-map', '0:v:0', ...(tracks === 'all' ? ['-map', '0:a:0?'] : ['-an']),
    '-vf', `scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,setsar=1`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p',
    '-c:a', 'copy', '-dn', '-sn', '-movflags', '+faststart', '-f', 'mp4', output,
  ];
}
