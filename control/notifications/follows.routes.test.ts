import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import request from 'supertest';
import { silentLogger } from '../../core/logging/logger.js';
import { errorHandler } from '../http/error-handler.js';
import { requireUser } from '../http/auth.middleware.js';
import { busChoices, makeCallbackStack, type CallbackStack } from '../callbacks/testing/callback-stack.js';
import { createFollowRouter } from './follows.routes.js';

for (const { set, bus } of busChoices().filter((c) => c.bus.name === 'DbEventBus')) {
  describe(`follow routes on ${set.name}`, () => {
    let s: CallbackStack;
    before(async () => { s = await makeCallbackStack(set, bus); });
    after(async () => { await s.close(); });

    it('follows and unfollows idempotently, refuses anonymous, unknown rooms and self-follows', async () => {
      const a = await s.anchorWithRoom();
      const fan = await s.users.create({ username: `fan${Date.now()}`, passwordHash: 'x', role: 'viewer' });
      const as = (id: string | null) => express()
        .use((req, _res, next) => { if (id) req.user = { id, username: 'u', role: 'viewer' }; next(); })
        .use('/api/v1', createFollowRouter({ db: s.ports.db, rooms: s.rooms, guard: [requireUser] }))
        .use(errorHandler(silentLogger()));
      assert.deepEqual((await request(as(fan.id)).post(`/api/v1/rooms/${a.roomId}/follow`)).body, { following: true });
      assert.deepEqual((await request(as(fan.id)).post(`/api/v1/rooms/${a.roomId}/follow`)).body, { following: true });
      assert.equal(await s.count('follows', 'user_id = ? AND anchor_id = ?', [fan.id, a.userId]), 1);
      assert.equal((await request(as(null)).post(`/api/v1/rooms/${a.roomId}/follow`)).status, 401);
      assert.equal((await request(as(fan.id)).post('/api/v1/rooms/999999999/follow')).status, 404);
      assert.equal((await request(as(fan.id)).post('/api/v1/rooms/abc/follow')).status, 400);
      assert.equal((await request(as(a.userId)).post(`/api/v1/rooms/${a.roomId}/follow`)).status, 403);
      assert.deepEqual((await request(as(fan.id)).delete(`/api/v1/rooms/${a.roomId}/follow`)).body, { following: false });
      assert.equal(await s.count('follows', 'user_id = ?', [fan.id]), 0);
    });
  });
}
