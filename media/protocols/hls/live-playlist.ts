/**
 * The sliding window of a live HLS media playlist (RFC 8216): segments go in as they are
 * finished, the oldest fall out past `listSize`, and a segment is deleted from disk only
 * `keepAfter` segments after it left the playlist (a player may still be fetching it). Pure.
 */
export interface LiveSegment {
  sequence: number;
  name: string;
  durationMs: number;
  /** The first segment after a break in the timeline (publisher restart, codec change, lost data). */
  discontinuity: boolean;
}

export class LivePlaylist {
  private readonly window: LiveSegment[] = [];
  private readonly leaving: string[] = [];
  private discontinuitySequence = 0;
  private targetSeconds: number;

  constructor(
    private readonly listSize: number,
    targetSeconds: number,
    private readonly keepAfter = 2,
  ) {
    this.targetSeconds = Math.max(1, Math.ceil(targetSeconds));
  }

  /** Adds a finished segment; returns the names of segments now old enough to delete. */
  add(segment: LiveSegment): string[] {
    this.window.push(segment);
    // EXT-X-TARGETDURATION must cover every EXTINF rounded to the nearest second; it only grows.
    this.targetSeconds = Math.max(this.targetSeconds, Math.round(segment.durationMs / 1000));
    const deletable: string[] = [];
    while (this.window.length > this.listSize) {
      const gone = this.window.shift()!;
      // The discontinuity sequence counts the discontinuities that have left the window.
      if (gone.discontinuity) this.discontinuitySequence++;
      this.leaving.push(gone.name);
      if (this.leaving.length > this.keepAfter) deletable.push(this.leaving.shift()!);
    }
    return deletable;
  }

  get segments(): readonly LiveSegment[] {
    return this.window;
  }

  /** The media playlist text (no EXT-X-ENDLIST: the stream is live). */
  render(): string {
    const first = this.window[0];
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      `#EXT-X-TARGETDURATION:${this.targetSeconds}`,
      `#EXT-X-MEDIA-SEQUENCE:${first?.sequence ?? 0}`,
    ];
    if (this.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${this.discontinuitySequence}`);
    lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
    for (const s of this.window) {
      if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXTINF:${(s.durationMs / 1000).toFixed(3)},`, s.name);
    }
    return lines.join('\n') + '\n';
  }
}
