/**
 * The seam between the media engine (media/) and the business service (control/).
 *
 * Media decides nothing itself: before any media flows it asks StreamHooks, and it reports what
 * happens as MediaEvents. In one process (npm start) control hands media an in-process StreamHooks
 * and listens to the engine's typed events; when media runs as its own service the same calls go
 * over HTTP (hooks to control's /api/v1/hook/*, events as signed callbacks), and MediaControl is
 * media's small HTTP control API.
 */

export type PlayProtocol = 'rtmp' | 'http-flv' | 'ws-flv' | 'hls' | 'webrtc';

export interface PublishRequest {
  app: string;
  /** The publish name: the room's secret stream key. Never logged, never put in a play URL. */
  streamKey: string;
  /** Query of the publish URL, e.g. txSecret and txTime from the start call. */
  query: Record<string, string>;
  clientIp: string;
}

export type PublishDecision =
  /** streamName is the public name viewers play by (the room id); record turns recording on. */
  | { allow: true; streamName: string; record: boolean; sessionId?: string }
  | { allow: false; reason: string };

export interface PlayRequest {
  app: string;
  /** The public stream name (room id). */
  streamName: string;
  /** The play token from the query (?token=), if any. */
  token: string | undefined;
  query: Record<string, string>;
  clientIp: string;
  protocol: PlayProtocol;
}

export type PlayDecision = { allow: true; viewerId?: string } | { allow: false; reason: string };

export interface StreamHooks {
  authorizePublish(req: PublishRequest): Promise<PublishDecision>;
  authorizePlay(req: PlayRequest): Promise<PlayDecision>;
}

export interface VideoInfo {
  codec: string; // 'H264', 'HEVC', ...
  width: number;
  height: number;
  fps: number;
}

export interface AudioInfo {
  codec: string; // 'AAC', 'MP3', ...
  sampleRate: number;
  channels: number;
}

/**
 * Emitted once per publish, and only once audio or video flows (a publish that never sends media
 * gets publish.ended alone); control marks the session live on it.
 */
export interface PublishStarted {
  streamName: string;
  app: string;
  /** Unique per publish session (one RTMP connection's publish). */
  publisherId: string;
  sessionId?: string;
  clientIp: string;
  at: number;
  video?: VideoInfo;
  audio?: AudioInfo;
}

export type PublishEndReason = 'closed' | 'unpublished' | 'kicked' | 'idle' | 'error' | 'replaced';

export interface PublishEnded {
  streamName: string;
  app: string;
  publisherId: string;
  sessionId?: string;
  at: number;
  reason: PublishEndReason;
  bytesIn: number;
  durationMs: number;
}

export interface PlayStarted {
  streamName: string;
  viewerId: string;
  protocol: PlayProtocol;
  clientIp: string;
  at: number;
}

export interface PlayEnded extends PlayStarted {
  /** 'slow': could not keep up; 'shed': closed, newest first, while the engine stayed behind (media/stream/shed-policy.ts). */
  reason: 'closed' | 'kicked' | 'slow' | 'shed' | 'stream-ended' | 'error';
  bytesOut: number;
  durationMs: number;
}

/** Periodic per-stream figures; control treats them as the stream's heartbeat. */
export interface StreamStats {
  streamName: string;
  publisherId: string;
  sessionId?: string;
  at: number;
  bitrateInKbps: number;
  bitrateOutKbps: number;
  viewers: Record<PlayProtocol, number>;
  videoFrames: number;
  audioFrames: number;
  bytesIn: number;
  bytesOut: number;
}

export interface RecordDone {
  streamName: string;
  publisherId: string;
  sessionId?: string;
  /** Absolute path of the finished, flushed and closed FLV file. */
  path: string;
  /** 0-based index when a long publish is recorded in segments (ONAIR_RECORD_SEGMENT); absent = 0. */
  segment?: number;
  /** The publish session's last file (the show ended, or media died and this is the recovered file). */
  final?: boolean;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  size: number;
}

/** Event name -> payload. The engine emits these in-process; the HTTP adapter sends them signed. */
export interface MediaEvents {
  'publish.started': PublishStarted;
  'publish.ended': PublishEnded;
  'play.started': PlayStarted;
  'play.ended': PlayEnded;
  'stream.stats': StreamStats;
  'record.done': RecordDone;
}
export type MediaEventName = keyof MediaEvents;

/** Anything that emits MediaEvents by name: the engine itself, or a receiver of its HTTP callbacks. */
export interface MediaEventSource {
  on<K extends MediaEventName>(event: K, listener: (payload: MediaEvents[K]) => void): unknown;
  off<K extends MediaEventName>(event: K, listener: (payload: MediaEvents[K]) => void): unknown;
}

export interface StreamSummary {
  streamName: string;
  app: string;
  publisherId: string;
  sessionId?: string;
  clientIp: string;
  startedAt: number;
  video?: VideoInfo;
  audio?: AudioInfo;
  viewers: Record<PlayProtocol, number>;
  bytesIn: number;
  bytesOut: number;
  bitrateInKbps: number;
  /** Time between the publisher's last two keyframes (ms); 0 until known. Absent from older media versions. */
  keyframeIntervalMs?: number;
}

/** What control may ask of media. */
export interface MediaControl {
  /** Drops the publisher of the stream at once; false when nobody publishes it. */
  kickPublisher(streamName: string): Promise<boolean>;
  kickViewer(viewerId: string): Promise<boolean>;
  listStreams(): Promise<StreamSummary[]>;
}
