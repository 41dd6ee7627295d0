import { randomUUID } from 'node:crypto';
import type { Logger } from '../../core/logging/logger.js';
import type { PlayDecision, PlayRequest, PublishDecision, PublishRequest, StreamHooks } from '../../core/media/media-contract.js';
import { signMediaCallback } from '../../core/callbacks/media-callback-signature.js';
import { HOOK_SECRET_PARAM } from '../../core/callbacks/hook-secret.js';
import { httpCall } from '../../core/http/http-call.js';
import type { HookAnswer } from './remote.schema.js';
import { remoteSchemas } from './lazy-schemas.js';

export interface HttpStreamHooksOptions {
  /** Control's base URL, e.g. http://control:8080 (config.media.controlUrl). */
  controlUrl: string;
  /** Deadline of one hook call (config.media.hookTimeout); no answer in time refuses. */
  timeoutMs: number;
  /** When set, hook calls are signed like the event callbacks (config.callbacks.mediaKey). */
  key?: string;
  /** The hook secret put in the URL (`?secret=`, core/callbacks/hook-secret.ts): control refuses hook calls without it. */
  secret?: string;
  log: Logger;
}

type Answer = HookAnswer;

/**
 * StreamHooks over HTTP for the standalone media service: POSTs SRS-style JSON to control's
 * `/api/v1/hook/on_publish` and `/api/v1/hook/on_play`
 * ({action, client_id, ip, vhost, app, stream, param}). A publish is allowed only when control
 * answers code 0 AND names the public stream (`data.stream_name`), since viewers must never play
 * by the key. Errors, timeouts and anything unexpected refuse.
 */
export class HttpStreamHooks implements StreamHooks {
  constructor(private readonly o: HttpStreamHooksOptions) {}

  async authorizePublish(req: PublishRequest): Promise<PublishDecision> {
    const answer = await this.call('on_publish', {
      action: 'on_publish', client_id: randomUUID(), ip: req.clientIp, vhost: '__defaultVhost__',
      app: req.app, stream: req.streamKey, param: toParam(req.query),
    });
    if (answer === undefined || answer === 0 || answer.code !== 0) return { allow: false, reason: 'refused by control' };
    const data = answer.data;
    if (!data?.stream_name) {
      this.o.log.error('control allowed a publish without naming the stream (data.stream_name); refusing');
      return { allow: false, reason: 'control did not name the stream' };
    }
    return {
      allow: true, streamName: data.stream_name, record: data.record === true,
      ...(data.session_id ? { sessionId: data.session_id } : {}),
    };
  }

  async authorizePlay(req: PlayRequest): Promise<PlayDecision> {
    const query = { ...req.query, ...(req.token !== undefined ? { token: req.token } : {}) };
    const answer = await this.call('on_play', {
      action: 'on_play', client_id: randomUUID(), ip: req.clientIp, vhost: '__defaultVhost__',
      app: req.app, stream: req.streamName, param: toParam(query), protocol: req.protocol,
    });
    if (answer === undefined) return { allow: false, reason: 'refused by control' };
    if (answer === 0) return { allow: true };
    if (answer.code !== 0) return { allow: false, reason: 'refused by control' };
    return answer.data?.viewer_id ? { allow: true, viewerId: answer.data.viewer_id } : { allow: true };
  }

  /** One hook call; undefined for any failure (logged without the body: it holds the key or token). */
  private async call(hook: 'on_publish' | 'on_play', payload: Record<string, unknown>): Promise<Answer | undefined> {
    const body = JSON.stringify(payload);
    const secret = this.o.secret ? `?${HOOK_SECRET_PARAM}=${encodeURIComponent(this.o.secret)}` : '';
    const url = `${this.o.controlUrl.replace(/\/$/, '')}/api/v1/hook/${hook}${secret}`;
    try {
      const res = await httpCall(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(this.o.key ? signMediaCallback(this.o.key, body) : {}) },
        body,
        timeoutMs: this.o.timeoutMs,
      });
      if (res.status !== 200) {
        this.o.log.warn({ hook, status: res.status }, 'hook refused');
        return undefined;
      }
      const parsed = (await remoteSchemas()).hookAnswerSchema.safeParse(JSON.parse(res.body));
      if (!parsed.success) {
        this.o.log.warn({ hook }, 'hook answer not understood; refusing');
        return undefined;
      }
      return parsed.data;
    } catch (err) {
      this.o.log.warn({ hook, err: (err as Error).name }, 'hook call failed; refusing');
      return undefined;
    }
  }
}

function toParam(query: Record<string, string>): string {
  const qs = new URLSearchParams(query).toString();
  return qs ? `?${qs}` : '';
}
