/**
 * The latency probe: a Node RTMP publisher that sends the same sample as the ffmpeg publishers,
 * paced by the wall clock like -re, looping, and puts Date.now() into an SEI NAL at the front of a
 * video frame every CLOCK_EVERY_MS (see flv/clock-sei.ts). Viewers of this stream measure latency.
 */
import { readFileSync } from 'node:fs';
import { encodeAmf0 } from '../../media/protocols/rtmp/amf0.js';
import { RtmpClient, parseRtmpUrl } from '../rtmp/rtmp-client.js';
import { withClock } from '../flv/clock-sei.js';
import { readFlvFile, type FileTag } from '../flv/flv-file.js';
import type { Publisher } from './ffmpeg-publisher.js';

const CLOCK_EVERY_MS = 200;
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
    let lastClock = 0;
    timer = setInterval(() => {
      const elapsed = Date.now() - t0;
      // Bounded per tick: at most one sample's worth of tags.
      for (let sent = 0; sent < media.length; sent++) {
        const tag: FileTag = media[i]!;
        const ts = loop * flv.durationMs + (tag.timestamp - base);
        if (ts > elapsed) break;
        let body = tag.body;
        const now = Date.now();
        if (tag.type === 9 && now - lastClock >= CLOCK_EVERY_MS) {
          const stamped = withClock(body, now);
          if (stamped !== body) lastClock = now;
          body = stamped;
        }
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
