/**
 * Reads ffmpeg's `-progress` output: blocks of `key=value` lines, each ended by
 * `progress=continue` (or `progress=end` for the last). One block becomes one FfmpegProgress.
 * Incremental: feed() takes chunks as they arrive, split anywhere.
 */
export interface FfmpegProgress {
  /** Media time written so far, in milliseconds (`out_time_us`; `out_time_ms` is also microseconds, despite its name). */
  outTimeMs: number;
  /** Bytes written so far (`total_size`). */
  totalSize: number;
  /** Processing speed as a multiple of realtime (`speed=812x`), when ffmpeg knows it. */
  speed: number | null;
  frame: number | null;
  /** True on the last block. */
  end: boolean;
}

export class ProgressParser {
  private buffer = '';
  private fields = new Map<string, string>();

  constructor(private readonly onProgress: (p: FfmpegProgress) => void) {}

  feed(chunk: string | Buffer): void {
    this.buffer += chunk.toString();
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const key = line.slice(0, eq);
      const value = line.slice(eq + 1).trim();
      if (key === 'progress') {
        this.onProgress(this.block(value === 'end'));
        this.fields.clear();
      } else {
        this.fields.set(key, value);
      }
    }
  }

  private block(end: boolean): FfmpegProgress {
    const f = this.fields;
    const us = num(f.get('out_time_us')) ?? num(f.get('out_time_ms'));
    const speed = f.get('speed')?.replace(/x$/, '');
    return {
      outTimeMs: us !== null && us > 0 ? Math.round(us / 1000) : 0,
      totalSize: num(f.get('total_size')) ?? 0,
      speed: num(speed),
      frame: num(f.get('frame')),
      end,
    };
  }
}

/** A number, or null for absent, `N/A` and anything else unparsable. */
function num(v: string | undefined): number | null {
  if (v === undefined || v === '' || v === 'N/A') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
