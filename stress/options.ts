/**
 * `npm run stress` options: parsed with util.parseArgs, checked, capped. Pure (no I/O), tested.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../core/config/duration.js';
import { PROTOCOLS, type Protocol } from './viewers/viewer-state.js';

export const LIMITS = {
  publishers: 50,
  viewers: 5000,
  rampPerSec: 5000,
  durationMs: 3_600_000,
  sampleSeconds: 120,
} as const;

export interface SampleOptions {
  videoKbps: number;
  audioKbps: number;
  width: number;
  height: number;
  fps: number;
  gopSeconds: number;
  seconds: number;
}

export interface StressOptions {
  api: string | undefined;
  username: string | undefined;
  password: string | undefined;
  publishBase: string | undefined;
  keys: string[];
  urls: string[];
  publishers: number;
  viewers: number;
  protocols: Protocol[];
  rampPerSec: number;
  durationMs: number;
  settleMs: number;
  stallMs: number;
  sample: SampleOptions;
  cacheDir: string | undefined;
  probe: boolean;
  pid: number | undefined;
  metrics: string | undefined;
  json: boolean;
  live: boolean;
  allowRemote: boolean;
  help: boolean;
}

export const HELP = `npm run stress -- [options]

Load-tests an onair deployment (loopback by default): ffmpeg publishers, lightweight Node viewers
(HTTP-FLV, WS-FLV, RTMP, HLS), a latency probe, a live table, and a report (table or JSON).

Where to publish and play (one of):
  --api URL            onair API base (default http://127.0.0.1:8080 when neither --key nor --url is given):
                       registers an anchor, creates one room per publisher, starts the live session,
                       and asks a play token per room for the viewers.
  --username NAME      anchor account to log in with (default: register a fresh random anchor)
  --password PASS      its password
  --key KEY            a stream key to publish (repeatable; skips the API for publishing)
  --url URL            a play URL (repeatable). {key} is replaced by each --key. The protocol follows
                       the URL: rtmp:// -> RTMP, ws:// -> WS-FLV, *.m3u8 -> HLS, else HTTP-FLV.
  --publish URL        RTMP base to publish to, e.g. rtmp://127.0.0.1:1935/live
                       (default: the API's push_url, or rtmp://127.0.0.1:1935/live with --key)

Load:
  --publishers N       streams to publish (default 1, max ${LIMITS.publishers})
  --viewers M          viewers in all (default 100, max ${LIMITS.viewers}), spread over the streams
  --protocol LIST      viewer protocols with --api, comma-separated, round-robin:
                       http-flv,ws-flv,rtmp,hls (default http-flv). onair lets one address
                       hold ONAIR_RTMP_MAX_CONNECTIONS_PER_IP (32) RTMP connections: raise it
                       on the target for more RTMP viewers from this machine
  --ramp R/s           viewers started per second (default 200/s, max ${LIMITS.rampPerSec}/s)
  --duration T         whole run, e.g. 30s, 2m (default 30s, max 1h); it stops by itself
  --settle T           time after a viewer starts before its measurement window opens (default 3s)
  --stall T            a gap in media longer than this is a stall (default 1s; HLS at least 4s)
  --no-probe           publish the first stream with ffmpeg too (no latency figures)

Sample (encoded once with ffmpeg's lavfi testsrc2 + sine, cached, then published with -c copy):
  --bitrate B          total bitrate (default 2150k); video gets B minus the audio bitrate. With
                       only --url (you publish), it is the stream rate viewers are judged against
  --audio-bitrate B    AAC bitrate (default 128k)
  --size WxH           default 1280x720
  --fps N              default 30
  --gop S              keyframe interval in seconds (default 2)
  --sample-seconds S   length of the looped sample (default 10, max ${LIMITS.sampleSeconds})
  --cache-dir DIR      where samples are kept (default: $TMPDIR/onair-stress)

Server usage:
  --pid PID            local server process: CPU and RSS from /proc (with its children)
  --metrics URL        or the server's Prometheus /metrics (process_cpu_seconds_total, ..._resident_memory_bytes)

Output and safety:
  --json               print the final report as JSON on stdout (the live table goes to stderr)
  --no-live            no live table
  --allow-remote       allow targets that are not loopback (127.0.0.0/8, ::1, localhost)
  -h, --help           this help

Figures: healthy = a viewer received >= 90 % of the stream's bytes over its window; TTFB = first
byte (RTMP: first media message); TTFF = first video keyframe (HLS: first whole segment); latency =
viewer clock minus the probe publisher's wall clock carried in an SEI NAL of the video.`;

export class OptionsError extends Error {
  override name = 'OptionsError';
}

/** '30s', '2m', '500ms'; a bare number means seconds here. */
export function parseSeconds(text: string, what: string): number {
  try {
    return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Math.round(Number(text) * 1000) : parseDuration(text);
  } catch {
    throw new OptionsError(`${what}: not a duration: '${text}' (e.g. 30s, 2m)`);
  }
}

/** '2150k', '2.15M', '128000' -> kb/s. */
export function parseKbps(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(text);
  if (!m) throw new OptionsError(`${what}: not a bitrate: '${text}' (e.g. 2150k, 2M)`);
  const n = Number(m[1]);
  const kbps = m[2] === '' ? n / 1000 : /m/i.test(m[2]!) ? n * 1000 : n;
  if (!(kbps >= 16 && kbps <= 100_000)) throw new OptionsError(`${what}: ${text} is out of range (16k..100M)`);
  return Math.round(kbps);
}

function int(text: string | undefined, what: string, def: number, min: number, max: number): number {
  if (text === undefined) return def;
  if (!/^\d+$/.test(text.trim())) throw new OptionsError(`${what}: not a whole number: '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new OptionsError(`${what}: ${n} is out of range (${min}..${max})`);
  return n;
}

export function parseStressArgs(argv: string[]): StressOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        api: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        publish: { type: 'string' },
        key: { type: 'string', multiple: true },
        url: { type: 'string', multiple: true },
        publishers: { type: 'string' },
        viewers: { type: 'string' },
        protocol: { type: 'string' },
        ramp: { type: 'string' },
        duration: { type: 'string' },
        settle: { type: 'string' },
        stall: { type: 'string' },
        'no-probe': { type: 'boolean' },
        bitrate: { type: 'string' },
        'audio-bitrate': { type: 'string' },
        size: { type: 'string' },
        fps: { type: 'string' },
        gop: { type: 'string' },
        'sample-seconds': { type: 'string' },
        'cache-dir': { type: 'string' },
        pid: { type: 'string' },
        metrics: { type: 'string' },
        json: { type: 'boolean' },
        'no-live': { type: 'boolean' },
        'allow-remote': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  const keys = values.key ?? [];
  const urls = values.url ?? [];
  const protocols = (values.protocol ?? 'http-flv').split(',').map((p) => p.trim()) as Protocol[];
  for (const p of protocols) {
    if (!PROTOCOLS.includes(p)) throw new OptionsError(`--protocol: unknown '${p}' (use ${PROTOCOLS.join(', ')})`);
  }
  const rampText = values.ramp ?? '200/s';
  const rampMatch = /^\s*(\d+)\s*(\/s)?\s*$/.exec(rampText);
  if (!rampMatch) throw new OptionsError(`--ramp: expected e.g. 200/s, got '${rampText}'`);
  const rampPerSec = Number(rampMatch[1]);
  if (rampPerSec < 1 || rampPerSec > LIMITS.rampPerSec) throw new OptionsError(`--ramp: out of range (1..${LIMITS.rampPerSec}/s)`);

  const durationMs = parseSeconds(values.duration ?? '30s', '--duration');
  if (durationMs < 5000 || durationMs > LIMITS.durationMs) throw new OptionsError('--duration: must be within 5s..1h');
  const settleMs = parseSeconds(values.settle ?? '3s', '--settle');
  if (settleMs >= durationMs) throw new OptionsError('--settle must be shorter than --duration');
  const stallMs = parseSeconds(values.stall ?? '1s', '--stall');
  if (stallMs < 100) throw new OptionsError('--stall: at least 100ms');

  const total = parseKbps(values.bitrate ?? '2150k', '--bitrate');
  const audioKbps = parseKbps(values['audio-bitrate'] ?? '128k', '--audio-bitrate');
  if (audioKbps >= total) throw new OptionsError('--audio-bitrate must be below --bitrate');
  const size = /^(\d{2,4})x(\d{2,4})$/.exec(values.size ?? '1280x720');
  if (!size) throw new OptionsError(`--size: expected WxH, e.g. 1280x720`);
  const [width, height] = [Number(size[1]), Number(size[2])];
  if (width % 2 || height % 2 || width > 3840 || height > 2160) throw new OptionsError('--size: even numbers up to 3840x2160');

  const api = values.api ?? (keys.length === 0 && urls.length === 0 ? 'http://127.0.0.1:8080' : undefined);
  if (keys.length > 0 && urls.length === 0 && api === undefined) {
    throw new OptionsError('--key needs --url (how to play it), or --api');
  }
  if (urls.length === 0 && api === undefined) throw new OptionsError('nothing to play: give --api or --url');
  // Only --url: someone else publishes; nothing to encode or push.
  const publishers = keys.length > 0 ? keys.length : api === undefined ? 0 : int(values.publishers, '--publishers', 1, 0, LIMITS.publishers);
  if (keys.length > LIMITS.publishers) throw new OptionsError(`at most ${LIMITS.publishers} --key`);
  const pid = values.pid === undefined ? undefined : int(values.pid, '--pid', 0, 1, 2 ** 22);
  return {
    api,
    username: values.username,
    password: values.password,
    publishBase: values.publish,
    keys,
    urls,
    publishers,
    viewers: int(values.viewers, '--viewers', 100, 0, LIMITS.viewers),
    protocols,
    rampPerSec,
    durationMs,
    settleMs,
    stallMs,
    sample: {
      videoKbps: total - audioKbps,
      audioKbps,
      width,
      height,
      fps: int(values.fps, '--fps', 30, 1, 120),
      gopSeconds: int(values.gop, '--gop', 2, 1, 20),
      seconds: int(values['sample-seconds'], '--sample-seconds', 10, 2, LIMITS.sampleSeconds),
    },
    cacheDir: values['cache-dir'],
    probe: !values['no-probe'],
    pid,
    metrics: values.metrics,
    json: values.json ?? false,
    live: !values['no-live'],
    allowRemote: values['allow-remote'] ?? false,
    help: values.help ?? false,
  };
}
