/**
 * The engine under fuzz, in its own process so "the server never dies" is observable: prints
 * `{"http":…,"rtmp":…}` on one line once listening, closes on SIGTERM.
 */
import { startTestEngine } from './media-fixtures.js';

const media = await startTestEngine({ hls: false });
process.stdout.write(`${JSON.stringify({ http: media.httpBase, rtmp: media.rtmpBase })}\n`);
process.once('SIGTERM', () => {
  media.close().then(() => process.exit(0), () => process.exit(1));
});
