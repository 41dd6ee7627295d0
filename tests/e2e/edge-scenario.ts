/**
 * Issue 10: one show, the same outcome through every edge (the engine in-process, media as its own
 * service with signed callbacks, nginx-rtmp calling the hooks). What a user sees:
 *   - the room is live only once media flows (a publish whose media never comes is not live),
 *   - the anchor's followers find a live_started notification (GET /notifications), and one with a
 *     notification socket open gets it pushed (where the edge serves control's WebSocket seam),
 *   - the viewers are counted (live_audience rows: the show's settlement has total_viewers >= 1).
 * Each edge test says how to publish, how to publish without media (when its server can tell), and
 * how a viewer watches.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { until } from './onair-stack.js';

type Call = (method: string, path: string, body?: unknown, token?: string) => Promise<{ status: number; body: any }>;

export interface EdgeUnderTest {
  call: Call;
  user(role: 'anchor' | 'viewer'): Promise<{ token: string; id: string }>;
  /** Publishes H.264/AAC for the room until the returned stop() is called. */
  publish(room: { id: string; push_url: string; stream_key: string }): { stop(): Promise<void> };
  /** Publishes with the room's key but sends no media the server accepts; resolves once the encoder gave up. Absent when the server cannot tell. */
  publishWithoutMedia?(room: { id: string; push_url: string; stream_key: string }): Promise<void>;
  /** A viewer watches the room with a play token for a moment (e.g. ffprobe), then leaves. */
  watch(roomId: string, playToken: string): Promise<void>;
  /** ws://host:port of control's WebSocket seam, when the edge serves it: the fan's notification socket is checked too. */
  wsBase?: string;
}

export async function runShowScenario(edge: EdgeUnderTest): Promise<void> {
  const anchor = await edge.user('anchor');
  const fan = await edge.user('viewer');
  const room = (await edge.call('POST', '/rooms', { title: 'one show, every edge' }, anchor.token)).body as { id: string; push_url: string; stream_key: string };
  assert.deepEqual((await edge.call('POST', `/rooms/${room.id}/follow`, undefined, fan.token)).body, { following: true });
  const liveNotices = async () => ((await edge.call('GET', '/notifications', undefined, fan.token)).body.notifications as Array<{ kind: string; payload: { room_id: string } }>)
    .filter((n) => n.kind === 'live_started' && n.payload.room_id === room.id);

  if (edge.publishWithoutMedia) {
    await edge.publishWithoutMedia(room);
    const polls: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      polls.push((await edge.call('GET', `/rooms/${room.id}`)).body.is_live);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(polls, [false, false, false, false, false], 'a publish whose media never flows is not live');
    assert.equal((await liveNotices()).length, 0, 'nobody is told about a show that never started');
  }

  // The fan's notification socket (seed 000's /ws/notification/{uid}, with a socket ticket as the web client does), open before the show starts.
  const frames: Array<Record<string, any>> = [];
  const wsTicket = edge.wsBase ? (await edge.call('POST', '/notifications/ws-ticket', undefined, fan.token)).body.ticket as string : '';
  const socket = edge.wsBase ? new WebSocket(`${edge.wsBase}/ws/notification/${fan.id}?ticket=${encodeURIComponent(wsTicket)}`) : undefined;
  if (socket) {
    socket.on('message', (data) => frames.push(JSON.parse(data.toString()) as Record<string, any>));
    await new Promise<void>((resolve, reject) => { socket.once('open', () => resolve()); socket.once('error', reject); });
    await until('unread count on connect', async () => frames.some((f) => f.type === 'unread'), 5_000);
  }
  const show = edge.publish(room);
  try {
    await until('room live', async () => (await edge.call('GET', `/rooms/${room.id}`)).body.is_live === true, 20_000);
    await until('follower notified', async () => (await liveNotices()).length === 1, 10_000);
    if (socket) {
      const pushed = await until('the notification pushed to the socket', async () => frames.find((f) => f.type === 'notification' && f.notification.payload.room_id === room.id) ?? null, 10_000);
      assert.deepEqual(pushed.notification, (await liveNotices())[0], 'the pushed object is the listed one');
      socket.close();
    }
    const play = (await edge.call('GET', `/rooms/${room.id}/play-token`)).body as { token: string };
    await edge.watch(room.id, play.token);
    // The viewing's rows are written in batches: give them a moment before the show ends.
    await new Promise((r) => setTimeout(r, 1000));
    const closed = await edge.call('POST', '/live/close', { room_id: room.id }, anchor.token);
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    const sessionId = closed.body.session_id as string;
    const stats = await until('settled', async () => (await edge.call('GET', `/live/sessions/${sessionId}`, undefined, anchor.token)).body.statistics ?? null, 15_000);
    assert.ok(stats.total_viewers >= 1, `the viewer is counted: ${JSON.stringify(stats)}`);
  } finally {
    await show.stop();
  }
  assert.equal((await liveNotices()).length, 1, 'told once');
}

/** ffmpeg publishes with the key, then fails to put HEVC in FLV and leaves: the publish never carries media. */
export async function publishHevc(url: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  const hevc = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-t', '3',
    '-c:v', 'libx265', '-preset', 'ultrafast', '-f', 'flv', url,
  ], { stdio: 'ignore' });
  const code = await new Promise((r) => hevc.once('exit', r));
  assert.notEqual(code, 0, 'ffmpeg cannot put HEVC in FLV');
  // The server's unpublish travels as an event too: let it land before the room is polled.
  await new Promise((r) => setTimeout(r, 500));
}
