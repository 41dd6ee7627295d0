/**
 * A replay is one show (one publish session of a room) made watchable: its recording segments,
 * each an MP4 object in object storage with a poster. Written by the transcoder role, read and
 * deleted by control's replay API; both reach it through ReplayStore.
 */
export interface ReplaySegment {
  id: string;
  replayId: string;
  /** The recording.finished eventId this segment was made from (unique). */
  sourceEventId: string;
  segment: number;
  objectKey: string;
  posterKey: string | null;
  durationMs: number;
  size: number;
  /** MD5 of the MP4 as uploaded and verified. */
  md5: string;
  videoCodec: string | null;
  audioCodec: string | null;
  width: number | null;
  height: number | null;
  startedAt: number;
  endedAt: number;
}

export interface Replay {
  id: string;
  roomId: string;
  sessionId: string | null;
  publisherId: string;
  segmentCount: number;
  durationMs: number;
  size: number;
  posterKey: string | null;
  startedAt: number;
  endedAt: number;
  createdAt: number;
  /** Index of the show's last segment, once the recording that ends it was announced (`final`). */
  lastSegment: number | null;
  /** The whole show as one MP4 (segments joined), once every segment is in; null for a one-segment show. */
  joined: { objectKey: string; size: number; md5: string; durationMs: number } | null;
  /** When the segments' MP4 objects were removed after the join (ONAIR_REPLAY_KEEP_SEGMENTS=false); null while they are kept. */
  segmentsRemovedAt: number | null;
}

/** True when every segment 0..lastSegment is in and there is more than one: time to join them. */
export function readyToJoin(r: Pick<Replay, 'lastSegment' | 'segmentCount' | 'joined'>, segments: Pick<ReplaySegment, 'segment'>[]): boolean {
  if (r.joined || r.lastSegment === null || r.lastSegment < 1) return false;
  const have = new Set(segments.map((s) => s.segment));
  for (let i = 0; i <= r.lastSegment; i++) if (!have.has(i)) return false;
  return true;
}

/** A segment as the transcoder announces it: the show it belongs to instead of the replay's ids. */
export type NewSegment = Omit<ReplaySegment, 'id' | 'replayId'> & {
  roomId: string;
  sessionId: string | null;
  publisherId: string;
  /** The recording was the show's last (recording.finished `final`). */
  final?: boolean;
};

/** A show's replay groups its segments: one key per room and publish session. */
export const showKey = (roomId: string, publisherId: string): string => `${roomId}:${publisherId}`.slice(0, 191);

/** Object keys of a segment: deterministic, so a job run twice overwrites its own objects (one object, never two). */
export function segmentObjectKeys(roomId: string, publisherId: string, segment: number): { video: string; poster: string } {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128) || '_';
  const base = `replays/${safe(roomId)}/${safe(publisherId)}/${String(segment).padStart(4, '0')}`;
  return { video: `${base}.mp4`, poster: `${base}.jpg` };
}

/** The joined MP4 of a show in segments: deterministic too (a join run twice replaces its own object). */
export function joinedObjectKey(roomId: string, publisherId: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128) || '_';
  return `replays/${safe(roomId)}/${safe(publisherId)}/show.mp4`;
}
