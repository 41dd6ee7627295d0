import { Router } from 'express';
import { asyncRoute } from '../http/async-route.js';
import { requireRole, requireUser } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import type { RoomService } from './room.service.js';
import { createRoomBody, listRoomsQuery, patchRoomBody, roomParams } from './room.schema.js';

export function roomsRoutes(rooms: RoomService): Router {
  const r = Router();

  r.post('/rooms', requireRole('anchor'), asyncRoute(async (req, res) => {
    const body = parseInput(createRoomBody, req.body, 'body');
    const { room, pushUrl, serverUrl } = await rooms.create(req.user!, { title: body.title, coverUrl: body.cover_url, record: body.record });
    res.status(201).set('Cache-Control', 'no-store').json({
      id: room.id, title: room.title, cover_url: room.coverUrl, record: room.recordEnabled,
      stream_key: room.streamKey, push_url: pushUrl, server_url: serverUrl,
    });
  }));

  r.get('/rooms', asyncRoute(async (req, res) => {
    const query = parseInput(listRoomsQuery, req.query, 'query');
    // Only live rooms are listed publicly (a room directory of idle rooms is not a feature yet).
    const list = await rooms.listLive(query.limit ?? 100);
    res.json({ rooms: list });
  }));

  r.get('/rooms/:id', asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    res.json(await rooms.detail(id));
  }));

  r.patch('/rooms/:id', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    const body = parseInput(patchRoomBody, req.body, 'body');
    res.json(await rooms.update(req.user!, id, { title: body.title, coverUrl: body.cover_url, record: body.record }));
  }));

  r.get('/rooms/:id/stream-key', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    const key = await rooms.getStreamKey(req.user!, id);
    res.set('Cache-Control', 'no-store').json({ stream_key: key.streamKey, revoked: key.revoked, push_url: key.pushUrl, server_url: key.serverUrl });
  }));

  r.post('/rooms/:id/stream-key/rotate', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    const rotated = await rooms.rotateStreamKey(req.user!, id);
    res.set('Cache-Control', 'no-store').json({
      stream_key: rotated.streamKey, push_url: rotated.pushUrl, server_url: rotated.serverUrl,
      // A publisher on the old key is dropped; reconnecting with the new key within the grace keeps the show.
      kicked_publisher: rotated.kickedPublisher,
    });
  }));

  return r;
}
