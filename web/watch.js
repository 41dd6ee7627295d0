// The watch page (watch.html, /watch/{room_id}): gets a play token and plays the room.
// Its own file, not an inline script: the pages' Content-Security-Policy allows only same-origin scripts.
import { play } from '/player.js';

const roomId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const $ = (id) => document.getElementById(id);
const video = $('video');
const setStatus = (text) => ($('status').textContent = text);
let handle = null;

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

function isLive(room) {
  return Boolean(room.is_live ?? room.isLive ?? room.live ?? room.status === 'live');
}

async function showRoom() {
  const room = await getJson(`/api/v1/rooms/${encodeURIComponent(roomId)}`);
  $('title').textContent = room.title ?? `Room ${roomId}`;
  document.title = `onair — ${$('title').textContent}`;
  const live = isLive(room);
  $('state').textContent = live ? 'LIVE' : 'OFFLINE';
  $('state').className = live ? 'live' : 'offline';
  const viewers = room.viewers_count ?? room.viewersCount ?? room.online;
  $('viewers').textContent = viewers === undefined ? '' : `${viewers} watching`;
  return live;
}

/** Same-origin fallbacks when control hands back no URL (or one for another host name). */
function sameOrigin(url, fallback) {
  if (!url) return fallback;
  try {
    const u = new URL(url, location.href);
    return u.pathname + u.search;
  } catch {
    return fallback;
  }
}

async function tryPlay() {
  const live = await showRoom();
  if (!live) {
    setStatus('not live yet; checking again shortly');
    return false;
  }
  const grant = await getJson(`/api/v1/rooms/${encodeURIComponent(roomId)}/play-token`);
  const q = `?token=${encodeURIComponent(grant.token)}`;
  handle = await play(video, {
    flvUrl: sameOrigin(grant.flv_url, `/live/${roomId}.flv${q}`),
    hlsUrl: sameOrigin(grant.hls_url, `/live/${roomId}/index.m3u8${q}`),
    onStatus: setStatus,
  });
  return true;
}

// Bounded retries with a growing pause; the page keeps polling the room state meanwhile.
async function run() {
  for (let attempt = 0; attempt < 1000; attempt++) {
    try {
      if (await tryPlay()) break;
    } catch (err) {
      setStatus(`waiting for the stream (${err.message})`);
    }
    await new Promise((r) => setTimeout(r, Math.min(10000, 2000 + attempt * 1000)));
  }
  if (!handle) return;
  // When the stream stops (video stalls for long), start over: new token, new player.
  let last = video.currentTime;
  let stalled = 0;
  const timer = setInterval(async () => {
    showRoom().catch(() => {});
    if (video.currentTime !== last || video.paused) {
      last = video.currentTime;
      stalled = 0;
      return;
    }
    if (++stalled >= 3) {
      clearInterval(timer);
      handle.destroy();
      handle = null;
      run();
    }
  }, 5000);
}

if (!/^[A-Za-z0-9_-]{1,64}$/.test(roomId)) setStatus('bad room id');
else run();
