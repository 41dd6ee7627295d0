/**
 * The latency probe: a Node RTMP publisher that sends the same sample as the ffmpeg publishers,
 * paced by the wall clock like -re, looping, and puts Date.now() into an SEI NAL at the front of
 * every CLOCK_EVERY_FRAMES-th video frame (see flv/clock-sei.ts). Viewers of this stream measure latency.
 */
import { readFileSync } from 'node:fs';
import { encodeAmf0 } from '../../media/protocols/rtmp/amf0.js';
import { RtmpClient, parseRtmpUrl } from '../rtmp/rtmp-client.js';
import { withClock } from '../flv/clock-sei.js';
import { readFlvFile, type FileTag } from '../flv/flv-file.js';
import type { Publisher } from './ffmpeg-publisher.js';

/**
 * Every 7th video frame carries the clock (~233 ms at 30 fps). Counted in frames, and 7 because it
 * shares no factor with the 2-6 frame patterns of frame-aligned flush ticks (media/stream/flush-policy.ts):
 * a clock every 200 ms (every 6th frame at 30 fps) fell on the same phase of a 2- or 3-frame tick
 * pattern for a whole run, so one run's p50 read only frames written at their fan-out (~7 ms) and the next
 * only frames that waited a tick (~36 ms). With 7 the samples rotate through every phase.
 */
const CLOCK_EVERY_FRAMES = 7;
const TICK_MS = 5;
/** A server that cannot take the stream in real time: give up rather than buffer without bound. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

export function startProbePublisher(samplePath: string, url: string, label: string): Publisher {
  const flv = readFlvFile(readFileSync(samplePath));
  const meta = flv.tags.find((t) => t.type === 18);
  const headers = flv.tags.filter((t) => isSequenceHeader(t));
  const media = flv.tags.filter((t) => (t.type === 8 || t.type === 9) && !isSequenceHeader(t));
  const base = media[0]?.timestamp ?? 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const pub: Publisher = {
    label,
    error: undefined,
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      client.close();
      return Promise.resolve();
    },
  };
  const client = new RtmpClient(parseRtmpUrl(url), 'publish', {
    onBytes() {},
    onMedia() {},
    onReady: () => begin(),
    onError: (kind) => {
      if (!stopped) pub.error ??= `probe-${kind}`;
    },
    onClose: () => {
      if (!stopped) pub.error ??= 'probe-closed-by-server';
      if (timer) clearInterval(timer);
    },
  }, Buffer.alloc(64 * 1024));

  function begin(): void {
    if (timer || stopped) return;
    if (meta) client.sendMedia(18, 0, Buffer.concat([encodeAmf0('@setDataFrame'), meta.body]));
    for (const h of headers) client.sendMedia(h.type, 0, h.body);
    const t0 = Date.now();
    let loop = 0;
    let i = 0;
    let videoFrames = 0;
    timer = setInterval(() => {
      const elapsed = Date.now() - t0;
      // Bounded per tick: at most one sample's worth of tags.
      for (let sent = 0; sent < media.length; sent++) {
        const tag: FileTag = media[i]!;
        const ts = loop * flv.durationMs + (tag.timestamp - base);
        if (ts > elapsed) break;
        let body = tag.body;
        const now = Date.now();
        if (tag.type === 9 && videoFrames++ % CLOCK_EVERY_FRAMES === 0) body = withClock(body, now);
        client.sendMedia(tag.type, Math.round(ts), body);
        if (++i === media.length) {
          i = 0;
          loop++;
        }
      }
      if (client.writableLength > MAX_QUEUED_BYTES) {
        pub.error ??= 'probe-backpressure';
        void pub.stop();
      }
    }, TICK_MS);
  }
  return pub;
}

function isSequenceHeader(t: FileTag): boolean {
  if (t.type === 9) return t.body.length > 1 && (t.body[0]! & 0x0f) === 7 && t.body[1] === 0;
  if (t.type === 8) return t.body.length > 1 && (t.body[0]! >> 4) === 10 && t.body[1] === 0;
  return false;
}
