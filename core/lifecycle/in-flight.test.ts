import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InFlight, settleWithin } from './in-flight.js';
import { drainHttpServer } from './http-drain.js';

const later = <T>(ms: number, value?: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value as T), ms));

describe('InFlight', () => {
  it('waits for tracked work, including work tracked while waiting', async () => {
    const f = new InFlight();
    const done: string[] = [];
    void f.track(later(30).then(() => {
      done.push('a');
      void f.track(later(30).then(() => done.push('b')));
    }));
    assert.equal(await f.idle(Date.now() + 2_000), 0);
    assert.deepEqual(done, ['a', 'b']);
  });

  it('stops waiting at the deadline and says how much is left; rejected work counts as finished', async () => {
    const f = new InFlight();
    void f.track(later(5_000));
    f.track(Promise.reject(new Error('x'))).catch(() => undefined);
    const started = Date.now();
    assert.equal(await f.idle(Date.now() + 100), 1);
    assert.ok(Date.now() - started < 1_000);
  });

  it('settleWithin tells in time from too late', async () => {
    assert.equal(await settleWithin(later(10), 500), true);
    assert.equal(await settleWithin(later(500), 10), false);
  });
});

describe('drainHttpServer', () => {
  it('lets a request in progress finish, refuses new connections, and cuts what outlives the deadline', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('slow done'), 300);
      else if (req.url === '/forever') res.write('never ends');
      else res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await (await fetch(`${base}/fast`)).text(); // leaves an idle keep-alive connection
    const slow = fetch(`${base}/slow`).then((r) => r.text());
    const forever = fetch(`${base}/forever`).then((r) => r.text()).catch(() => 'cut');
    await later(50);
    const cut = await drainHttpServer(server, Date.now() + 1_000);
    assert.equal(await slow, 'slow done');
    assert.equal(cut, 1, 'the endless response was cut at the deadline');
    assert.match(await forever, /cut|never ends/);
    await assert.rejects(fetch(`${base}/fast`), 'no new connections');
  });
});
