import type { Registry } from 'prom-client';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import type { MediaControl, StreamSummary } from '../../core/media/media-contract.js';
import type { Role } from '../auth/user.js';
import type { UserStore } from '../auth/user.store.js';
import type { RoomService } from '../rooms/room.service.js';
import type { OperatorStore, RoomFilter } from './operator.store.js';

/** The slice of the event bus the overview reads: how many callbacks gave up (dead letters). */
export interface DeadLetterCount {
  listDead(options?: { group?: string; limit?: number }): Promise<unknown[]>;
}

export interface OperatorServiceDeps {
  store: OperatorStore;
  users: UserStore;
  rooms: Pick<RoomService, 'get' | 'view' | 'invalidate'>;
  media: Pick<MediaControl, 'listStreams'>;
  metrics: Registry;
  bus?: DeadLetterCount;
  /** Room id → chat messages in the last minute, over every control node (control/chat/chat-rate.ts). */
  chatRates?: (now: number) => Promise<Map<string, number>>;
  /** Events of the bus the callbacks consumer group has not acknowledged yet (the bus's backlog count, shared by every node). */
  callbackBacklog?: () => Promise<number>;
  log?: Logger;
  now?: () => number;
}

/** A live room on the supervision wall (实时监管画面). */
export interface WallTile {
  room_id: string;
  title: string;
  owner: { id: string; username: string | null };
  viewers: number;
  /** Chat and danmaku messages accepted in the last minute (null when the count is unavailable). */
  chat_per_min: number | null;
  /** Same-origin URL of the newest frame (media's keyframe screenshot), or the cover a vendor's screenshot callback set; null when neither exists. */
  frame_url: string | null;
  ingest: IngestFigures | null;
}

export interface IngestFigures {
  bitrate_kbps: number;
  fps: number;
  width: number;
  height: number;
  video_codec: string | null;
  audio_codec: string | null;
  keyframe_interval_ms: number;
  started_at: string;
}

export function ingestFigures(s: StreamSummary | undefined): IngestFigures | null {
  if (!s) return null;
  return {
    bitrate_kbps: Math.round(s.bitrateInKbps), fps: s.video?.fps ?? 0, width: s.video?.width ?? 0, height: s.video?.height ?? 0,
    video_codec: s.video?.codec ?? null, audio_codec: s.audio?.codec ?? null, keyframe_interval_ms: s.keyframeIntervalMs ?? 0,
    started_at: new Date(s.startedAt).toISOString(),
  };
}

/** Sum of a metric's samples from prom-client's JSON (optionally only those whose labels match). */
function metricSum(all: Array<{ name: string; values: Array<{ value: number; labels: Record<string, unknown> }> }>, name: string): number | null {
  const m = all.find((x) => x.name === name);
  if (!m) return null;
  return m.values.reduce((n, v) => n + (Number.isFinite(v.value) ? v.value : 0), 0);
}

/**
 * The operator console's reads and the few writes of its own (pins, roles, conventions). Force
 * close, restore and bans stay with their services (live-sessions, moderation).
 */
export class OperatorService {
  private readonly now: () => number;
  /** Previous sample of the byte counters and CPU time, for rates between two overview reads. */
  private lastSample: { at: number; bytesIn: number; bytesOut: number; cpu: number; overview: Record<string, unknown> } | undefined;

  constructor(private readonly deps: OperatorServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  listRooms(q: { filter: RoomFilter; anchorId?: string; q?: string; page: number; pageSize: number }) {
    return this.deps.store.listRooms({ filter: q.filter, anchorId: q.anchorId, q: q.q, limit: q.pageSize, offset: (q.page - 1) * q.pageSize, now: new Date(this.now()) });
  }

  /** An anchor's ended shows in the given rooms (theirs: the route checks), newest first. */
  anchorSessions(roomIds: string[], page: { limit: number; offset: number }) {
    return this.deps.store.sessions(roomIds, { ...page, endedOnly: true });
  }

  async roomDetail(id: string) {
    const now = new Date(this.now());
    const room = await this.deps.store.room(id, now);
    if (!room) throw new NotFoundError('no such room', { code: 'room_not_found' });
    const [view, sessions, history, streams] = await Promise.all([
      this.deps.rooms.view(id),
      this.deps.store.sessions([id], { limit: 20 }).then((x) => x.sessions),
      this.deps.store.moderationHistory(id, room.owner.id, 50),
      this.liveStreams(),
    ]);
    return {
      ...room,
      viewers: view.viewers,
      status: view.status,
      session_id: view.session_id,
      ingest: ingestFigures(streams.get(id)),
      sessions,
      moderation: history,
    };
  }

  searchUsers(q: { q?: string; role?: Role; page: number; pageSize: number }) {
    return this.deps.store.searchUsers({ q: q.q, role: q.role, limit: q.pageSize, offset: (q.page - 1) * q.pageSize, now: new Date(this.now()) });
  }

  async setRole(operatorId: string, userId: string, role: Role): Promise<void> {
    const user = await this.deps.users.findById(userId);
    if (!user) throw new NotFoundError('no such user', { code: 'user_not_found' });
    // An operator taking their own role away could leave the platform with no operator at all.
    if (userId === operatorId && role !== 'operator') throw new ValidationError('operators cannot demote themselves', { code: 'self_demotion' });
    await this.deps.users.setRole(userId, role);
    this.deps.log?.info({ userId, role, operatorId }, 'role changed');
  }

  audits(q: { severity?: string; roomId?: string; anchorId?: string; page: number; pageSize: number }) {
    return this.deps.store.audits({ severity: q.severity, roomId: q.roomId, anchorId: q.anchorId, limit: q.pageSize, offset: (q.page - 1) * q.pageSize });
  }

  conventions() {
    return this.deps.store.latestConvention();
  }

  conventionHistory() {
    return this.deps.store.conventionHistory(20);
  }

  async saveConventions(body: string, by: string) {
    await this.deps.store.saveConvention(body, by, new Date(this.now()));
    this.deps.log?.info({ by, chars: body.length }, 'conventions updated');
    return (await this.deps.store.latestConvention())!;
  }

  /** Every live room with its newest frame and live figures. */
  async wall(): Promise<WallTile[]> {
    const [rooms, streams, chat] = await Promise.all([
      this.deps.store.liveRooms(200), this.liveStreams(),
      this.deps.chatRates ? this.deps.chatRates(this.now()).catch((err) => { this.deps.log?.warn({ err }, 'chat rates unavailable'); return null; }) : null,
    ]);
    return Promise.all(rooms.map(async (r) => {
      const view = await this.deps.rooms.view(r.id).catch(() => null);
      const stream = streams.get(r.id);
      return {
        room_id: r.id, title: r.title, owner: { id: r.owner_id, username: r.username }, viewers: view?.viewers ?? 0,
        chat_per_min: chat ? chat.get(r.id) ?? 0 : null,
        frame_url: stream ? `/live/${encodeURIComponent(r.id)}/frame.jpg` : r.cover_url, ingest: ingestFigures(stream),
      };
    }));
  }

  /** Figures from this process's metrics registry (media's gauges are there in the all-in-one process) and media's stream list. */
  async overview() {
    const all = (await this.deps.metrics.getMetricsAsJSON()) as unknown as Array<{ name: string; values: Array<{ value: number; labels: Record<string, unknown> }> }>;
    const streams = await this.deps.media.listStreams().catch(() => null);
    const at = this.now();
    const bytesIn = metricSum(all, 'onair_media_bytes_in_total');
    const bytesOut = metricSum(all, 'onair_media_bytes_out_total');
    const cpu = metricSum(all, 'process_cpu_seconds_total');
    let rates: { ingest_kbps: number | null; egress_kbps: number | null; cpu_percent: number | null } = { ingest_kbps: null, egress_kbps: null, cpu_percent: null };
    const prev = this.lastSample;
    // Rates need a window of a second or more; reads closer together reuse the last rates.
    if (prev && at - prev.at < 1000) return { ...prev.overview, at: new Date(at).toISOString() };
    if (prev && at > prev.at) {
      const s = (at - prev.at) / 1000;
      rates = {
        ingest_kbps: bytesIn === null ? null : Math.round(((bytesIn - prev.bytesIn) * 8) / 1000 / s),
        egress_kbps: bytesOut === null ? null : Math.round(((bytesOut - prev.bytesOut) * 8) / 1000 / s),
        cpu_percent: cpu === null ? null : Math.round(((cpu - prev.cpu) / s) * 1000) / 10,
      };
    }
    const sample = { at, bytesIn: bytesIn ?? 0, bytesOut: bytesOut ?? 0, cpu: cpu ?? 0 };
    // Without media's byte counters in this registry (control on its own), ingest is the sum of the streams' bitrates.
    if (rates.ingest_kbps === null && streams) rates.ingest_kbps = Math.round(streams.reduce((n, s) => n + s.bitrateInKbps, 0));
    const [dead, backlog] = await Promise.all([
      this.deps.bus ? this.deps.bus.listDead({ limit: 1000 }).then((d) => d.length, () => null) : null,
      this.deps.callbackBacklog ? this.deps.callbackBacklog().catch(() => null) : null,
    ]);
    const overview = {
      at: new Date(at).toISOString(),
      streams: streams?.length ?? metricSum(all, 'onair_media_streams'),
      viewers: streams ? streams.reduce((n, s) => n + Object.values(s.viewers).reduce((a, b) => a + b, 0), 0) : metricSum(all, 'onair_media_viewers'),
      ...rates,
      memory_rss_bytes: metricSum(all, 'process_resident_memory_bytes') ?? process.memoryUsage().rss,
      heap_used_bytes: metricSum(all, 'nodejs_heap_size_used_bytes'),
      dead_letters: dead,
      callback_backlog: backlog,
    };
    this.lastSample = { ...sample, overview };
    return overview;
  }

  private async liveStreams(): Promise<Map<string, StreamSummary>> {
    try {
      return new Map((await this.deps.media.listStreams()).map((s) => [s.streamName, s]));
    } catch (err) {
      this.deps.log?.warn({ err }, 'media stream list unavailable');
      return new Map();
    }
  }
}
