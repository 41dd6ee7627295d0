import { Counter, Gauge, type Registry } from 'prom-client';
import type { PlayProtocol } from '../core/media/media-contract.js';

/** What the engine exposes to metrics; read only when Prometheus scrapes (nothing per packet). */
export interface MediaMetricsSource {
  streamCount(): number;
  publisherCount(): number;
  rtmpConnections(): number;
  viewersByProtocol(): Record<PlayProtocol, number>;
  bytesIn(): number;
  bytesOut(): number;
  refusals(): { publish: number; play: number };
  /** RTMP connections refused or dropped by the connection limits, by reason. */
  rtmpRefusals(): Record<string, number>;
  skips(): number;
  evictions(): number;
  /** Flush ticks written (each writes every viewer with queued data), and the measured fixed cost of writing one viewer (ms). */
  flushTicks(): number;
  /** Of those, the ticks started at a video frame's fan-out (FrameAlign) instead of by the timer. */
  flushAlignedTicks(): number;
  flushCostPerViewerMs(): number;
  /** Admission control: the smoothed flush lag (ms), whether new viewers are refused now, and the refusals by protocol. */
  flushLagMs(): number;
  overloaded(): boolean;
  overloadRefusals(): Record<string, number>;
  /** Viewers shed (closed, newest first) while the engine stayed behind despite the refusals, by protocol. */
  shedViewers(): Record<string, number>;
  /** Per-stream figures; the engine returns at most `limit` streams, busiest first. */
  perStream(limit: number): { name: string; bitrateInKbps: number; bitrateOutKbps: number; viewers: number; keyframeIntervalMs: number }[];
}

/** Per-stream labels are capped so a flood of publishes cannot blow up the series count. */
export const MAX_STREAM_LABELS = 100;

/**
 * Registers the media metrics on `registry`. Values live as plain numbers in the engine and are
 * copied here in collect(), so the packet path pays nothing; per-stream series are rebuilt on
 * every scrape, so a stream's labels vanish once it is unpublished.
 */
export function registerMediaMetrics(registry: Registry, src: MediaMetricsSource): void {
  const registers = [registry];
  const totalCounter = (name: string, help: string, read: () => number) =>
    new Counter({
      name, help, registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  new Gauge({ name: 'onair_media_streams', help: 'Live streams', registers, collect() { this.set(src.streamCount()); } });
  new Gauge({ name: 'onair_media_publishers', help: 'Publishing connections', registers, collect() { this.set(src.publisherCount()); } });
  new Gauge({ name: 'onair_media_rtmp_connections', help: 'Open RTMP connections', registers, collect() { this.set(src.rtmpConnections()); } });
  new Gauge({
    name: 'onair_media_viewers', help: 'Viewers by protocol', labelNames: ['protocol'], registers,
    collect() {
      for (const [protocol, n] of Object.entries(src.viewersByProtocol())) this.set({ protocol }, n);
    },
  });
  totalCounter('onair_media_bytes_in_total', 'Media bytes received from publishers', () => src.bytesIn());
  totalCounter('onair_media_bytes_out_total', 'Media bytes sent to viewers', () => src.bytesOut());
  new Counter({
    name: 'onair_media_auth_refusals_total', help: 'Publish and play requests refused', labelNames: ['kind'], registers,
    collect() {
      this.reset();
      const r = src.refusals();
      this.inc({ kind: 'publish' }, r.publish);
      this.inc({ kind: 'play' }, r.play);
    },
  });
  new Counter({
    name: 'onair_media_rtmp_refusals_total',
    help: 'RTMP connections refused or dropped by the connection limits: per_ip, server_full, displaced (oldest idle one, at the cap), players_full (publisher reserve), start_timeout',
    labelNames: ['reason'], registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(src.rtmpRefusals())) this.inc({ reason }, n);
    },
  });
  totalCounter('onair_media_viewer_skips_total', 'Slow viewers skipped ahead to the next keyframe', () => src.skips());
  totalCounter('onair_media_viewer_evictions_total', 'Slow viewers disconnected', () => src.evictions());
  totalCounter('onair_media_flush_ticks_total', 'Write ticks (every viewer with queued data written once); their rate is what adaptive coalescing chose', () => src.flushTicks());
  totalCounter('onair_media_flush_aligned_ticks_total', 'Write ticks started right after a video frame was queued to most waiting viewers (that frame waits for no tick)', () => src.flushAlignedTicks());
  new Gauge({
    name: 'onair_media_flush_write_cost_seconds', help: 'Measured fixed CPU cost of one viewer write (what coalescing saves)', registers,
    collect() { this.set(src.flushCostPerViewerMs() / 1000); },
  });
  new Gauge({
    name: 'onair_media_flush_lag_seconds', help: 'Smoothed flush lag: from a viewer having data waiting to its write (admission control refuses new viewers past three times the flush interval)', registers,
    collect() { this.set(src.flushLagMs() / 1000); },
  });
  new Gauge({
    name: 'onair_media_overloaded', help: '1 while the engine refuses new viewers because its flush lag is over the limit', registers,
    collect() { this.set(src.overloaded() ? 1 : 0); },
  });
  new Counter({
    name: 'onair_media_overload_refusals_total', help: 'New viewers refused because the engine was behind (HTTP/WS-FLV 503, RTMP NetStream.Play.Failed)', labelNames: ['protocol'], registers,
    collect() {
      this.reset();
      for (const [protocol, n] of Object.entries(src.overloadRefusals())) this.inc({ protocol }, n);
    },
  });
  new Counter({
    name: 'onair_media_shed_viewers_total', help: 'Viewers closed, newest first, because the engine stayed behind despite refusing new ones (play.ended reason shed)', labelNames: ['protocol'], registers,
    collect() {
      this.reset();
      for (const [protocol, n] of Object.entries(src.shedViewers())) this.inc({ protocol }, n);
    },
  });
  const perStream = (name: string, help: string, pick: (s: ReturnType<MediaMetricsSource['perStream']>[number]) => number) =>
    new Gauge({
      name, help, labelNames: ['stream'], registers,
      collect() {
        this.reset();
        for (const s of src.perStream(MAX_STREAM_LABELS)) this.set({ stream: s.name }, pick(s));
      },
    });
  perStream('onair_media_stream_bitrate_in_kbps', 'Publisher bitrate per stream (busiest streams only)', (s) => s.bitrateInKbps);
  perStream('onair_media_stream_bitrate_out_kbps', 'Delivery bitrate per stream (busiest streams only)', (s) => s.bitrateOutKbps);
  perStream('onair_media_stream_viewers', 'Viewers per stream (busiest streams only)', (s) => s.viewers);
  new Gauge({
    name: 'onair_media_stream_keyframe_interval_seconds',
    help: 'Interval between the last two video keyframes of a stream\'s ingest (busiest streams only; none before the second keyframe or for audio-only streams)',
    labelNames: ['stream'], registers,
    collect() {
      this.reset();
      for (const s of src.perStream(MAX_STREAM_LABELS)) if (s.keyframeIntervalMs > 0) this.set({ stream: s.name }, s.keyframeIntervalMs / 1000);
    },
  });
}
