import { streamNameForLog, type Logger } from '../../core/logging/logger.js';
import type { PlayProtocol, StreamHooks } from '../../core/media/media-contract.js';
import { askHook, refusalDelay } from './hook-call.js';
import type { StreamRegistry } from './registry.js';
import type { Stream } from './stream.js';

export interface PlayAsk {
  protocol: PlayProtocol;
  app: string;
  streamName: string;
  query: Record<string, string>;
  clientIp: string;
}

export type PlayAuthResult =
  | { ok: true; stream: Stream; viewerId?: string }
  /** 401: no token; 403: refused; 404: authorized but nothing is live under that name; 503: the engine is behind (OverloadGuard). */
  | { ok: false; status: 401 | 403 | 404 | 503; reason: string };

export interface PlayAuthDeps {
  hooks: StreamHooks;
  streams: StreamRegistry;
  hookTimeoutMs: number;
  log: Logger;
  onRefused: (kind: 'play') => void;
  /** Admission control (the engine's OverloadGuard): false refuses the viewer with 503 before the hook is asked. */
  admitViewer?: (protocol: PlayProtocol) => boolean;
}

/**
 * The play check every protocol runs before any media byte: the hook decides first, and only an
 * authorized viewer learns whether the stream is live (so stream names cannot be probed without
 * a token). A refusal is answered after a short random delay.
 */
export async function authorizePlay(deps: PlayAuthDeps, ask: PlayAsk): Promise<PlayAuthResult> {
  // Refused before the hook call: an engine that is behind spends nothing more on a viewer it cannot serve.
  if (deps.admitViewer && !deps.admitViewer(ask.protocol)) return { ok: false, status: 503, reason: 'server busy' };
  const token = ask.query.token || undefined;
  const decision = await askHook(
    () => deps.hooks.authorizePlay({ ...ask, token }),
    deps.hookTimeoutMs,
    deps.log,
    'authorizePlay',
  );
  if (!decision.allow) {
    deps.onRefused('play');
    // The name is unverified input (maybe a stream key typed as a room id): never logged as is.
    deps.log.warn({ protocol: ask.protocol, stream: streamNameForLog(ask.streamName), ip: ask.clientIp, reason: decision.reason }, 'play refused');
    await refusalDelay();
    return { ok: false, status: token === undefined ? 401 : 403, reason: decision.reason };
  }
  const stream = deps.streams.get(ask.streamName);
  if (!stream || stream.isClosed || stream.app !== ask.app) return { ok: false, status: 404, reason: 'stream not found' };
  return { ok: true, stream, viewerId: decision.viewerId };
}
