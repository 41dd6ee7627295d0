// The room page's live chat (docs/chat-protocol.md): one WebSocket per page, opened from the
// /enter answer (session + token), read-only for anonymous viewers. Messages go to the list beside
// the video and, for chat and danmaku, fly over the video (the overlay, toggled by the viewer and
// remembered). Gifts arrive as `gift` messages on the same socket (combos grow one line). A dropped
// socket comes back with `after=` the last id seen, so nothing is shown twice or lost (a gap is said).
import { currentUser, t } from '/app.js';
import { openReport } from '/room-report.js';

const $ = (id) => document.getElementById(id);
const MAX_LINES = 200;
const DANMAKU_KEY = 'onair.danmaku';

let ws = null;
let lastId = null;
let session = null;
let getTicket = null;
let closedForGood = false;
let retry = 0;
let retryTimer = null;
let clientSeq = 0;

/** Starts chat for a live session; `ticket()` answers a fresh /enter (a token for each connect). */
export function startChat(sessionId, ticket) {
  if (session === sessionId) return; // already chatting (or reconnecting) in this show
  stopChat();
  session = sessionId;
  getTicket = ticket;
  closedForGood = false;
  lastId = null;
  retry = 0;
  $('chat').hidden = false;
  connect();
}

export function stopChat() {
  closedForGood = true;
  clearTimeout(retryTimer);
  ws?.close(1000);
  ws = null;
  session = null;
}

async function connect() {
  if (closedForGood) return;
  let enter;
  try {
    enter = await getTicket();
  } catch (err) {
    chatState(t('chat.cannot', { error: err.message }));
    return scheduleRetry();
  }
  if (closedForGood || enter.session_id !== session) return;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const after = lastId ? `&after=${encodeURIComponent(lastId)}` : '';
  const socket = new WebSocket(`${proto}//${location.host}/ws/live/${encodeURIComponent(session)}?token=${encodeURIComponent(enter.token)}${after}`);
  ws = socket;
  socket.onmessage = (e) => {
    let batch;
    try {
      batch = JSON.parse(e.data);
    } catch {
      return;
    }
    for (const m of Array.isArray(batch) ? batch : [batch]) handle(m);
  };
  socket.onclose = (e) => {
    if (ws !== socket) return;
    ws = null;
    canPost(false);
    // 4005: this user opened the room's chat elsewhere (another tab or device) and that socket won;
    // reconnecting would take it back, and the two would take turns for ever.
    if (e.code === 4004 || e.code === 4003 || e.code === 4005 || e.code === 1000) {
      chatState(t(e.code === 4003 ? 'chat.kicked' : e.code === 4005 ? 'chat.replaced' : 'chat.closed'));
      return;
    }
    chatState(t('chat.reconnecting'));
    scheduleRetry();
  };
}

function scheduleRetry() {
  if (closedForGood) return;
  clearTimeout(retryTimer);
  const wait = Math.min(15_000, 1000 * 2 ** retry++);
  retryTimer = setTimeout(connect, wait);
}

function handle(m) {
  if (m.id) lastId = m.id;
  switch (m.type) {
    case 'welcome':
      retry = 0;
      chatState('');
      canPost(Boolean(m.can_post));
      $('chat-online').textContent = t('chat.online', { n: m.online ?? 0 });
      break;
    case 'chat':
    case 'danmaku': {
      const li = line('msg', m.id, m.user?.name, m.text);
      const me = currentUser();
      // Others' lines carry a report button (举报): the reason goes to the operators with the line's id.
      if (me && m.id && m.user?.id !== undefined && String(m.user.id) !== String(me.id)) {
        const flag = document.createElement('button');
        flag.type = 'button';
        flag.className = 'link report-msg';
        flag.textContent = '⚑';
        flag.title = t('report.message');
        flag.setAttribute('aria-label', t('report.message'));
        flag.addEventListener('click', () => openReport(m.id, `${m.user?.name ?? ''}: ${m.text ?? ''}`));
        li.append(' ', flag);
      }
      fly(m.text, m.color, undefined, m.position);
      break;
    }
    case 'gift':
      gift(m);
      break;
    case 'ack':
      break;
    case 'error':
      showError(m);
      break;
    case 'resumed':
      if (m.gap) line('sys', null, null, t('chat.gap'));
      break;
    case 'audience_join':
      if (m.users?.length) line('sys', null, null, t('chat.joined', { names: m.users.map((u) => u.name).join(', '), more: m.count > m.users.length ? t('chat.andMore', { n: m.count - m.users.length }) : '' }));
      if (m.online !== undefined) $('chat-online').textContent = t('chat.online', { n: m.online });
      break;
    case 'audience_leave':
      if (m.online !== undefined) $('chat-online').textContent = t('chat.online', { n: m.online });
      break;
    case 'online':
      $('chat-online').textContent = t('chat.online', { n: m.count });
      break;
    case 'likes':
      $('likes').textContent = t('chat.likes', { n: m.likes ?? 0 });
      break;
    case 'message_deleted':
      document.querySelector(`#chat-list [data-id="${CSS.escape(String(m.message_id))}"]`)?.remove();
      break;
    case 'muted': {
      const me = currentUser();
      if (me && String(m.user_id) === String(me.id)) {
        line('sys', null, null, m.until ? t('chat.youMuted', { time: new Date(m.until).toLocaleTimeString() }) : t('chat.youUnmuted'));
      }
      break;
    }
    case 'notice':
      // A new socket replays the room's last kept messages, which may hold the end (or the pause, or
      // the pause's end) of an earlier show: old news in this show, not to be said again.
      if ((m.code === 'live_ended' || m.code === 'stream_paused') && m.session_id && session && String(m.session_id) !== String(session)) break;
      if (m.code === 'stream_resumed') break; // the chat runs during a show only: a pause ended before it began
      if (m.code === 'live_ended') line('sys', null, null, t('chat.ended'));
      else if (m.code === 'slow_mode') line('sys', null, null, t('chat.slowMode', { n: m.seconds ?? 0 }));
      else if (m.code === 'stream_paused') line('sys', null, null, t('chat.paused', { time: m.until ? new Date(m.until).toLocaleString() : '' }));
      else if (m.code === 'moderation_warning') line('sys', null, null, t('chat.warning', { reason: m.reason ?? '' }));
      else if (m.text) line('sys', null, null, m.text);
      break;
    default:
      break;
  }
}

function line(kind, id, name, text) {
  const list = $('chat-list');
  const li = document.createElement('li');
  li.className = kind;
  if (id) li.dataset.id = id;
  if (name) {
    const b = document.createElement('b');
    b.textContent = `${name}: `;
    li.append(b);
  }
  li.append(document.createTextNode(text ?? ''));
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
  list.append(li);
  while (list.children.length > MAX_LINES) list.firstElementChild.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
  return li;
}

/** A gift line; the same combo (sender + gift within the combo window) updates its line. */
function gift(m) {
  const combo = m.combo?.id ? `combo-${m.combo.id}` : null;
  const text = t('chat.gift', { name: m.gift?.name ?? '?', count: m.count ?? 1 }) + (m.combo?.count > 1 ? ` · ${t('chat.combo', { n: m.combo.count })}` : '');
  const existing = combo && document.querySelector(`#chat-list [data-combo="${CSS.escape(combo)}"]`);
  if (existing) {
    existing.lastChild.textContent = text;
    existing.parentElement.append(existing);
  } else {
    const li = line('gift', m.id, m.sender?.username, text);
    if (combo) li.dataset.combo = combo;
  }
  fly(`🎁 ${m.sender?.username ?? ''} ${text}`, '#ffd400', 'gift');
}

/** A danmaku crossing the video right to left on one of a few lanes. */
function fly(text, color, kind, position) {
  const overlay = $('danmaku');
  if (!overlay || overlay.hidden || !text) return;
  const span = document.createElement('span');
  span.className = kind === 'gift' ? 'dm gift' : 'dm';
  span.textContent = text;
  if (color && /^#[0-9a-f]{6}$/i.test(color)) span.style.color = color;
  const lanes = 8;
  if (position === 'top' || position === 'bottom') {
    // Fixed danmaku: centred on the top or bottom lane for a few seconds.
    span.classList.add('fixed');
    span.dataset.position = position;
    span.style.top = position === 'top' ? '2%' : '88%';
  } else span.style.top = `${(Math.floor(Math.random() * lanes) / lanes) * 85}%`;
  overlay.append(span);
  span.addEventListener('animationend', () => span.remove());
  setTimeout(() => span.remove(), 12_000);
}

function canPost(yes) {
  const logged = Boolean(currentUser());
  $('chat-form').hidden = !yes;
  $('chat-readonly').hidden = yes;
  $('chat-readonly').textContent = logged ? t('chat.cannotPost') : t('chat.loginToPost');
}

function chatState(text) {
  $('chat-state').textContent = text;
}

function showError(m) {
  const codes = { rate_limited: 'chat.err.rate', muted: 'chat.err.muted', slow_mode: 'chat.err.slow', message_too_long: 'chat.err.long', message_refused: 'chat.err.refused', login_required: 'chat.loginToPost' };
  const secs = m.retry_after_ms ? Math.ceil(m.retry_after_ms / 1000) : 0;
  const text = codes[m.code] ? t(codes[m.code], { s: secs }) : t('common.error', { error: m.message ?? m.code });
  const el = $('chat-error');
  el.textContent = text;
  el.dataset.code = m.code ?? '';
  el.hidden = false;
}

function send(text) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  // Every chat line also crosses the video for those with the overlay on: one kind of post.
  // A colour or position picked next to the input goes with it (white scrolling is the default: sent as nothing).
  const color = $('chat-color')?.value;
  const position = $('chat-position')?.value;
  ws.send(JSON.stringify({
    v: 1, type: 'chat', text, client_id: `c${++clientSeq}`,
    ...(color && /^#[0-9a-f]{6}$/i.test(color) && color.toLowerCase() !== '#ffffff' ? { color } : {}),
    ...(position === 'top' || position === 'bottom' ? { position } : {}),
  }));
  return true;
}

export function initChatUi() {
  const toggle = $('danmaku-toggle');
  toggle.checked = localStorage.getItem(DANMAKU_KEY) !== 'off';
  $('danmaku').hidden = !toggle.checked;
  toggle.addEventListener('change', () => {
    localStorage.setItem(DANMAKU_KEY, toggle.checked ? 'on' : 'off');
    $('danmaku').hidden = !toggle.checked;
    if (!toggle.checked) $('danmaku').replaceChildren();
  });
  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('chat-input');
    const text = input.value.trim();
    if (!text) return;
    $('chat-error').hidden = true;
    if (send(text)) input.value = '';
  });
}
