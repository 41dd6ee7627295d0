import type { IncomingMessage, ServerResponse } from 'node:http';
import { MEDIA_SIGNATURE_HEADER, MEDIA_TIMESTAMP_HEADER } from '../../core/callbacks/media-callback-signature.js';
import { CallbackReceiver, CALLBACK_BODY_LIMIT, callbackRequestMeta, type CallbackReceiverDeps, type ReceiverAnswer } from './callback-receiver.js';

/**
 * The callback receiver on bare node:http, for the request listener in front of express:
 *
 *   const fast = createCallbackFastPath(deps);
 *   http.createServer((req, res) => { if (!fast(req, res)) app(req, res); });
 *
 * It takes POST /api/v1/callback and /api/v1/callback/media (returns true) and leaves every other
 * request to express (returns false). Same logic and answers as the router; on this 2-core machine
 * express' own per-request cost caps a route at ~4,500 requests/s, this path at ~15,000 (see
 * docs/benchmarks.md). Bodies are read up to 256 KB; past that the answer is 413 at once.
 */
export function createCallbackFastPath(deps: CallbackReceiverDeps | CallbackReceiver, prefix = '/api/v1'): (req: IncomingMessage, res: ServerResponse) => boolean {
  const receiver = deps instanceof CallbackReceiver ? deps : new CallbackReceiver(deps);
  const cssPath = `${prefix}/callback`;
  const mediaPath = `${prefix}/callback/media`;
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const path = req.url?.split('?')[0];
    if (path !== cssPath && path !== mediaPath) return false;
    const source = path === mediaPath ? 'media-http' : 'css';
    const send = (a: ReceiverAnswer) => {
      if (res.headersSent) return;
      const body = JSON.stringify(a.body);
      res.writeHead(a.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > CALLBACK_BODY_LIMIT) {
      res.setHeader('connection', 'close');
      send(receiver.tooLarge(source));
      req.resume();
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > CALLBACK_BODY_LIMIT) {
        over = true;
        res.setHeader('connection', 'close');
        send(receiver.tooLarge(source));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (over) return;
      const raw = Buffer.concat(chunks, size);
      const answer = source === 'css'
        ? receiver.css(raw, undefined, callbackRequestMeta(req))
        : receiver.media(raw, header(req, MEDIA_TIMESTAMP_HEADER), header(req, MEDIA_SIGNATURE_HEADER));
      answer.then(send, (err: unknown) => {
        receiver.log.error({ err, source }, 'callback failed');
        send({ status: 500, body: { error: { code: 'internal', message: 'internal error' } } });
      });
    });
    req.on('error', () => res.destroy());
    return true;
  };
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};
