/**
 * `npm run stress`: sets up streams (API or given keys), encodes the sample once, starts the
 * publishers (the first one the latency probe), checks that every stream plays, runs the viewer
 * load with a live table, and builds the report.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { StressOptions } from './options.js';
import { assertLoopbackTargets } from './loopback.js';
import { OnairApi, type PlayInfo } from './api-client.js';
import { ensureSample, defaultCacheDir } from './publish/sample.js';
import { readFlvFile } from './flv/flv-file.js';
import { startFfmpegPublisher, type Publisher } from './publish/ffmpeg-publisher.js';
import { startProbePublisher } from './publish/probe-publisher.js';
import { ViewerPool, protocolOf, type ViewerSpec } from './viewers/viewer-pool.js';
import type { Protocol } from './viewers/viewer-state.js';
import { runLoad, type LoadResult } from './load.js';
import { MetricsUsage, ProcUsage, type UsageSource } from './report/server-usage.js';
import { LiveTable, fixed } from './report/table.js';

export interface StreamTarget {
  label: string;
  publishUrl?: string;
  playUrls: string[];
  /** API streams: play URLs carry a token, issued once the room is live (after its publisher started). */
  resolvePlayUrls?: () => Promise<string[]>;
}

export interface StressReport extends LoadResult {
  date: string;
  options: {
    publishers: number;
    viewers: number;
    protocols: string[];
    rampPerSec: number;
    durationS: number;
    sample: StressOptions['sample'];
  };
  streamKbps: number;
  latencyMethod: string;
  publisherErrors: Record<string, number>;
}

const READY_TIMEOUT_MS = 15_000;
const DEFAULT_PUBLISH_BASE = 'rtmp://127.0.0.1:1935/live';

function playUrlFor(p: Protocol, info: PlayInfo): string | undefined {
  if (p === 'http-flv') return info.flv_url;
  if (p === 'ws-flv') return info.ws_url ?? info.flv_url.replace(/^http/, 'ws');
  if (p === 'rtmp') return info.rtmp_url;
  return info.hls_url;
}

/** Streams from the API: an anchor, one room and one live session per publisher, a play token per room. */
async function streamsFromApi(o: StressOptions, api: OnairApi, log: (s: string) => void): Promise<{ streams: StreamTarget[]; rooms: string[] }> {
  await api.loginAnchor(o.username, o.password);
  const streams: StreamTarget[] = [];
  const rooms: string[] = [];
  for (let i = 0; i < Math.max(1, o.publishers); i++) {
    const room = await api.createRoom(`stress room ${i + 1}`);
    rooms.push(room.id);
    let push = room.pushUrl;
    if (o.publishers > 0) push = (await api.startLive(room.id)) || push;
    if (o.publishBase) push = `${o.publishBase.replace(/\/$/, '')}/${push.split('/').pop()}`;
    const resolvePlayUrls = async () => {
      const info = o.publishers > 0 ? await api.playTokenWhenLive(room.id) : await api.playToken(room.id);
      return [...o.protocols.map((p) => playUrlFor(p, info)).filter((u): u is string => !!u), ...o.urls];
    };
    streams.push({ label: `room ${room.id}`, publishUrl: o.publishers > 0 ? push : undefined, playUrls: [], resolvePlayUrls });
  }
  log(`api: ${rooms.length} room(s) ready`);
  return { streams, rooms };
}

function streamsFromKeys(o: StressOptions): StreamTarget[] {
  if (o.keys.length === 0) return [{ label: 'given URLs', playUrls: o.urls }];
  const base = (o.publishBase ?? DEFAULT_PUBLISH_BASE).replace(/\/$/, '');
  return o.keys.map((k, i) => ({
    label: `key #${i + 1}`,
    publishUrl: `${base}/${k}`,
    playUrls: o.urls.map((u) => u.replaceAll('{key}', k)),
  }));
}

/** Waits until one viewer per stream sees a keyframe (bounded); returns the labels that never did. */
async function waitPlayable(streams: StreamTarget[], stallMs: number): Promise<string[]> {
  const pool = new ViewerPool({ stallMs, settleMs: 0 });
  const probes = streams.map((s) => {
    const url = new URL(s.playUrls[0]!);
    return { s, v: pool.startOne({ url, protocol: protocolOf(url) }) };
  });
  const until = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < until && probes.some((p) => p.v.firstFrameAt === undefined && p.v.error === undefined)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  pool.closeAll();
  return probes.filter((p) => p.v.firstFrameAt === undefined).map((p) => `${p.s.label}: ${p.v.error ?? 'no keyframe in 15 s'}`);
}

export async function runStress(o: StressOptions, log: (line: string) => void): Promise<StressReport> {
  assertLoopbackTargets([o.api, o.publishBase, o.metrics, ...o.urls], o.allowRemote);
  const api = o.api ? new OnairApi(o.api) : undefined;
  const useApi = api !== undefined && o.keys.length === 0;

  let sample: string | undefined;
  let streamBytesPerSec = 0;
  if (o.publishers > 0) {
    log('sample: encoding (cached after the first run)...');
    sample = await ensureSample(o.sample, o.cacheDir ?? defaultCacheDir());
    streamBytesPerSec = readFlvFile(readFileSync(sample)).bytesPerSec;
  }

  const { streams, rooms } = useApi ? await streamsFromApi(o, api, log) : { streams: streamsFromKeys(o), rooms: [] as string[] };
  assertLoopbackTargets(streams.map((s) => s.publishUrl), o.allowRemote);

  const publishers: Publisher[] = [];
  try {
    streams.forEach((s, i) => {
      if (!s.publishUrl || !sample) return;
      const label = `publisher ${i + 1}`;
      publishers.push(i === 0 && o.probe ? startProbePublisher(sample, s.publishUrl, label) : startFfmpegPublisher(sample, s.publishUrl, label));
    });
    if (publishers.length > 0) log(`publishers: ${publishers.length} started${o.probe ? ' (the first is the latency probe)' : ''}`);
    for (const s of streams) if (s.resolvePlayUrls) s.playUrls = await s.resolvePlayUrls();
    assertLoopbackTargets(streams.flatMap((s) => s.playUrls), o.allowRemote);
    if (streams.some((s) => s.playUrls.length === 0)) throw new Error('a stream has no play URL (check --protocol / --url)');
    const notPlaying = await waitPlayable(streams, o.stallMs);
    if (notPlaying.length > 0) log(`warning: not playable before the load: ${notPlaying.join('; ')}`);

    if (streamBytesPerSec === 0) streamBytesPerSec = (o.sample.videoKbps + o.sample.audioKbps) * 125;
    const usage: UsageSource | undefined = o.pid ? new ProcUsage(o.pid) : o.metrics ? new MetricsUsage(o.metrics) : undefined;
    const specs: ViewerSpec[][] = streams.map((s) => s.playUrls.map((u) => ({ url: new URL(u), protocol: protocolOf(new URL(u)) })));
    const table = o.live ? new LiveTable(['t(s)', 'started', 'conn', 'playing', 'failed', 'Mb/s', 'lat p50', 'srv cpu%', 'srv MB'], log) : undefined;
    const result = await runLoad({
      count: o.viewers,
      rampPerSec: o.rampPerSec,
      durationMs: o.durationMs,
      settleMs: o.settleMs,
      stallMs: o.stallMs,
      expectedBytesPerSec: streamBytesPerSec,
      usage,
      specFor: (i) => {
        const perStream = specs[i % specs.length]!;
        return perStream[Math.floor(i / specs.length) % perStream.length]!;
      },
      onTick: (t) => table?.row([t.elapsedS, t.started, t.connected, t.playing, t.failed, fixed(t.mbps, 1), fixed(t.latencyP50Ms), fixed(t.cpuPercent, 1), fixed(t.rssMB)]),
    });
    const publisherErrors: Record<string, number> = {};
    for (const p of publishers) if (p.error) publisherErrors[p.error] = (publisherErrors[p.error] ?? 0) + 1;
    return {
      ...result,
      date: new Date().toISOString(),
      options: { publishers: publishers.length, viewers: o.viewers, protocols: [...new Set(specs.flat().map((s) => s.protocol))], rampPerSec: o.rampPerSec, durationS: o.durationMs / 1000, sample: o.sample },
      streamKbps: (streamBytesPerSec * 8) / 1000,
      latencyMethod: o.probe && publishers.length > 0 ? 'SEI wall clock from the Node probe publisher (stream 1), read at the viewers' : 'none (--no-probe or no publisher)',
      publisherErrors,
    };
  } finally {
    await Promise.all(publishers.map((p) => p.stop()));
    if (useApi) for (const id of rooms) await api.closeLive(id).catch(() => undefined);
  }
}
