/**
 * The ffmpeg command line that turns an FLV byte stream on stdin into a live HLS playlist with
 * MPEG-TS segments, copying the codecs (no re-encode). Pure: options in, argv out.
 */
export interface FfmpegHlsOptions {
  /** Folder the playlist and segments go to (created by the caller). */
  dir: string;
  /** Target segment length in seconds (segments cut at keyframes, so the GOP decides the floor). */
  segmentSeconds: number;
  /** Segments kept in the playlist (older ones are deleted from disk). */
  listSize: number;
  /** First media sequence number: after a restart it continues past the old segments. */
  startNumber: number;
  /** Mark the first segment as a discontinuity (after a restart). */
  discontinuity: boolean;
}

export const HLS_PLAYLIST = 'index.m3u8';
/** Segment file names ffmpeg writes, and the only ones the HTTP side serves. */
export const HLS_SEGMENT_PATTERN = /^seg-(\d{1,12})\.ts$/;

export function ffmpegHlsArgs(o: FfmpegHlsOptions): string[] {
  const flags = ['delete_segments', 'independent_segments', 'omit_endlist', 'temp_file'];
  if (o.discontinuity) flags.push('discont_start');
  return [
    '-hide_banner', '-loglevel', 'error',
    // Small probe: the FLV carries its sequence headers up front, so start segmenting at once.
    '-probesize', '500000', '-analyzeduration', '1000000',
    '-f', 'flv', '-i', 'pipe:0',
    '-map', '0', '-c', 'copy',
    '-f', 'hls',
    '-hls_time', String(o.segmentSeconds),
    '-hls_list_size', String(o.listSize),
    '-hls_delete_threshold', '2',
    '-hls_flags', flags.join('+'),
    '-start_number', String(o.startNumber),
    '-hls_segment_filename', `${o.dir}/seg-%d.ts`,
    `${o.dir}/${HLS_PLAYLIST}`,
  ];
}
