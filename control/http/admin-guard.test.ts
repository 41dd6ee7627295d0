import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Express } from 'express';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/**
 * Every route control's express app serves whose path starts with /admin, found by walking the
 * routers (express 4 keeps them in app._router.stack, nested routers in layer.handle.stack). A
 * route added tomorrow is found the same way, so one without the operator guard fails below.
 */
export function adminRoutes(app: Express): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          if (typeof path !== 'string') {
            // A RegExp route could be an /admin route this walk cannot read: refuse it, so it is looked at.
            assert.fail(`route with a non-string path ${String(path)}: give it a string path`);
          }
          if (!path.startsWith('/admin')) continue;
          for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') out.push({ method, path });
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { _router: { stack: Layer[] } })._router.stack);
  return out;
}

for (const set of testAdapterSets()) {
  describe(`every /admin route is for operators only, on ${set.name}`, () => {
    let kit: Kit;
    let viewer: Awaited<ReturnType<Kit['user']>>;
    let anchor: Awaited<ReturnType<Kit['anchorWithRoom']>>;
    before(async () => {
      kit = await makeKit(set);
      viewer = await kit.user('viewer');
      anchor = await kit.anchorWithRoom('guarded');
    });
    after(() => kit.close());

    it('finds the admin routes (the walk is not silently empty)', () => {
      const routes = adminRoutes(kit.control.app);
      assert.ok(routes.length >= 30, `only ${routes.length} /admin routes found`);
      for (const known of ['get /admin/rooms', 'post /admin/live/close', 'get /admin/callbacks/dead', 'post /admin/wallets/:user_id/adjust']) {
        assert.ok(routes.some((r) => `${r.method} ${r.path}` === known), `${known} not found`);
      }
    });

    it('refuses anonymous callers (401), viewers and anchors (403), before reading the body or the ids', async () => {
      const wrong: string[] = [];
      for (const { method, path } of adminRoutes(kit.control.app)) {
        // Real ids of the callers' own objects, so a route that forgot the guard would act on them.
        const url = `/api/v1${path.replace(/:[A-Za-z_]+/g, (p) => (p === ':user_id' ? anchor.id : anchor.roomId))}`;
        const call = (auth?: { Authorization: string }) => {
          const req = (kit.http as unknown as Record<string, (u: string) => import('supertest').Test>)[method]!(url);
          if (auth) req.set(auth);
          return method === 'get' || method === 'delete' ? req : req.send({ room_id: anchor.roomId, reason: 'x', role: 'operator', amount: 1000 });
        };
        const anon = await call();
        if (anon.status !== 401) wrong.push(`${method.toUpperCase()} ${path} anonymous: ${anon.status}`);
        for (const [who, auth] of [['viewer', viewer.auth], ['anchor', anchor.auth]] as const) {
          const res = await call(auth);
          if (res.status !== 403 || res.body?.error?.code !== 'wrong_role') wrong.push(`${method.toUpperCase()} ${path} as ${who}: ${res.status} ${JSON.stringify(res.body)}`);
        }
      }
      assert.deepEqual(wrong, []);
      // Nothing happened to the callers' objects: the anchor is still an anchor, the room still theirs.
      const me = await kit.http.get('/api/v1/auth/me').set(anchor.auth).expect(200);
      assert.equal(me.body.role, 'anchor');
    });
  });
}
