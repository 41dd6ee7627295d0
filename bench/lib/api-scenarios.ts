/**
 * The bench:api scenarios: each is one autocannon run against a control API prepared with an
 * anchor, a live room (made live through the publish hook) and spare rooms for start/close.
 */
import type { Options, Request } from 'autocannon';

export interface ApiFixture {
  base: string;
  bearer: string;
  liveRoomId: string;
  liveStreamKey: string;
  /** One per connection for the start/close scenario, so connections never fight over a room. */
  spareRoomIds: string[];
  /** Started rooms (stream keys) for the hook scenario, one per connection. */
  hookStreamKeys: string[];
}

export interface Scenario {
  name: string;
  build(f: ApiFixture, connections: number, durationS: number): Options;
}

const json = (bearer?: string) => ({ 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) });

/** The hook secret the bench's control runs with (ONAIR_HOOK_SECRET) and SRS would put in its hook URLs. */
export const BENCH_HOOK_SECRET = 'bench-hook-secret-0123456789';
const hookPath = (name: string) => `/api/v1/hook/${name}?secret=${BENCH_HOOK_SECRET}`;

/** An SRS on_publish hook body for a stream key (what SRS posts to /api/v1/hook/on_publish). */
export function srsOnPublishBody(streamKey: string, clientId: number): string {
  return JSON.stringify({ action: 'on_publish', client_id: String(clientId), ip: '127.0.0.1', vhost: '__defaultVhost__', app: 'live', stream: streamKey, param: '', tcUrl: 'rtmp://127.0.0.1/live' });
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'play-token (GET /rooms/{id}/play-token)',
    build: (f, connections, duration) => ({
      url: f.base, connections, duration, method: 'GET', headers: json(f.bearer), requests: [{ method: 'GET', path: `/api/v1/rooms/${f.liveRoomId}/play-token` }],
    }),
  },
  {
    // A second on_publish for a live key is refused (already_publishing, after a random delay), so
    // each connection publishes and unpublishes its own room, as a real encoder reconnecting would.
    name: 'hook (on_publish+on_unpublish)',
    build: (f, connections, duration) => {
      let next = 0;
      const keyOf = (ctx: Record<string, unknown>): string => {
        if (ctx.key === undefined) ctx.key = f.hookStreamKeys[next++ % f.hookStreamKeys.length];
        return ctx.key as string;
      };
      return {
        url: f.base, connections: Math.min(connections, f.hookStreamKeys.length), duration,
        requests: [
          { method: 'POST', path: hookPath('on_publish'), headers: json(), setupRequest: (req: Request, ctx: Record<string, unknown>) => ({ ...req, body: srsOnPublishBody(keyOf(ctx), 1) }) },
          { method: 'POST', path: hookPath('on_unpublish'), headers: json(), setupRequest: (req: Request, ctx: Record<string, unknown>) => ({ ...req, body: srsOnPublishBody(keyOf(ctx), 1).replace('on_publish', 'on_unpublish') }) },
        ],
      };
    },
  },
  {
    name: 'room details (GET /rooms/{id})',
    build: (f, connections, duration) => ({
      url: f.base, connections, duration, requests: [{ method: 'GET', path: `/api/v1/rooms/${f.liveRoomId}`, headers: json(f.bearer) }],
    }),
  },
  {
    name: 'start+close (POST /live/*)',
    build: (f, connections, duration) => {
      let next = 0;
      const roomOf = (ctx: Record<string, unknown>): string => {
        if (ctx.roomId === undefined) ctx.roomId = f.spareRoomIds[next++ % f.spareRoomIds.length];
        return ctx.roomId as string;
      };
      return {
        url: f.base, connections: Math.min(connections, f.spareRoomIds.length), duration,
        requests: [
          { method: 'POST', path: '/api/v1/live/start', headers: json(f.bearer), setupRequest: (req: Request, ctx: Record<string, unknown>) => ({ ...req, body: JSON.stringify({ room_id: roomOf(ctx) }) }) },
          { method: 'POST', path: '/api/v1/live/close', headers: json(f.bearer), setupRequest: (req: Request, ctx: Record<string, unknown>) => ({ ...req, body: JSON.stringify({ room_id: roomOf(ctx) }) }) },
        ],
      };
    },
  },
];
