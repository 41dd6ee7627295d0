/**
 * The few onair API calls the stress and bench tools need (documented endpoints under /api/v1).
 * Secrets (passwords, tokens, stream keys) are returned to the caller and never printed.
 */
import { randomBytes } from 'node:crypto';

export interface RoomInfo {
  id: string;
  streamKey: string;
  pushUrl: string;
}

export interface PlayInfo {
  token: string;
  flv_url: string;
  hls_url: string;
  rtmp_url: string;
  ws_url?: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export class OnairApi {
  private bearer: string | undefined;

  constructor(private readonly base: string) {}

  /** The logged-in bearer token (for load tools that send their own requests). */
  get bearerToken(): string {
    if (!this.bearer) throw new Error('not logged in');
    return this.bearer;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(`/api/v1${path}`, this.base);
    const res = await fetch(url, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.bearer ? { authorization: `Bearer ${this.bearer}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    }).catch((err: unknown) => {
      const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError(`cannot reach the onair API at ${url.origin} (${code})`, 0);
    });
    const text = await res.text();
    if (!res.ok) {
      let detail = text.slice(0, 200);
      try {
        detail = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error?.message ?? detail;
      } catch {
        // not JSON: keep the text
      }
      throw new ApiError(`${method} /api/v1${path}: HTTP ${res.status} ${detail}`, res.status);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Registers (when no credentials are given) and logs in an anchor. */
  async loginAnchor(username?: string, password?: string): Promise<void> {
    if (username === undefined) {
      username = `stress_${randomBytes(5).toString('hex')}`;
      password = randomBytes(12).toString('base64url');
      await this.call('POST', '/auth/register', { username, password, role: 'anchor' });
    }
    const { token } = await this.call<{ token: string }>('POST', '/auth/login', { username, password: password ?? '' });
    this.bearer = token;
  }

  async createRoom(title: string): Promise<RoomInfo> {
    const r = await this.call<{ id: string | number; stream_key: string; push_url: string }>('POST', '/rooms', { title });
    return { id: String(r.id), streamKey: r.stream_key, pushUrl: r.push_url };
  }

  /** Starts the room's live session; returns the push URL to use (may carry txSecret/txTime). */
  async startLive(roomId: string): Promise<string> {
    const r = await this.call<{ session_id: string; push_url: string }>('POST', '/live/start', { room_id: roomId });
    return r.push_url;
  }

  async closeLive(roomId: string): Promise<void> {
    await this.call('POST', '/live/close', { room_id: roomId });
  }

  async playToken(roomId: string): Promise<PlayInfo> {
    return this.call<PlayInfo>('GET', `/rooms/${encodeURIComponent(roomId)}/play-token`);
  }

  /** Play tokens are only issued for a live room: retries on 409 until the publisher is up (bounded). */
  async playTokenWhenLive(roomId: string, timeoutMs = 20_000): Promise<PlayInfo> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.playToken(roomId);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 409 || Date.now() > until) throw err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  }
}
