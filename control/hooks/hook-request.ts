import { z } from 'zod';
import type { PlayProtocol } from '../../core/media/media-contract.js';

/**
 * What an external media server tells us in a hook, normalised from its dialect:
 * - SRS (JSON): {action, client_id, ip, vhost, app, stream, param: "?key=..&token=..", tcUrl, file...}
 *   https://ossrs.io/lts/en-us/docs/v5/doc/http-callback
 * - nginx-rtmp (application/x-www-form-urlencoded): call, addr, clientid, app, name, tcurl, path...;
 *   the publish/play URL's query arguments arrive as extra form fields.
 */
export interface HookRequest {
  dialect: 'srs' | 'nginx-rtmp';
  app: string;
  /** The stream name the server saw (a stream key, or a room id). */
  stream: string;
  query: Record<string, string>;
  clientIp: string;
  clientId: string;
  /** on_dvr / record_done: the recorded file. */
  file?: string;
  /** onair's own media service says which protocol a viewer plays (SRS and nginx-rtmp only play RTMP). */
  protocol?: PlayProtocol;
}

const short = z.string().max(256);
const text = z.string().max(2048);

const srsBody = z.looseObject({
  action: short.optional(),
  client_id: z.union([short, z.number()]).optional(),
  ip: short.optional(),
  vhost: short.optional(),
  app: short,
  stream: short,
  param: text.optional(),
  tcUrl: text.optional(),
  file: text.optional(),
  protocol: z.enum(['rtmp', 'http-flv', 'ws-flv', 'hls', 'webrtc']).optional(),
});

/** nginx-rtmp sends every field as a string; unknown fields are the URL's own query arguments. */
const nginxBody = z.record(z.string().max(256), z.union([text, z.array(text)]));
const nginxKnown = new Set(['call', 'addr', 'clientid', 'app', 'flashver', 'swfurl', 'tcurl', 'pageurl', 'name', 'type', 'path', 'recorder', 'args']);

function parseQuery(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  const params = new URLSearchParams(raw.startsWith('?') ? raw.slice(1) : raw);
  let n = 0;
  for (const [k, v] of params) {
    if (++n > 32) break;
    if (k.length <= 64 && v.length <= 1024 && !(k in out)) out[k] = v;
  }
  return out;
}

/** Whether any string of a (parsed, bounded) hook body holds a NUL character: no stream name, key or path has one. */
function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 4 || value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => k.includes('\u0000') || hasNul(v, depth + 1));
}

/** Parses either dialect; returns null when the body is neither, or holds a NUL character (the caller answers 400). */
export function parseHookRequest(body: unknown, isJson: boolean): HookRequest | null {
  if (hasNul(body)) return null;
  if (isJson) {
    const parsed = srsBody.safeParse(body);
    if (!parsed.success) return null;
    const b = parsed.data;
    return {
      dialect: 'srs', app: b.app, stream: b.stream, query: parseQuery(b.param), clientIp: b.ip ?? '',
      clientId: `srs:${b.client_id ?? ''}`, file: b.file, protocol: b.protocol,
    };
  }
  const parsed = nginxBody.safeParse(body);
  if (!parsed.success) return null;
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const b = parsed.data;
  const app = first(b.app);
  const name = first(b.name);
  if (!app || !name) return null;
  const query: Record<string, string> = parseQuery(first(b.args));
  for (const [k, v] of Object.entries(b)) if (!nginxKnown.has(k) && Object.keys(query).length < 32) query[k] = first(v) ?? '';
  return {
    dialect: 'nginx-rtmp', app, stream: name, query, clientIp: first(b.addr) ?? '', clientId: `nginx:${first(b.clientid) ?? ''}`,
    file: first(b.path),
  };
}
