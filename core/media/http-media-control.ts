import { z } from 'zod';
import type { MediaControl, StreamSummary } from './media-contract.js';
import { UnavailableError } from '../errors.js';
import { controlPayload } from './media-api-signature.js';
import { signMediaCallback } from '../callbacks/media-callback-signature.js';
import { httpCall, type HttpAnswer } from '../http/http-call.js';

export interface HttpMediaControlOptions {
  /** Base URL of the media service, e.g. http://media:8080. */
  baseUrl: string;
  /** config.callbacks.mediaKey (the media service refuses unsigned control calls). */
  key: string;
  timeoutMs?: number;
}

const kickAnswer = z.object({ kicked: z.boolean() });
const streamsAnswer = z.object({ streams: z.array(z.object({ streamName: z.string() }).passthrough()) });

/**
 * MediaControl for control when media runs as its own service: signed calls to media's control
 * API (`POST /api/kick/publisher {stream}`, `POST /api/kick/viewer {viewer}`, `GET /api/streams`).
 * Throws UnavailableError when media cannot be reached or answers badly.
 */
export class HttpMediaControl implements MediaControl {
  private readonly base: string;
  constructor(private readonly o: HttpMediaControlOptions) {
    this.base = o.baseUrl.replace(/\/$/, '');
  }

  async kickPublisher(streamName: string): Promise<boolean> {
    return kickAnswer.parse(await this.call('POST', '/api/kick/publisher', { stream: streamName })).kicked;
  }

  async kickViewer(viewerId: string): Promise<boolean> {
    return kickAnswer.parse(await this.call('POST', '/api/kick/viewer', { viewer: viewerId })).kicked;
  }

  async listStreams(): Promise<StreamSummary[]> {
    return streamsAnswer.parse(await this.call('GET', '/api/streams')).streams as unknown as StreamSummary[];
  }

  private async call(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<unknown> {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    let res: HttpAnswer;
    try {
      res = await httpCall(this.base + path, {
        method,
        headers: {
          ...(body ? { 'Content-Type': 'application/json' } : {}),
          ...signMediaCallback(this.o.key, controlPayload(method, path, body)),
        },
        ...(body ? { body } : {}),
        timeoutMs: this.o.timeoutMs ?? 5000,
        maxAnswerBytes: 16 * 1024 * 1024, // the stream list
      });
    } catch (err) {
      throw new UnavailableError(`media service unreachable: ${(err as Error).message}`, { cause: err });
    }
    if (res.status < 200 || res.status > 299) throw new UnavailableError(`media service answered ${res.status} to ${method} ${path}`);
    try {
      return JSON.parse(res.body);
    } catch (err) {
      throw new UnavailableError(`media service sent a bad answer to ${method} ${path}`, { cause: err });
    }
  }
}
