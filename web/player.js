// onair browser player: WebRTC (WHEP, whep-player.js), HTTP-FLV through mpegts.js (MSE), HLS through
// hls.js, native HLS on Safari. play(video, { whepUrl, flvUrl, hlsUrl, onStatus }) tries WebRTC first
// where the browser has it, then FLV, then HLS; it resolves to a handle { kind, destroy() } once
// playback is set up, and rejects when no source can play.
import { playWhep, webrtcSupported } from '/whep-player.js';

const scripts = new Map();

/** Loads a UMD bundle from /vendor once (window.mpegts, window.Hls). */
function loadScript(src) {
  if (!scripts.has(src)) {
    scripts.set(src, new Promise((resolve, reject) => {
      const el = document.createElement('script');
      el.src = src;
      el.onload = () => resolve();
      el.onerror = () => {
        scripts.delete(src);
        reject(new Error(`cannot load ${src}`));
      };
      document.head.appendChild(el);
    }));
  }
  return scripts.get(src);
}

/** Resolves once the video has advanced past its start, or rejects on error/timeout. */
function waitForProgress(video, failed, timeoutMs) {
  return new Promise((resolve, reject) => {
    const start = video.currentTime;
    const timer = setTimeout(() => finish(new Error('no playback progress')), timeoutMs);
    const onTime = () => {
      if (video.currentTime > start) finish();
    };
    function finish(err) {
      clearTimeout(timer);
      video.removeEventListener('timeupdate', onTime);
      if (err) reject(err);
      else resolve();
    }
    video.addEventListener('timeupdate', onTime);
    failed.reject = (err) => finish(err);
  });
}

async function playFlv(video, url, status) {
  await loadScript('/vendor/mpegts.js');
  const mpegts = window.mpegts;
  if (!mpegts || !mpegts.isSupported() || !mpegts.getFeatureList().mseLivePlayback) throw new Error('HTTP-FLV needs MSE');
  const player = mpegts.createPlayer(
    { type: 'flv', isLive: true, url },
    { enableStashBuffer: false, liveBufferLatencyChasing: true, lazyLoad: false },
  );
  const failed = {};
  player.on(mpegts.Events.ERROR, (type, detail) => {
    status(`FLV error: ${type} ${detail}`);
    failed.reject?.(new Error(`${type}: ${detail}`));
  });
  const progress = waitForProgress(video, failed, 15000);
  player.attachMediaElement(video);
  player.load();
  Promise.resolve(player.play()).catch(() => {});
  try {
    await progress;
  } catch (err) {
    player.destroy();
    throw err;
  }
  return { kind: 'flv', destroy: () => player.destroy() };
}

async function playHls(video, url, status) {
  await loadScript('/vendor/hls.js');
  const Hls = window.Hls;
  const failed = {};
  const progress = waitForProgress(video, failed, 20000);
  let destroy;
  if (Hls && Hls.isSupported()) {
    const hls = new Hls({ lowLatencyMode: false, liveSyncDurationCount: 2, manifestLoadingMaxRetry: 2 });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      status(`HLS error: ${data.type} ${data.details}`);
      failed.reject?.(new Error(`${data.type}: ${data.details}`));
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    destroy = () => hls.destroy();
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = url; // Safari plays HLS natively
    video.addEventListener('error', () => failed.reject?.(new Error('native HLS error')), { once: true });
    destroy = () => video.removeAttribute('src');
  } else {
    failed.reject(new Error('this browser cannot play HLS'));
    await progress;
  }
  Promise.resolve(video.play()).catch(() => {});
  try {
    await progress;
  } catch (err) {
    destroy();
    throw err;
  }
  return { kind: 'hls', destroy };
}

/**
 * Plays a live stream in `video`: HTTP-FLV when `flvUrl` is given and MSE works, else (or when FLV
 * fails) HLS from `hlsUrl`. `onStatus(text)` receives progress messages for the page.
 */
export async function play(video, { whepUrl, flvUrl, hlsUrl, onStatus } = {}) {
  const status = onStatus ?? (() => {});
  // Browsers only autoplay muted video; the page offers unmute through the controls.
  video.muted = true;
  video.playsInline = true;
  const errors = [];
  if (whepUrl && webrtcSupported()) {
    try {
      status('connecting (WebRTC)…');
      const handle = await playWhep(video, whepUrl);
      status('playing (WebRTC)');
      return handle;
    } catch (err) {
      // A refused token is refused on every protocol: no point trying the others.
      if (err.status === 401 || err.status === 403) throw err;
      errors.push(`WebRTC: ${err.message}`);
    }
  }
  if (flvUrl) {
    try {
      status('connecting (HTTP-FLV)…');
      const handle = await playFlv(video, flvUrl, status);
      status('playing (HTTP-FLV)');
      return handle;
    } catch (err) {
      errors.push(`FLV: ${err.message}`);
    }
  }
  if (hlsUrl) {
    try {
      status('connecting (HLS)…');
      const handle = await playHls(video, hlsUrl, status);
      status('playing (HLS)');
      return handle;
    } catch (err) {
      errors.push(`HLS: ${err.message}`);
    }
  }
  throw new Error(errors.join('; ') || 'no stream URL');
}
