// The test player page (test-player.html?flv=URL or ?hls=URL), used by tests/e2e/media-browser.test.ts.
// Its own file, not an inline script: the pages' Content-Security-Policy allows only same-origin scripts.
import { play } from '/player.js';
const params = new URLSearchParams(location.search);
const video = document.getElementById('video');
window.playerState = { kind: null, error: null, log: [] };
play(video, {
  whepUrl: params.get('whep') ?? undefined,
  flvUrl: params.get('flv') ?? undefined,
  hlsUrl: params.get('hls') ?? undefined,
  onStatus: (text) => {
    window.playerState.log.push(text);
    document.getElementById('status').textContent = text;
  },
}).then(
  (handle) => {
    window.playerState.kind = handle.kind;
    window.playerHandle = handle;
  },
  (err) => (window.playerState.error = err.message),
);
