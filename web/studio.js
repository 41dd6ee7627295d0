// The anchor studio (/studio): my rooms, create one, the OBS server and stream key (hidden until
// revealed; copy buttons; rotate), and while live the encoder's figures from media, with a warning
// when keyframes come too rarely (OBS's default "0 = auto" can mean 8 s: viewers wait that long).
import { api, copyText, currentUser, formatDuration, h, loadFailed, loading, startPage, t } from '/app.js';
import { chatPanel, rememberSession, showSummaries } from '/studio-chat.js';
import { sessionsPanel, showSessionSummary } from '/studio-sessions.js';

startPage();
const KEYFRAME_WARN_MS = 4000;
const user = currentUser();
const errorBox = document.getElementById('studio-error');
const roomsBox = document.getElementById('my-rooms');
/** Room id -> its card's live parts, kept across refreshes so a revealed key stays revealed. */
const cards = new Map();
/** The "my sessions" list, reloaded when a show ends. */
let sessions = null;
/** Until the rooms have come once: "Loading…", or why they could not, with a Retry. */
const roomsState = document.getElementById('rooms-state');
let roomsLoaded = false;

if (!user || (user.role !== 'anchor' && user.role !== 'operator')) {
  errorBox.replaceChildren(t('studio.needAnchor'), ' ', h('a', { href: '/login?next=/studio' }, t('nav.login')));
} else {
  document.getElementById('studio').hidden = false;
  refresh();
  setInterval(refresh, 3000);
  income();
  setInterval(income, 15000);
  showSummaries(document.getElementById('summaries-box'));
  sessions = sessionsPanel(document.getElementById('sessions-panel'), async () => (await api('/me/studio/rooms')).rooms);
  // A session's summary link (#session=ID), from the sessions list or a bookmark.
  const openSummary = () => {
    const id = /^#session=([\w-]{1,40})$/.exec(location.hash)?.[1];
    if (id) showSessionSummary(document.getElementById('session-summary-box'), id);
  };
  window.addEventListener('hashchange', openSummary);
  openSummary();
}

/** Gift income of the last 30 days (control/gifts' GET /me/income, per UTC day). */
async function income() {
  const box = document.getElementById('income');
  try {
    const { days } = await api('/me/income?group=day');
    const sum = (k) => days.reduce((n, d) => n + (d[k] ?? 0), 0);
    box.textContent = t('studio.income', { income: sum('income'), gifts: sum('gifts') });
  } catch {
    box.textContent = '';
  }
}

function copyButton(id, get) {
  const button = h('button', { type: 'button', class: 'copy', id, onclick: async () => {
    const ok = await copyText(await get());
    button.textContent = ok ? t('studio.copied') : t('common.error', { error: 'clipboard' });
    setTimeout(() => (button.textContent = t('studio.copy')), 1500);
  } }, t('studio.copy'));
  return button;
}

function makeCard(room) {
  let key = null;
  const keyOf = async () => (key ??= (await api(`/rooms/${room.id}/stream-key`)).stream_key);
  const server = h('code', { class: 'server' }, '…');
  const keyField = h('code', { class: 'key', dataset: { revealed: 'false' } }, '••••••••••••');
  const reveal = h('button', { type: 'button', class: 'reveal', onclick: async () => {
    const shown = keyField.dataset.revealed === 'true';
    keyField.textContent = shown ? '••••••••••••' : await keyOf();
    keyField.dataset.revealed = String(!shown);
    reveal.textContent = t(shown ? 'studio.reveal' : 'studio.hide');
  } }, t('studio.reveal'));
  // What an action on this room answered (the page's error line is redrawn by every poll).
  const msg = h('p', { class: 'status card-msg', role: 'status' });
  const say = (text, isError = false) => {
    msg.textContent = text;
    msg.className = `${isError ? 'error' : 'status'} card-msg`;
  };
  const rotate = h('button', { type: 'button', class: 'rotate', onclick: async () => {
    if (!confirm(t('studio.rotateConfirm'))) return;
    try {
      key = (await api(`/rooms/${room.id}/stream-key/rotate`, { method: 'POST' })).stream_key;
      if (keyField.dataset.revealed === 'true') keyField.textContent = key;
    } catch (err) {
      say(t('common.error', { error: err.message }), true);
    }
  } }, t('studio.rotate'));
  // Recording (PATCH /rooms/{id} {record}): what makes a show a replay once it ends.
  const record = h('input', { type: 'checkbox', class: 'record', id: `record-${room.id}`, checked: Boolean(room.record), onchange: async () => {
    const want = record.checked;
    record.disabled = true;
    try {
      await api(`/rooms/${room.id}`, { method: 'PATCH', body: { record: want } });
      say(t(want ? 'studio.recordOn' : 'studio.recordOff'));
    } catch (err) {
      record.checked = !want;
      say(t('common.error', { error: err.message }), true);
    } finally {
      record.disabled = false;
    }
  } });
  // The anchor ends the show here (POST /live/close, 主播主动关播), not only by stopping the encoder
  // and waiting out the reconnect grace.
  const end = h('button', { type: 'button', class: 'danger end-show', hidden: true, onclick: async () => {
    if (!confirm(t('studio.endConfirm'))) return;
    end.disabled = true;
    try {
      await api('/live/close', { method: 'POST', body: { room_id: room.id } });
      say(t('studio.ended'));
      again.hidden = false;
      await refresh();
    } catch (err) {
      say(t('common.error', { error: err.message }), true);
    } finally {
      end.disabled = false;
    }
  } }, t('studio.end'));
  // After End show the server refuses OBS's reconnects for a while (ONAIR_LIVE_CLOSE_HOLD), so its
  // automatic reconnect does not start a new show; POST /live/start lifts that hold at once.
  const again = h('button', { type: 'button', class: 'go-live-again', hidden: true, onclick: async () => {
    again.disabled = true;
    try {
      await api('/live/start', { method: 'POST', body: { room_id: room.id } });
      again.hidden = true;
      say(t('studio.againReady'));
    } catch (err) {
      say(t('common.error', { error: err.message }), true);
    } finally {
      again.disabled = false;
    }
  } }, t('studio.again'));
  const state = h('span', { class: 'offline state' }, t('studio.idle'));
  const ingest = h('div', { class: 'ingest status' });
  const warn = h('p', { class: 'warn kf-warn', hidden: true });
  const revoked = h('p', { class: 'warn', hidden: true }, t('studio.revoked'));
  const title = h('strong', {}, room.title);
  const el = h('article', { class: 'card room', dataset: { roomId: room.id } },
    h('div', { class: 'row' }, title, state, end, again, h('a', { href: `/watch/${room.id}` }, t('studio.open'))),
    h('div', { class: 'row' }, h('span', {}, t('studio.server')), server, copyButton(`copy-server-${room.id}`, async () => server.textContent)),
    h('div', { class: 'row' }, h('span', {}, t('studio.key')), keyField, reveal, copyButton(`copy-key-${room.id}`, keyOf), rotate),
    h('div', { class: 'row' }, h('label', { class: 'inline', for: `record-${room.id}` }, record, ' ', t('studio.record'))),
    msg, revoked, ingest, warn, chatPanel(room.id).el,
  );
  api(`/rooms/${room.id}/stream-key`).then((k) => (server.textContent = k.server_url)).catch(() => undefined);
  return { el, title, state, ingest, warn, revoked, rotate, record, end, again, wasLive: false };
}

async function refresh() {
  let rooms;
  if (!roomsLoaded && !roomsState.firstChild) loading(roomsState); // an error shown stays until a poll or Retry succeeds
  try {
    rooms = (await api('/me/studio/rooms')).rooms;
    errorBox.textContent = '';
  } catch (err) {
    if (roomsLoaded) errorBox.textContent = t('common.error', { error: err.message });
    else loadFailed(roomsState, err, () => {
      loading(roomsState);
      refresh();
    });
    return;
  }
  if (!roomsLoaded) roomsState.replaceChildren();
  roomsLoaded = true;
  document.getElementById('no-rooms').hidden = rooms.length > 0;
  for (const room of rooms) {
    let card = cards.get(room.id);
    if (!card) {
      card = makeCard(room);
      cards.set(room.id, card);
      roomsBox.append(card.el);
    }
    card.title.textContent = room.title;
    card.state.textContent = room.is_live ? t('studio.live') : t('studio.idle');
    card.state.className = `state ${room.is_live ? 'live' : 'offline'}`;
    card.end.hidden = !room.is_live;
    if (room.is_live) card.again.hidden = true;
    if (!card.record.disabled) card.record.checked = Boolean(room.record);
    if (room.is_live && !card.sessionKnown) {
      // The show's session id, for its summary once it ends.
      api(`/rooms/${room.id}`).then((r) => {
        if (r.session_id) rememberSession(room.id, r.session_id);
        card.sessionKnown = Boolean(r.session_id);
      }).catch(() => undefined);
    }
    if (card.wasLive && !room.is_live) {
      card.sessionKnown = false;
      // Settlement runs right after the end: give it a moment, then show the summary.
      setTimeout(() => {
        showSummaries(document.getElementById('summaries-box'));
        sessions?.reload();
      }, 1500);
      // The replay is written a moment after the end: look again so its link shows without a reload.
      setTimeout(() => sessions?.reload(), 6000);
      income();
    }
    card.wasLive = room.is_live;
    card.revoked.hidden = !room.stream_key_revoked;
    card.rotate.disabled = room.stream_key_revoked;
    const figures = room.is_live ? room.ingest : null;
    card.ingest.textContent = figures
      ? t('studio.ingest', { kbps: figures.bitrate_kbps, fps: figures.fps, w: figures.width, h: figures.height, kf: formatDuration(figures.keyframe_interval_ms) })
      : '';
    const slow = figures && figures.keyframe_interval_ms > KEYFRAME_WARN_MS;
    card.warn.hidden = !slow;
    card.warn.textContent = slow ? t('studio.kfWarn', { kf: formatDuration(figures.keyframe_interval_ms) }) : '';
  }
}

document.getElementById('create-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = document.getElementById('create-title');
  try {
    await api('/rooms', { method: 'POST', body: { title: input.value } });
    input.value = '';
    await refresh();
  } catch (err) {
    errorBox.textContent = t('common.error', { error: err.message });
  }
});
