/** RTMP viewer: the stress tool's RTMP client in play mode, media messages seen as FLV tags. */
import { RtmpClient, parseRtmpUrl } from '../rtmp/rtmp-client.js';
import { CLOCK_HEAD_BYTES } from '../flv/clock-sei.js';
import type { FlvTag } from '../flv/flv-tag-scanner.js';
import type { ViewerState } from './viewer-state.js';
import type { ViewerConn } from './viewer.js';

export function startRtmpViewer(url: URL, state: ViewerState, readBuffer: Buffer): ViewerConn {
  let closing = false;
  const tag: FlvTag = { type: 0, timestamp: 0, dataSize: 0 };
  let started = false;
  const client = new RtmpClient(
    parseRtmpUrl(url.href),
    'play',
    {
      onBytes(n) {
        // Handshake and command bytes are not media: count from the first media message on.
        if (started) state.onBytes(n);
      },
      onMedia(m) {
        if (!started) {
          started = true;
          state.onBytes(m.length);
        }
        tag.type = m.type;
        tag.timestamp = m.timestamp;
        tag.dataSize = m.length;
        state.onTag(tag, m.body);
      },
      onReady() {},
      onError(kind) {
        state.fail(kind);
      },
      onClose() {
        if (!closing) state.fail('closed-by-server');
        state.end();
      },
    },
    readBuffer,
    CLOCK_HEAD_BYTES,
  );
  return {
    close() {
      if (closing) return;
      state.end();
      closing = true;
      client.close();
    },
  };
}
