import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpCall } from './http-call.js';

describe('httpCall', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url === '/echo') res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ method: req.method, type: req.headers['content-type'], body }));
        else if (req.url === '/big') res.end('x'.repeat(100_000));
        else if (req.url === '/slow') setTimeout(() => res.end('late'), 500);
        else res.writeHead(404).end('nope');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });

  it('posts the body with its headers and returns status and answer', async () => {
    const res = await httpCall(`${base}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a":"é"}', timeoutMs: 1000 });
    assert.equal(res.status, 201);
    assert.deepEqual(JSON.parse(res.body), { method: 'POST', type: 'application/json', body: '{"a":"é"}' });
    assert.equal((await httpCall(`${base}/other`, { method: 'GET', timeoutMs: 1000 })).status, 404);
  });

  it('keeps at most maxAnswerBytes of the answer', async () => {
    const res = await httpCall(`${base}/big`, { method: 'GET', timeoutMs: 1000, maxAnswerBytes: 1000 });
    assert.equal(res.body.length, 1000);
  });

  it('fails with a TimeoutError when the answer is late, and with the socket error when nobody listens', async () => {
    const started = Date.now();
    await assert.rejects(httpCall(`${base}/slow`, { method: 'GET', timeoutMs: 100 }), { name: 'TimeoutError' });
    assert.ok(Date.now() - started < 400);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await assert.rejects(httpCall(`http://127.0.0.1:${port}/`, { method: 'GET', timeoutMs: 1000 }), { code: 'ECONNREFUSED' });
  });
});
