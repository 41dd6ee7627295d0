// The studio's per-room chat with moderation (control/chat's HTTP API: the same history the chat
// socket resumes from, polled every 2 s): hide a message, mute 10 min, kick, make or remove room
// admins, slow mode. And the after-show summary: each finished show's duration, viewers and gift
// income (GET /live/sessions/{id} statistics, /me/income?group=session).
import { api, h, t } from '/app.js';

const POLL_MS = 2000;
const KEEP = 200;

/** The moderation panel of one room; `el` goes into the room's card. */
export function chatPanel(roomId) {
  let after = null;
  let timer = null;
  const rows = new Map();
  const list = h('ul', { class: 'chat-list studio-chat', id: `studio-chat-${roomId}` });
  const msg = h('p', { class: 'status', role: 'status' });
  const admins = h('ul', { class: 'people', id: `admins-${roomId}` });
  const slow = h('input', { type: 'number', min: 0, max: 3600, value: 0, class: 'slow-seconds', 'aria-label': t('studio.slow') });
  const say = (text, isError = false) => {
    msg.textContent = text;
    msg.className = isError ? 'error' : 'status';
  };
  const act = (fn, done) => async () => {
    try {
      await fn();
      say(done);
    } catch (err) {
      say(t('common.error', { error: err.message }), true);
    }
  };
  const base = `/rooms/${encodeURIComponent(roomId)}`;

  async function loadAdmins() {
    try {
      const res = await api(`${base}/admins`);
      const items = res.admins ?? [];
      admins.replaceChildren(...items.map((a) => {
        const id = String(a.user_id ?? a.id ?? a);
        return h('li', { 'data-user-id': id }, a.username ?? a.name ?? `#${id}`, ' ',
          h('button', { type: 'button', class: 'link', onclick: act(async () => {
            await api(`${base}/admins/${id}`, { method: 'DELETE' });
            await loadAdmins();
          }, t('studio.adminRemoved')) }, t('studio.removeAdmin')));
      }));
    } catch {
      admins.replaceChildren();
    }
  }

  function row(m) {
    const uid = String(m.user?.id ?? '');
    const text = h('span', { class: 'text' }, m.text);
    const li = h('li', { 'data-message-id': m.id, 'data-user-id': uid },
      h('strong', {}, `${m.user?.name ?? uid}: `), text,
      h('span', { class: 'mod' },
        h('button', { type: 'button', class: 'link hide-msg', onclick: act(() => api(`${base}/messages/${encodeURIComponent(m.id)}`, { method: 'DELETE' }), t('studio.hidden')) }, t('studio.hide')), ' ',
        h('button', { type: 'button', class: 'link mute', onclick: act(() => api(`${base}/mute`, { method: 'POST', body: { user_id: uid, duration: '10m' } }), t('studio.muted', { name: m.user?.name ?? uid })) }, t('studio.mute')), ' ',
        h('button', { type: 'button', class: 'link kick', onclick: act(() => api(`${base}/kick`, { method: 'POST', body: { user_id: uid, duration: '1h' } }), t('studio.kicked', { name: m.user?.name ?? uid })) }, t('studio.kick')), ' ',
        h('button', { type: 'button', class: 'link make-admin', onclick: act(async () => {
          await api(`${base}/admins`, { method: 'POST', body: { user_id: uid } });
          await loadAdmins();
        }, t('studio.adminAdded', { name: m.user?.name ?? uid })) }, t('studio.makeAdmin'))));
    return li;
  }

  async function poll() {
    let res;
    try {
      res = await api(`${base}/chat?limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    } catch {
      return;
    }
    for (const m of res.messages ?? []) {
      after = m.id ?? after;
      if ((m.type === 'chat' || m.type === 'danmaku') && m.id && !rows.has(m.id)) {
        const li = row(m);
        rows.set(m.id, li);
        list.append(li);
      } else if (m.type === 'message_deleted') {
        rows.get(m.message_id)?.classList.add('hidden-msg');
      }
    }
    while (rows.size > KEEP) {
      const [id, li] = rows.entries().next().value;
      li.remove();
      rows.delete(id);
    }
    list.scrollTop = list.scrollHeight;
  }

  const el = h('details', { class: 'card moderation', id: `moderation-${roomId}`, ontoggle: (e) => {
    if (e.target.open && !timer) {
      poll();
      loadAdmins();
      timer = setInterval(poll, POLL_MS);
    } else if (!e.target.open && timer) {
      clearInterval(timer);
      timer = null;
    }
  } },
  h('summary', {}, t('studio.chat')),
  list, msg,
  h('div', { class: 'row' }, h('span', {}, t('studio.slow')), slow,
    h('button', { type: 'button', onclick: act(() => api(`${base}/slow-mode`, { method: 'POST', body: { seconds: Number(slow.value) } }), t('admin.saved')) }, t('admin.save'))),
  h('h4', {}, t('studio.admins')), admins);
  return { el };
}

/**
 * The after-show summaries: shows this browser saw live (their session ids, kept per room in
 * localStorage) and shows with gift income, newest first, with GET /live/sessions/{id}'s figures.
 */
export async function showSummaries(box) {
  const ids = new Map();
  for (const [k, v] of Object.entries(localStorage)) {
    if (k.startsWith('onair.studio.session.')) for (const id of JSON.parse(v)) ids.set(id, null);
  }
  try {
    for (const s of (await api('/me/income?group=session&limit=10')).sessions ?? []) ids.set(s.session_id, s);
  } catch {
    // no income API: the seen shows only
  }
  const shows = [];
  for (const id of [...ids.keys()].slice(-20)) {
    try {
      const s = await api(`/live/sessions/${encodeURIComponent(id)}`);
      if (s.status === 'ended') shows.push({ ...s, income: ids.get(id) });
    } catch {
      // gone or not ours
    }
  }
  shows.sort((a, b) => Date.parse(b.end_at ?? 0) - Date.parse(a.end_at ?? 0));
  box.hidden = shows.length === 0;
  box.replaceChildren(h('h3', {}, t('studio.summaries')), h('table', { class: 'list', id: 'summaries' }, h('tbody', {}, ...shows.slice(0, 10).map((s) => {
    const st = s.statistics ?? {};
    return h('tr', { 'data-session-id': s.session_id, 'data-room-id': s.room_id },
      h('td', {}, new Date(s.end_at ?? s.start_at).toLocaleString()),
      h('td', {}, t('studio.sumDuration', { min: Math.max(0, Math.round((st.duration_s ?? s.duration_s ?? 0) / 60)), s: st.duration_s ?? s.duration_s ?? 0 })),
      h('td', {}, t('studio.sumViewers', { peak: st.peak_viewers ?? s.peak_viewers ?? 0, total: st.total_viewers ?? '—' })),
      h('td', { class: 'income' }, t('studio.sumIncome', { income: st.gift_income ?? s.income?.income ?? 0, gifts: st.gift_count ?? s.income?.gifts ?? 0 })));
  }))));
}

/** Remembers a live show's session id for its summary after the show. */
export function rememberSession(roomId, sessionId) {
  const key = `onair.studio.session.${roomId}`;
  const list = JSON.parse(localStorage.getItem(key) ?? '[]');
  if (list.includes(sessionId)) return;
  list.push(sessionId);
  localStorage.setItem(key, JSON.stringify(list.slice(-10)));
}
