/**
 * The engine under fuzz, in its own process so "the server never dies" is observable: prints
 * `{"http":…,"rtmp":…}` on one line once listening, closes on SIGTERM. With the argument `hls`,
 * HLS is on (the viewer-abuse test covers every playback protocol); GET /fuzz/state tells how many
 * viewers and streams the engine still holds (sessions must not leak).
 */
import { startTestEngine } from './media-fixtures.js';

let state = () => ({});
const media = await startTestEngine({ hls: process.argv.includes('hls'), viewerQueueTime: '3s' }, {
  api: (req, res) => {
    if (req.url !== '/fuzz/state') return false;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(state()));
    return true;
  },
});
state = () => ({
  viewers: media.engine.viewers.size,
  streams: media.engine.streams.size,
  rss: process.memoryUsage().rss,
});
process.stdout.write(`${JSON.stringify({ http: media.httpBase, rtmp: media.rtmpBase })}\n`);
process.once('SIGTERM', () => {
  media.close().then(() => process.exit(0), () => process.exit(1));
});
