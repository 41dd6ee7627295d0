/**
 * Pure argv builders for the ffmpeg jobs onair runs (STYLE §5: table-tested). No shell is involved:
 * each string is one argv entry, so file names never need quoting.
 *
 * Every command writes machine-readable progress to stdout (`-progress pipe:1`, parsed by
 * progress.ts), keeps stderr for errors only (`-loglevel error`), never reads stdin (`-nostdin`) and
 * never asks before overwriting (`-y`: the output is always a temporary file of ours).
 */
const common = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-progress', 'pipe:1', '-nostats', '-y'];

/**
 * FLV (or any container) -> MP4 without re-encoding: streams copied, the index (moov) moved to the
 * front (`+faststart`) so a browser can start and seek before it has the whole file.
 *
 * With `reserveMoovBytes`, the same file layout without the second pass: ffmpeg leaves that many
 * bytes after `ftyp` for the index (`-moov_size`) and writes it there at the end, the rest as a
 * `free` box, so everything past the reservation is written once, in order, and can be uploaded
 * while ffmpeg runs (transcode-job.ts). A reservation too small: ffmpeg 5.1 logs "reserved_moov_size
 * is too small" and still exits 0, having written the index over the start of the media data, so
 * the caller checks the file's head (assertReservedLayout) and then remuxes again with `+faststart`. `-map 0:v:0?
 * -map 0:a:0?` keeps the first video and audio (a recording without audio still works); data
 * streams (onMetaData) are dropped. `-fflags +genpts` gives packets without a pts one, which
 * recordings that begin mid-GOP sometimes have.
 */
/** Which tracks of a recording a remux keeps: both (the first of each), or one when the other cannot be set up. */
export type RemuxTracks = 'all' | 'video' | 'audio';

export function remuxArgs(input: string, output: string, options: { reserveMoovBytes?: number; tracks?: RemuxTracks } = {}): string[] {
  const { reserveMoovBytes, tracks = 'all' } = options;
  if (reserveMoovBytes !== undefined && (!Number.isSafeInteger(reserveMoovBytes) || reserveMoovBytes < 1024)) {
    throw new TypeError(`not a moov reservation in bytes: ${reserveMoovBytes}`);
  }
  return [
    ...common, '-fflags', '+genpts', '-i', input,
    ...(tracks === 'video' ? ['-map', '0:v:0', '-an'] : tracks === 'audio' ? ['-map', '0:a:0', '-vn'] : ['-map', '0:v:0?', '-map', '0:a:0?']),
    '-c', 'copy', '-dn', '-sn',
    ...(reserveMoovBytes ? ['-moov_size', String(reserveMoovBytes)] : ['-movflags', '+faststart']), '-f', 'mp4', output,
  ];
}

/**
 * One JPEG poster frame from `atSeconds` into the video (input seeking: fast, lands on the keyframe
 * before it), scaled to at most `maxWidth` wide keeping the aspect ratio (even height).
 */
export function posterArgs(input: string, output: string, atSeconds: number, maxWidth = 1280): string[] {
  return [
    ...common, '-ss', seconds(atSeconds), '-i', input,
    '-frames:v', '1', '-an', '-vf', `scale='min(${maxWidth},iw)':-2`, '-q:v', '3', '-f', 'image2', '-update', '1', output,
  ];
}

/**
 * A clip without re-encoding. With `-c copy` a cut can only begin on a keyframe: input seeking
 * (`-ss` before `-i`) starts at the keyframe at or before `start`, so a clip may begin up to one
 * GOP earlier than asked (2 s with the usual encoder settings). `-t` counts from there.
 * `-avoid_negative_ts make_zero` makes the clip's timestamps start at 0.
 */
export function clipArgs(input: string, output: string, startSeconds: number, durationSeconds: number): string[] {
  return [
    ...common, '-ss', seconds(startSeconds), '-i', input, '-t', seconds(durationSeconds),
    '-map', '0:v:0?', '-map', '0:a:0?', '-c', 'copy', '-dn', '-sn',
    '-avoid_negative_ts', 'make_zero', '-movflags', '+faststart', '-f', 'mp4', output,
  ];
}

/**
 * Several MP4 segments of one show -> one MP4, without re-encoding: the concat demuxer reads the
 * list file (concatListFile) and lays each file after the previous one on the timeline, streams
 * copied, the index moved to the front (`+faststart`). The segments must share codecs and
 * parameters, which the segments of one publish do (same encoder; each segment starts on a
 * keyframe with the sequence headers repeated). `-safe 0` because the list names absolute paths
 * (our own work folder).
 */
export function concatArgs(listFile: string, output: string): string[] {
  return [
    ...common, '-f', 'concat', '-safe', '0', '-i', listFile,
    '-map', '0:v:0?', '-map', '0:a:0?', '-c', 'copy', '-dn', '-sn',
    '-movflags', '+faststart', '-f', 'mp4', output,
  ];
}

/** The concat demuxer's list: one `file '...'` line per input, single quotes escaped its way. */
export function concatListFile(files: string[]): string {
  return `ffconcat version 1.0\n${files.map((f) => `file '${f.replace(/'/g, "'\\''")}'\n`).join('')}`;
}

/** ffprobe: container and streams as JSON (probe.ts reads it). */
export function probeArgs(input: string): string[] {
  return ['-hide_banner', '-loglevel', 'error', '-print_format', 'json', '-show_format', '-show_streams', input];
}

/** Seconds with millisecond precision, never in exponent notation. */
function seconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) throw new TypeError(`not a time in seconds: ${s}`);
  return s.toFixed(3);
}
