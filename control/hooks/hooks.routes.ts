import { stat } from 'node:fs/promises';
import express, { Router, type Response } from 'express';
import type { Logger } from '../../core/logging/logger.js';
import type { DomainEventOut } from '../callbacks/domain-event-out.js';
import { eventIds } from '../../core/events/event-route.js';
import type { StreamHooks } from '../../core/media/media-contract.js';
import { looksLikeStreamKey } from '../../core/tokens/stream-key.js';
import { asyncRoute } from '../http/async-route.js';
import { verifyJsonBody } from '../../core/http/json-depth.js';
import type { RoomStore } from '../rooms/room.store.js';
import { parseHookRequest, type HookRequest } from './hook-request.js';
import type { HookGuard } from './hook-guard.js';
import { recordingInside } from './recording-path.js';

/** Where the hooks hand the domain events an external server's calls stand for (the pipeline's EventIntake). */
export interface HookEventSink {
  accept(out: DomainEventOut, source: 'hook'): Promise<void>;
}

export interface HookDeps {
  hooks: StreamHooks;
  /** The domain events of SRS/nginx-rtmp hook calls go here; onair's own media reports its own. */
  events: HookEventSink;
  rooms: Pick<RoomStore, 'findByStreamKey'>;
  /** The room's active session: it keys one external publish (nginx-rtmp's client ids restart with nginx). */
  sessions: { findActiveByRoom(roomId: string): Promise<{ id: string } | null> };
  /** Who may call /hook/* (secret in the URL, source allowlist). */
  guard: HookGuard;
  /** config.media.recordingsDir: on_dvr files must be inside it. */
  recordingsDir: string;
  bodyLimit: string;
  log: Logger;
}

/**
 * Hook endpoints for external media servers, so SRS or nginx-rtmp can stand in for the embedded
 * engine. They call the same authorizePublish/authorizePlay as the in-process engine.
 *
 * Stream names. Viewers must play by the room id, never by the key. Two ways to get there:
 * - SRS cannot rename a stream: publish to rtmp://srs/live/{room_id}?key={stream_key}[&txSecret=&txTime=].
 *   on_publish checks that the key belongs to that room.
 * - nginx-rtmp: publish with the key as the name (OBS: server rtmp://host/live, key sk_...). Point
 *   `on_publish` at /api/v1/hook/on_publish?rename=1 and we answer 302 `Location: {room_id}`:
 *   ngx_rtmp_notify_module renames the stream on a 3xx to on_publish, so it is played as /live/{room_id}.
 *   Without rename=1 we answer 200 and the stream keeps the key as its name; play then needs the key,
 *   which we refuse to hand out, so such a deployment can publish but not authorize viewers.
 *
 * Answers: SRS allow = 200 with body `0` (on_publish: `{"code":0,"data":{stream_name,record,session_id}}`); nginx-rtmp allow = 2xx (or the 302 above); refuse = 403.
 *
 * Events. An external server's hooks are all it says, so each becomes the domain event it stands
 * for, through the same bus as every other edge: on_publish (allowed) -> stream.published,
 * on_unpublish -> stream.unpublished, on_play (allowed) -> viewer.joined, on_stop / on_play_done ->
 * viewer.left, on_dvr -> recording.finished. onair's own media service calls on_publish/on_play for
 * decisions only (the guard recognises its secret): it sends publish.started once media flows,
 * and play.started, as signed callbacks, so its hook calls produce no event.
 *
 * Every call first passes the guard (HookGuard: `?secret=` in the hook URL and/or a source
 * allowlist; 401/403 otherwise). The URL, secret included, is never logged (request-log drops queries).
 */
export function hooksRoutes(deps: HookDeps): Router {
  const r = Router();
  const log = deps.log;
  // Refusals are counted by the guard; the log gets one line per 10 s at most, whatever the rate.
  let loggedAt = 0;
  let unlogged = 0;
  r.use('/hook', (req, res, next) => {
    const check = deps.guard.check(req.socket.remoteAddress, req.headers['x-forwarded-for'], req.query.secret);
    if (check.ok) {
      res.locals.hookCaller = check.caller;
      return next();
    }
    if (Date.now() - loggedAt >= 10_000) {
      log.warn({ hook: req.path, code: check.code, alsoRefused: unlogged }, 'hook call refused');
      loggedAt = Date.now();
      unlogged = 0;
    } else {
      unlogged++;
    }
    res.status(check.status).json({ code: check.status, error: { code: check.code, message: check.message } });
  });
  // Bodies are read only once the guard passed (the app's JSON parser skips /hook/): SRS sends JSON, nginx-rtmp a form.
  r.use('/hook', express.json({ limit: deps.bodyLimit, strict: true, type: 'application/json', verify: verifyJsonBody }));
  r.use('/hook', express.urlencoded({ extended: false, limit: deps.bodyLimit, parameterLimit: 64 }));

  const allow = (res: Response, hook: HookRequest) => {
    if (hook.dialect === 'srs') res.status(200).type('text/plain').send('0');
    else res.status(200).type('text/plain').send('');
  };
  const refuse = (res: Response, reason: string) => {
    res.status(403).json({ code: 403, error: { code: 'refused', message: reason } });
  };
  const parse = (req: express.Request, res: Response): HookRequest | null => {
    const hook = parseHookRequest(req.body, req.is('application/json') === 'application/json');
    if (!hook) res.status(400).json({ code: 400, error: { code: 'invalid_hook', message: 'unrecognised hook body' } });
    return hook;
  };
  const external = (res: Response) => res.locals.hookCaller !== 'onair-media';
  /** One external publish: the server's client id within the room's session. */
  const publisherOf = (clientId: string, sessionId: string) => `${clientId}@${sessionId}`.slice(0, 128);
  /** The room id of a stream name: itself when numeric, the key's room when it is a stream key. */
  const roomIdOf = async (stream: string): Promise<string | null> => {
    if (/^\d{1,19}$/.test(stream)) return stream;
    if (looksLikeStreamKey(stream)) return (await deps.rooms.findByStreamKey(stream))?.id ?? null;
    return null;
  };

  r.post('/hook/on_publish', asyncRoute(async (req, res) => {
    const hook = parse(req, res);
    if (!hook) return;
    const namedByRoom = /^\d{1,19}$/.test(hook.stream);
    const streamKey = namedByRoom ? (hook.query.key ?? '') : hook.stream;
    const decision = await deps.hooks.authorizePublish({ app: hook.app, streamKey, query: hook.query, clientIp: hook.clientIp });
    if (!decision.allow) return refuse(res, decision.reason);
    if (namedByRoom && decision.streamName !== hook.stream) return refuse(res, 'key_not_for_this_room');
    // External servers send no separate "publish started": this allowed hook is the start (the
    // encoder sends media right after the answer). Durable before the answer, as every edge's event.
    if (external(res) && decision.sessionId) {
      const publisherId = publisherOf(hook.clientId, decision.sessionId);
      await deps.events.accept({ kind: 'durable', name: 'stream.published', event: {
        eventId: eventIds.published(publisherId), at: Date.now(), roomId: decision.streamName, publisherId, sessionId: decision.sessionId,
        app: hook.app.slice(0, 64), clientIp: hook.clientIp.slice(0, 64),
      } }, 'hook');
    }
    if (hook.dialect === 'nginx-rtmp' && req.query.rename === '1' && !namedByRoom) {
      res.status(302).set('Location', decision.streamName).type('text/plain').send('');
      return;
    }
    if (hook.dialect === 'srs') {
      // SRS reads only `code`; onair's own media service (media/remote/http-stream-hooks.ts) also
      // needs the public name the key maps to, and whether to record.
      res.status(200).json({
        code: 0, data: { stream_name: decision.streamName, record: decision.record, session_id: decision.sessionId ?? null },
      });
      return;
    }
    allow(res, hook);
  }));

  r.post('/hook/on_unpublish', asyncRoute(async (req, res) => {
    const hook = parse(req, res);
    if (!hook) return;
    const roomId = await roomIdOf(hook.stream);
    const session = roomId && external(res) ? await deps.sessions.findActiveByRoom(roomId) : null;
    if (roomId && session) {
      const publisherId = publisherOf(hook.clientId, session.id);
      await deps.events.accept({ kind: 'durable', name: 'stream.unpublished', event: {
        eventId: eventIds.unpublished(publisherId), at: Date.now(), roomId, publisherId, sessionId: session.id, reason: 'unpublished', bytesIn: 0, durationMs: 0,
      } }, 'hook');
    }
    allow(res, hook);
  }));

  r.post('/hook/on_play', asyncRoute(async (req, res) => {
    const hook = parse(req, res);
    if (!hook) return;
    const decision = await deps.hooks.authorizePlay({
      app: hook.app, streamName: hook.stream, token: hook.query.token, query: hook.query, clientIp: hook.clientIp, protocol: hook.protocol ?? 'rtmp',
    });
    if (!decision.allow) return refuse(res, decision.reason);
    if (external(res) && /^\d{1,19}$/.test(hook.stream)) {
      const at = Date.now();
      await deps.events.accept({ kind: 'fan-out', name: 'viewer.joined', event: {
        eventId: `${hook.clientId}:joined:${at}`, at, roomId: hook.stream, viewerId: hook.clientId.slice(0, 128), protocol: hook.protocol ?? 'rtmp',
        clientIp: hook.clientIp.slice(0, 64), userId: null,
      } }, 'hook');
    }
    allow(res, hook);
  }));

  // SRS on_stop, nginx-rtmp on_play_done: a viewer of an external server left.
  const playEnded = asyncRoute(async (req, res) => {
    const hook = parse(req, res);
    if (!hook) return;
    if (external(res) && /^\d{1,19}$/.test(hook.stream)) {
      const at = Date.now();
      await deps.events.accept({ kind: 'fan-out', name: 'viewer.left', event: {
        eventId: `${hook.clientId}:left:${at}`, at, roomId: hook.stream, viewerId: hook.clientId.slice(0, 128), protocol: hook.protocol ?? 'rtmp',
        clientIp: hook.clientIp.slice(0, 64), userId: null, reason: 'closed', bytesOut: 0, durationMs: 0,
      } }, 'hook');
    }
    allow(res, hook);
  });
  r.post('/hook/on_stop', playEnded);
  r.post('/hook/on_play_done', playEnded);

  r.post('/hook/on_dvr', asyncRoute(async (req, res) => {
    const hook = parse(req, res);
    if (!hook) return;
    const roomId = await roomIdOf(hook.stream);
    if (hook.file) {
      const path = await recordingInside(deps.recordingsDir, hook.file);
      if (!path) {
        log.warn({ roomId }, 'recording outside the recordings directory (or missing): refused');
        res.status(400).json({ code: 400, error: { code: 'invalid_recording_path', message: 'the file must exist inside the recordings directory' } });
        return;
      }
      if (roomId) {
        const now = Date.now();
        const size = await stat(path).then((st) => st.size, () => 0);
        await deps.events.accept({ kind: 'durable', name: 'recording.finished', event: {
          eventId: `hook:dvr:${roomId}:${path}`.slice(0, 191), at: now, roomId, publisherId: hook.clientId.slice(0, 128), file: { path },
          format: path.endsWith('.mp4') ? 'mp4' : path.endsWith('.flv') ? 'flv' : 'other', segment: 0, startedAt: now, endedAt: now, durationMs: 0, size,
        } }, 'hook');
        return allow(res, hook);
      }
    }
    log.info({ roomId, hasFile: Boolean(hook.file) }, 'external recording done');
    allow(res, hook);
  }));

  return r;
}
