/** WS-FLV viewer: FLV bytes in binary WebSocket messages (the `ws` client, no compression). */
import WebSocket from 'ws';
import { FlvTagScanner } from '../flv/flv-tag-scanner.js';
import { CLOCK_HEAD_BYTES } from '../flv/clock-sei.js';
import type { ViewerState } from './viewer-state.js';
import type { ViewerConn } from './viewer.js';

export function startWsFlvViewer(url: URL, state: ViewerState): ViewerConn {
  const scanner = new FlvTagScanner((tag, head) => state.onTag(tag, head), CLOCK_HEAD_BYTES);
  let closing = false;
  const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
  ws.binaryType = 'nodebuffer';
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    state.onBytes(data.length);
    scanner.push(data);
    if (scanner.failed) {
      state.fail(`flv-${scanner.error ?? 'error'}`);
      close();
    }
  });
  ws.on('unexpected-response', (_req, res) => {
    state.fail(`http-${res.statusCode ?? 0}`);
    closing = true;
    ws.terminate();
  });
  ws.on('error', (err: NodeJS.ErrnoException) => state.fail(err.code ?? 'ws-error'));
  ws.on('close', () => {
    if (!closing) state.fail('closed-by-server');
    state.end();
  });
  function close(): void {
    if (closing) return;
    state.end();
    closing = true;
    ws.terminate();
  }
  return { close };
}
