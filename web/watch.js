// The room page (watch.html, /watch/{room_id}). The room's state is polled every few seconds and
// the player is watched: a video whose time stops advancing (or that ended, or was paused by
// anything but the viewer) is not healthy, so it is torn down and started again with a new token
// while the room is live. "OFFLINE" before a show, "ENDED" once a show seen here is over, and
// "no such room" for an unknown id (no endless retries).
import { ApiError, api, h, startPage, t } from '/app.js';
import { play } from '/player.js';
import { showLatency } from '/latency.js';
import { initChatUi, startChat, stopChat } from '/room-chat.js';
import { initGifts, sameOrigin as ownOrigin, setLive } from '/room-gifts.js';
import { initSocial, markEntered, setRankingLive, setRoom } from '/room-social.js';
import { initReport } from '/room-report.js';

startPage();
const POLL_MS = 3000;
/** Polls without progress before the player counts as stalled. */
const STALL_POLLS = 2;

const roomId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const $ = (id) => document.getElementById(id);
const video = $('video');
const setStatus = (text) => ($('status').textContent = text);
const KIND = { webrtc: 'WebRTC', flv: 'HTTP-FLV', hls: 'HLS' };

let handle = null;
let starting = false;
let sawLive = false;
let lastTime = -1;
let stalledPolls = 0;
let userPaused = false;
let timer = null;

// A pause counts as the viewer's only when it came with a user gesture (the controls' button);
// a pause from the stream ending, or from the browser, is a problem to recover from.
video.addEventListener('pause', () => {
  userPaused = !video.ended && Boolean(navigator.userActivation?.isActive);
});
video.addEventListener('play', () => (userPaused = false));

function showState(kind) {
  const el = $('state');
  el.textContent = t(`watch.${kind}`);
  el.className = kind === 'live' ? 'live' : 'offline';
  el.dataset.state = kind;
}

function showNotice(text) {
  const n = $('notice');
  n.hidden = !text;
  n.textContent = text ?? '';
}

let stopLatency = null;

function stopPlayer() {
  stopLatency?.();
  stopLatency = null;
  handle?.destroy();
  handle = null;
  lastTime = -1;
  stalledPolls = 0;
}

async function startPlayer() {
  starting = true;
  setStatus(t('watch.connecting'));
  try {
    const grant = await enter();
    if (grant.session_id) markEntered();
    if (grant.session_id) startChat(grant.session_id, enter);
    const q = `?token=${encodeURIComponent(grant.token)}`;
    handle = await play(video, {
      whepUrl: `/live/${roomId}/whep${q}`,
      flvUrl: sameOrigin(grant.flv_url, `/live/${roomId}.flv${q}`),
      hlsUrl: sameOrigin(grant.hls_url, `/live/${roomId}/index.m3u8${q}`),
      onStatus: () => {},
    });
    lastTime = video.currentTime;
    stalledPolls = 0;
    userPaused = false;
    stopLatency = showLatency(video, handle, $('status'));
    setStatus(t('watch.playing', { kind: KIND[handle.kind] ?? handle.kind }));
  } catch (err) {
    // Kicked or on the anchor's blacklist: say so rather than "waiting for the anchor".
    setStatus(err instanceof ApiError && err.status === 403 ? t('chat.kicked') : t('watch.waiting'));
  } finally {
    starting = false;
  }
}

/**
 * Enters the room (POST /enter: play URLs, a token bound to the viewer, the session for chat);
 * where anonymous viewers may not enter, the play token alone still plays the video (no chat).
 */
async function enter() {
  try {
    return await api(`/rooms/${encodeURIComponent(roomId)}/enter`, { method: 'POST' });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return api(`/rooms/${encodeURIComponent(roomId)}/play-token`);
    throw err;
  }
}

/** Same-origin paths when control hands back absolute URLs (possibly for another host name). */
function sameOrigin(url, fallback) {
  if (!url) return fallback;
  try {
    const u = new URL(url, location.href);
    return u.pathname + u.search;
  } catch {
    return fallback;
  }
}

/** True while the video makes progress (or the viewer paused it). */
function healthy() {
  if (video.ended) return false;
  if (video.paused) return userPaused;
  const now = video.currentTime;
  if (now > lastTime) {
    lastTime = now;
    stalledPolls = 0;
    return true;
  }
  return ++stalledPolls < STALL_POLLS;
}

async function tick() {
  let room;
  try {
    room = await api(`/rooms/${encodeURIComponent(roomId)}`);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 400)) return noSuchRoom();
    setStatus(t('common.error', { error: err.message }));
    return;
  }
  $('title').textContent = room.title ?? `Room ${roomId}`;
  document.title = `onair — ${$('title').textContent}`;
  $('anchor').textContent = room.owner?.username ? t('watch.by', { name: room.owner.username }) : '';
  const live = Boolean(room.is_live);
  $('viewers').textContent = live ? t('watch.watching', { n: room.viewers ?? 0 }) : '';
  setLive(live);
  setRoom(room);
  setRankingLive(live);
  if (!live) {
    stopPlayer();
    stopChat();
    showReplays();
    showState(sawLive ? 'ended' : 'offline');
    if (video.dataset.replay) return; // a replay plays: no notice over it
    showNotice(t(sawLive ? 'watch.endedText' : 'watch.offlineText'));
    setStatus('');
    return;
  }
  sawLive = true;
  $('replays').hidden = true;
  replaysShown = false;
  if (video.dataset.replay) {
    // The show began: the live stream replaces the replay.
    delete video.dataset.replay;
    video.onended = null;
    video.removeAttribute('src');
    video.load();
  }
  showState('live');
  showNotice(null);
  if (starting) return;
  if (!handle) return void startPlayer();
  if (healthy()) {
    setStatus(video.paused ? t('watch.paused') : t('watch.playing', { kind: KIND[handle.kind] ?? handle.kind }));
    return;
  }
  // Encoder dropped or the show restarted: a fresh token and player (the room is still live).
  setStatus(t('watch.reconnecting'));
  stopPlayer();
  startPlayer();
}

let replaysShown = false;
/** A replay linked to (`/watch/{room}?replay={id}`: the studio's "my sessions"), played once the room is offline. */
let linkedReplay = /^\d{1,19}$/.test(new URLSearchParams(location.search).get('replay') ?? '') ? new URLSearchParams(location.search).get('replay') : null;

/** The room's past shows, when it is offline: a click plays the replay in the page's video. */
async function showReplays() {
  if (replaysShown) return;
  replaysShown = true;
  let list;
  try {
    list = (await api(`/rooms/${encodeURIComponent(roomId)}/replays?limit=20`)).replays ?? [];
  } catch {
    replaysShown = false;
    return;
  }
  const box = $('replays');
  box.hidden = list.length === 0;
  $('replay-list').replaceChildren(...list.map((r) => h('li', { 'data-replay-id': r.id },
    h('button', { type: 'button', class: 'replay', onclick: () => playReplay(r.id) },
      /^https?:\/\/|^\//.test(r.poster_url ?? "") ? h('img', { src: r.poster_url, alt: '', class: 'poster' }) : '',
      t('replays.item', { date: new Date(r.started_at).toLocaleString(), min: Math.max(1, Math.round((r.duration_ms ?? 0) / 60000)) })))));
  if (linkedReplay) {
    const id = linkedReplay;
    linkedReplay = null;
    playReplay(id);
  }
}

/**
 * Plays a replay in the page's video. A show recorded in several segments (the encoder dropped
 * and came back) and not joined yet (`playback: 'segments'`) plays them in order: the next
 * segment starts when one ends. A joined show (`playback: 'file'`) plays its one file.
 */
async function playReplay(id) {
  try {
    const r = await api(`/replays/${encodeURIComponent(id)}`);
    // playback 'file': one URL for the whole show (the joined MP4, or the only segment);
    // 'segments': not joined (yet), so each segment in order.
    const urls = r.playback === 'segments'
      ? [...(r.segments ?? [])].sort((a, b) => a.segment - b.segment).map((s) => s.url).filter(Boolean)
      : r.playback_url ? [r.playback_url] : [];
    if (urls.length === 0) throw new Error(t('replays.none'));
    stopPlayer();
    showNotice(null);
    video.dataset.replay = id;
    const date = new Date(r.started_at).toLocaleString();
    const playSegment = async (i) => {
      if (video.dataset.replay !== id) return;
      video.src = urls[i];
      video.dataset.segment = String(i);
      video.onended = i + 1 < urls.length ? () => playSegment(i + 1) : null;
      await video.play().catch(() => {});
      setStatus(urls.length > 1 ? t('replays.playingPart', { date, part: i + 1, parts: urls.length }) : t('replays.playing', { date }));
    };
    await playSegment(0);
  } catch (err) {
    setStatus(t('common.error', { error: err.message }));
  }
}

function noSuchRoom() {
  clearInterval(timer);
  stopPlayer();
  $('title').textContent = t('watch.noroom');
  showState('offline');
  $('state').dataset.state = 'noroom';
  showNotice(t('watch.noroom'));
  setStatus('');
  video.hidden = true;
}

/** The platform's room rules, once per browser session and version, over the page (the video keeps loading). */
async function showConventions() {
  const c = await api('/conventions').catch(() => null);
  if (!c?.body) return;
  const seen = `onair.conventions.${c.updated_at}`;
  if (sessionStorage.getItem(seen)) return;
  $('conventions-body').replaceChildren(...c.body.split(/\n{2,}/).map((para) => {
    const p = document.createElement('p');
    p.textContent = para;
    return p;
  }));
  const dialog = $('conventions');
  dialog.addEventListener('close', () => sessionStorage.setItem(seen, '1'), { once: true });
  dialog.showModal();
}

if (!/^[A-Za-z0-9_-]{1,64}$/.test(roomId)) {
  setStatus(t('watch.badid'));
  noSuchRoom();
} else {
  initChatUi();
  initGifts(roomId);
  initSocial(roomId);
  initReport(roomId);
  // Back from the back/forward cache: /exit ran on pagehide, so enter again (the next poll starts a fresh player).
  addEventListener('pageshow', (e) => {
    if (!e.persisted) return;
    stopChat();
    stopPlayer();
  });
  tick();
  timer = setInterval(tick, POLL_MS);
  showConventions();
}
