/**
 * HTTP-FLV viewer on a raw socket (no http module): one shared read buffer for every viewer,
 * big reads, and only tag headers parsed. This is what lets one core absorb thousands of streams.
 */
import net from 'node:net';
import { FlvTagScanner } from '../flv/flv-tag-scanner.js';
import { CLOCK_HEAD_BYTES } from '../flv/clock-sei.js';
import { HttpResponseReader } from './http-response.js';
import type { ViewerState } from './viewer-state.js';
import type { ViewerConn } from './viewer.js';

export function startHttpFlvViewer(url: URL, state: ViewerState, readBuffer: Buffer): ViewerConn {
  if (url.protocol !== 'http:') throw new TypeError(`HTTP-FLV viewer supports http:// only, got ${url.protocol}`);
  const scanner = new FlvTagScanner((tag, head) => state.onTag(tag, head), CLOCK_HEAD_BYTES);
  const response = new HttpResponseReader((buf, start, end) => {
    state.onBytes(end - start);
    scanner.push(buf, start, end);
  });
  let closing = false;
  const socket = net.connect({
    host: url.hostname,
    port: url.port ? Number(url.port) : 80,
    onread: {
      buffer: readBuffer,
      callback: (n, buf) => {
        response.push(buf as Buffer, 0, n);
        if (response.error) return fail(response.error);
        if (response.headersDone && response.status !== 200) return fail(`http-${response.status}`);
        if (scanner.failed) return fail(`flv-${scanner.error ?? 'error'}`);
        return true;
      },
    },
  });
  socket.setNoDelay(true);
  socket.on('connect', () => {
    const host = url.port ? `${url.hostname}:${url.port}` : url.hostname;
    socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: onair-stress\r\nAccept: */*\r\nConnection: close\r\n\r\n`);
  });
  socket.on('error', (err: NodeJS.ErrnoException) => state.fail(err.code ?? 'socket-error'));
  socket.on('close', () => {
    if (!closing) state.fail(response.headersDone ? 'closed-by-server' : 'closed-before-response');
    state.end();
  });

  function fail(kind: string): false {
    state.fail(kind);
    closing = true;
    socket.destroy();
    return false;
  }

  return {
    close() {
      if (closing) return;
      state.end();
      closing = true;
      socket.destroy();
    },
  };
}
