// The room page's follow and share buttons, the gift ranking of the current show, and the exit
// call when the viewer leaves (POST /rooms/{id}/exit: the watch time of the personal center's
// history). Follow state comes from the viewer's own following list (the room answer has none).
import { api, currentUser, copyText, h, t } from '/app.js';

const $ = (id) => document.getElementById(id);
let roomId = null;
let ownerId = null;
let following = false;
let entered = false;
let rankingTimer = null;

export function initSocial(id) {
  roomId = id;
  $('follow').addEventListener('click', toggleFollow);
  $('share').addEventListener('click', share);
  // pagehide fires on close, navigation and bfcache; fetch keepalive outlives the page and, unlike
  // sendBeacon, carries the Authorization header /exit needs.
  addEventListener('pagehide', exit);
}

/** Called with each room answer: shows the follow button for others' rooms. */
export async function setRoom(room) {
  const user = currentUser();
  const owner = room.owner?.id ? String(room.owner.id) : null;
  if (owner === ownerId) return;
  ownerId = owner;
  const btn = $('follow');
  btn.hidden = !owner || (user && String(user.id) === owner);
  if (!user || btn.hidden) return renderFollow();
  try {
    const mine = await api('/me/following?limit=100');
    following = (mine.following ?? []).some((f) => String(f.user_id) === owner);
  } catch {
    following = false;
  }
  renderFollow();
}

function renderFollow() {
  const btn = $('follow');
  btn.textContent = following ? t('room.following') : t('room.follow');
  btn.classList.toggle('active', following);
  btn.dataset.following = following ? '1' : '0';
}

async function toggleFollow() {
  if (!currentUser()) return note(t('room.loginToFollow'), true);
  try {
    const res = await api(`/rooms/${encodeURIComponent(roomId)}/follow`, { method: following ? 'DELETE' : 'POST' });
    following = Boolean(res.following);
    renderFollow();
    note(following ? t('room.followed') : '', false);
  } catch (err) {
    note(t('common.error', { error: err.message }), true);
  }
}

async function share() {
  let url = location.href.split('#')[0];
  if (currentUser()) {
    // Counted by the API; its share_url may name the configured public host.
    try {
      const res = await api(`/rooms/${encodeURIComponent(roomId)}/share`, { method: 'POST' });
      if (res.share_url) url = res.share_url;
    } catch {
      // not live or not counted: the page's own address still works
    }
  }
  const ok = await copyText(url);
  note(ok ? t('room.shareCopied', { url }) : url, !ok);
}

function note(text, isError) {
  const el = $('social-msg');
  el.textContent = text;
  el.className = isError ? 'error' : 'status';
}

/** The viewer entered through POST /enter (logged in): leaving is worth an /exit. */
export function markEntered() {
  entered = Boolean(currentUser());
}

function exit() {
  if (!entered) return;
  entered = false;
  const token = localStorage.getItem('onair.token');
  if (!token) return;
  fetch(`/api/v1/rooms/${encodeURIComponent(roomId)}/exit`, {
    method: 'POST', keepalive: true, headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  }).catch(() => {});
}

/** The show's top senders, refreshed every 10 s while live (and once more when it ends). */
export function setRankingLive(live) {
  if (live && !rankingTimer) {
    loadRanking();
    rankingTimer = setInterval(loadRanking, 10_000);
  } else if (!live && rankingTimer) {
    clearInterval(rankingTimer);
    rankingTimer = null;
    loadRanking();
  }
}

export async function loadRanking() {
  let res;
  try {
    res = await api(`/rooms/${encodeURIComponent(roomId)}/gift-ranking?limit=10`);
  } catch {
    return;
  }
  const list = res.ranking ?? [];
  $('ranking').hidden = list.length === 0;
  $('ranking-list').replaceChildren(...list.map((e) => h('li', { 'data-user-id': e.user_id },
    h('span', { class: 'rank' }, `#${e.rank}`), ` ${e.username ?? e.user_id} `, h('span', { class: 'status' }, t('room.rankAmount', { n: e.amount })))));
}
