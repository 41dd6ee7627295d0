// The operator console (/admin, ser-blive): overview from the metrics, the supervision wall of live
// rooms (fresh frames every few seconds, force close from the wall), rooms, users, the room rules
// (直播间公约) and the bans waiting for confirmation. One panel at a time, chosen by the URL's #tab.
import { api, currentUser, h, label, loadFailed, loading, startPage, t } from '/app.js';

startPage();
const REFRESH_MS = 3000;
const panel = document.getElementById('panel');
const errorBox = document.getElementById('admin-error');
let timer = null;
const fail = (err) => (errorBox.textContent = t('common.error', { error: err.message }));
const action = (fn) => async (...args) => {
  try {
    errorBox.textContent = '';
    await fn(...args);
  } catch (err) {
    fail(err);
  }
};

const kbps = (v) => (v === null || v === undefined ? '—' : v >= 1000 ? `${(v / 1000).toFixed(1)} Mbit/s` : `${v} kbit/s`);
const mib = (v) => (v === null || v === undefined ? '—' : `${Math.round(v / 1048576)} MiB`);

const ACTIONS = ['dismiss', 'warn', 'pause', 'ban'];

/**
 * Force close (POST /admin/live/close) once the operator has confirmed with a reason, from the
 * supervision wall and from the rooms list alike; false when the operator cancelled.
 */
async function forceClose(roomId) {
  const reason = prompt(t('admin.closeConfirm', { id: roomId }), t('admin.forceClose'));
  if (!reason) return false;
  await api('/admin/live/close', { method: 'POST', body: { room_id: roomId, reason } });
  return true;
}
/** The audits panel's filter and page, so an action can redraw it as it was. */
let auditsState = { severity: '', page: 1 };
/** Latest operator action per item (`source:id`), from GET /admin/moderation/actions. */
let handled = new Map();

/**
 * Dismiss / Warn / Pause / Ban on one item of the audit view (POST /admin/moderation/actions):
 * source 'audit', 'report' or 'room_log'. Warn, pause and ban ask for a reason, pause also for the
 * minutes; dismiss asks nothing. The panel is redrawn and says what was recorded.
 */
function actionButtons(source, id) {
  const run = (act) => action(async () => {
    let reason = 'dismissed by an operator';
    const body = { action: act, source, source_id: String(id) };
    if (act !== 'dismiss') {
      reason = prompt(t('admin.reason'), '');
      if (!reason || !reason.trim()) return;
    }
    if (act === 'pause') {
      const minutes = Number(prompt(t('admin.act.minutes'), '30'));
      if (!Number.isInteger(minutes) || minutes < 1) return;
      body.minutes = minutes;
    }
    const done = await api('/admin/moderation/actions', { method: 'POST', body: { ...body, reason: reason.trim() } });
    await panels.audits(auditsState);
    document.getElementById('actions-msg').textContent = t('admin.act.done', { action: t(`admin.act.${act}`), room: done.room_id ?? '—' });
  });
  const last = handled.get(`${source}:${id}`);
  return [
    last ? h('span', { class: 'status handled' }, t('admin.act.handled', { action: t(`admin.act.${last}`) })) : null,
    ...ACTIONS.map((act) => h('button', { type: 'button', class: `act-${act}${act === 'dismiss' ? ' dismiss' : ''}${act === 'pause' || act === 'ban' ? ' danger' : ''}`, onclick: run(act) }, t(`admin.act.${act}`))),
  ];
}

/** What operators did (GET /admin/moderation/actions), newest first; fills `handled` for the buttons. */
async function loadActions() {
  const { actions } = await api('/admin/moderation/actions?page_size=100');
  handled = new Map();
  for (const a of actions) if (!handled.has(`${a.source}:${a.source_id}`)) handled.set(`${a.source}:${a.source_id}`, a.action);
  return actions;
}

function actionsBox(actions) {
  const box = document.getElementById('actions-box');
  box.replaceChildren(actions.length === 0 ? h('p', {}, t('admin.noActions')) : h('table', { class: 'list', id: 'actions-table' }, h('tbody', {}, actions.map((a) => h('tr', { dataset: { action: a.action, source: a.source, sourceId: a.source_id } },
    h('td', {}, a.created_at.replace('T', ' ').slice(0, 19)),
    h('td', {}, a.room_id ? h('a', { href: `/watch/${a.room_id}`, target: '_blank', rel: 'noopener' }, `#${a.room_id}`) : ''),
    h('td', {}, `#${a.operator_id}`), h('td', {}, t(`admin.act.${a.action}`)), h('td', {}, `${a.source} #${a.source_id}`),
    h('td', {}, a.until ? `→ ${new Date(a.until).toLocaleString()}` : ''), h('td', {}, a.reason))))));
}

/** Viewer reports (GET /admin/chat/reports): open ones, each with dismiss / warn / pause / ban (any of them closes it). */
async function reportsBox() {
  const box = document.getElementById('reports-box');
  const { reports } = await api('/admin/chat/reports?status=open&limit=100');
  // A report of a chat line quotes it (`message`: text, author, hidden once deleted).
  const quoted = (r) => {
    if (!r.message_id) return '';
    const m = r.message;
    return m ? h('q', { class: 'reported-text', title: r.message_id }, `${m.username ?? `#${m.user_id}`}: ${m.text}`) : r.message_id;
  };
  box.replaceChildren(reports.length === 0 ? h('p', {}, t('admin.noReports')) : h('table', { class: 'list', id: 'reports-table' }, h('tbody', {}, reports.map((r) => h('tr', { dataset: { reportId: r.id } },
    h('td', {}, r.at.replace('T', ' ').slice(0, 19)),
    h('td', {}, h('a', { href: `/watch/${r.room_id}`, target: '_blank', rel: 'noopener' }, `#${r.room_id}`)),
    h('td', {}, `#${r.reporter_id}`), h('td', {}, r.reason), h('td', { class: 'reported' }, quoted(r)),
    h('td', { class: 'actions' }, actionButtons('report', r.id)))))));
}

/** Anchors' and room admins' moderation actions (GET /admin/chat/moderation-log), newest first. */
async function modLogBox() {
  const box = document.getElementById('modlog-box');
  const { entries } = await api('/admin/chat/moderation-log?limit=50');
  box.replaceChildren(entries.length === 0 ? h('p', {}, t('admin.noModLog')) : h('table', { class: 'list', id: 'modlog-table' }, h('tbody', {}, entries.map((e) => h('tr', { dataset: { action: e.action } },
    h('td', {}, e.at.replace('T', ' ').slice(0, 19)),
    h('td', {}, h('a', { href: `/watch/${e.room_id}`, target: '_blank', rel: 'noopener' }, `#${e.room_id}`)),
    h('td', {}, `#${e.actor_id}`), h('td', {}, label('admin.log', e.action)), h('td', {}, e.target_user_id ? `#${e.target_user_id}` : ''),
    h('td', {}, typeof e.detail === 'string' ? e.detail : e.detail ? JSON.stringify(e.detail) : ''),
    h('td', { class: 'actions' }, actionButtons('room_log', e.id)))))));
}

const panels = {
  async overview() {
    const o = await api('/admin/overview');
    // A refresh that was under way when the operator chose another tab must not draw over it.
    if (panel.dataset.tab !== 'overview') return;
    const figure = (label, value, id) => h('div', { class: 'figure', id }, h('span', { class: 'status' }, label), h('strong', {}, String(value ?? '—')));
    panel.replaceChildren(h('div', { class: 'figures' },
      figure(t('admin.streams'), o.streams, 'fig-streams'),
      figure(t('admin.viewers'), o.viewers, 'fig-viewers'),
      figure(t('admin.ingest'), kbps(o.ingest_kbps), 'fig-ingest'),
      figure(t('admin.egress'), kbps(o.egress_kbps), 'fig-egress'),
      figure(t('admin.cpu'), o.cpu_percent === null ? '—' : `${o.cpu_percent} %`, 'fig-cpu'),
      figure(t('admin.memory'), mib(o.memory_rss_bytes), 'fig-memory'),
      figure(t('admin.backlog'), o.callback_backlog, 'fig-backlog'),
      h('div', { class: 'figure', id: 'fig-dead' }, h('span', { class: 'status' }, t('admin.dead')), h('strong', {}, String(o.dead_letters ?? '—')),
        o.dead_letters ? h('button', { type: 'button', onclick: action(async () => {
          await api('/admin/callbacks/dead/all/replay', { method: 'POST' });
          await panels.overview();
        }) }, t('admin.replay')) : null),
    ));
  },

  async wall() {
    const { rooms } = await api('/admin/wall');
    if (panel.dataset.tab !== 'wall') return;
    // Tiles are kept and updated in place: a fresh frame replaces the old one once it has loaded,
    // so the wall never flickers, and a room that went offline leaves it.
    let grid = panel.querySelector('.wall');
    if (!grid) {
      grid = h('div', { class: 'wall' });
      panel.replaceChildren(grid, h('p', { id: 'wall-empty', hidden: true }, t('admin.wallEmpty')));
    }
    panel.querySelector('#wall-empty').hidden = rooms.length > 0;
    const live = new Set(rooms.map((r) => r.room_id));
    for (const tile of grid.querySelectorAll('article.tile')) if (!live.has(tile.dataset.roomId)) tile.remove();
    for (const r of rooms) {
      const tile = grid.querySelector(`article.tile[data-room-id="${CSS.escape(r.room_id)}"]`) ?? grid.appendChild(wallTile(r));
      const i = r.ingest;
      tile.querySelector('.who').textContent = `${r.owner.username ?? r.owner.id} · ${t('watch.watching', { n: r.viewers })}`;
      const chat = r.chat_per_min === null || r.chat_per_min === undefined ? null : t('admin.chatRate', { n: r.chat_per_min });
      tile.querySelector('.figures-line').textContent = [i ? `${kbps(i.bitrate_kbps)} · ${i.fps} fps · ${i.width}×${i.height}` : '—', chat].filter(Boolean).join(' · ');
      const img = tile.querySelector('img.frame');
      if (r.frame_url) {
        const next = new Image();
        next.onload = () => (img.src = next.src);
        next.src = `${r.frame_url}${r.frame_url.includes('?') ? '&' : '?'}t=${Date.now()}`;
      }
    }
  },

  async rooms(state = { filter: 'all', q: '', anchor: '', page: 1 }) {
    const params = new URLSearchParams({ filter: state.filter, page: String(state.page), page_size: '20' });
    if (state.q) params.set('q', state.q);
    if (state.anchor) params.set('anchor_id', state.anchor);
    const list = await api(`/admin/rooms?${params}`);
    if (panel.dataset.tab !== 'rooms') return; // another tab was chosen while this one loaded
    const pages = Math.max(1, Math.ceil(list.total / list.page_size));
    const again = (patch) => action(() => panels.rooms({ ...state, ...patch }));
    const filter = h('select', { id: 'rooms-filter', 'aria-label': t('admin.filterLabel'), onchange: (e) => again({ filter: e.target.value, page: 1 })() },
      ['all', 'live', 'pinned', 'banned'].map((f) => h('option', { value: f, selected: f === state.filter }, t(`admin.filter.${f}`))));
    const q = h('input', { type: 'search', id: 'rooms-q', value: state.q, placeholder: t('admin.search'), 'aria-label': t('admin.searchRooms') });
    const anchor = h('input', { id: 'rooms-anchor', value: state.anchor, placeholder: t('admin.anchor'), 'aria-label': t('admin.anchor'), inputmode: 'numeric' });
    const msg = h('p', { class: 'status', id: 'rooms-msg', role: 'status' });
    const detail = h('div', { id: 'room-detail' });
    panel.replaceChildren(
      h('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); again({ q: q.value.trim(), anchor: anchor.value.trim(), page: 1 })(); } },
        filter, q, anchor, h('button', { type: 'submit' }, t('admin.search'))),
      msg,
      h('table', { class: 'list', id: 'rooms-table' },
        h('tbody', {}, list.rooms.map((r) => h('tr', { dataset: { roomId: r.id } },
          h('td', {}, `#${r.id}`),
          h('td', {}, r.title, r.pinned_at ? h('span', { class: 'pin' }, ` ${t('home.pinned')}`) : null),
          h('td', {}, r.owner.username ?? r.owner.id),
          h('td', {}, r.is_live ? h('span', { class: 'live' }, t('watch.live')) : '',
            r.stream_key_revoked || r.owner_banned ? h('span', { class: 'offline' }, t('admin.banned')) : ''),
          h('td', { class: 'actions' },
            h('button', { type: 'button', onclick: action(() => showRoom(r.id, detail)) }, t('admin.detail')),
            h('button', { type: 'button', class: 'pin-toggle', onclick: action(async () => {
              await api(`/admin/rooms/${r.id}/pin`, r.pinned_at ? { method: 'DELETE' } : { method: 'POST', body: {} });
              await panels.rooms(state);
            }) }, r.pinned_at ? t('admin.unpin') : t('admin.pin')),
            r.stream_key_revoked ? h('button', { type: 'button', onclick: action(async () => {
              await api(`/admin/rooms/${r.id}/restore`, { method: 'POST' });
              await panels.rooms(state);
            }) }, t('admin.restore')) : null,
            r.is_live ? h('button', { type: 'button', class: 'danger force-close', onclick: action(async () => {
              if (!(await forceClose(r.id))) return;
              await panels.rooms(state);
              document.getElementById('rooms-msg').textContent = t('admin.closed', { id: r.id });
            }) }, t('admin.forceClose')) : null,
          ),
        )))),
      h('div', { class: 'row' },
        h('button', { type: 'button', disabled: state.page <= 1, onclick: again({ page: state.page - 1 }) }, t('admin.prev')),
        h('span', { class: 'status' }, t('admin.page', { page: state.page, pages, total: list.total })),
        h('button', { type: 'button', disabled: state.page >= pages, onclick: again({ page: state.page + 1 }) }, t('admin.next'))),
      detail,
    );
  },

  async users(state = { q: '', page: 1 }) {
    const params = new URLSearchParams({ page: String(state.page), page_size: '20' });
    if (state.q) params.set('q', state.q);
    const list = await api(`/admin/users?${params}`);
    if (panel.dataset.tab !== 'users') return;
    const q = h('input', { type: 'search', id: 'users-q', value: state.q, placeholder: t('admin.search'), 'aria-label': t('admin.searchUsers') });
    panel.replaceChildren(
      h('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); action(() => panels.users({ q: q.value.trim(), page: 1 }))(); } },
        q, h('button', { type: 'submit' }, t('admin.search'))),
      h('table', { class: 'list', id: 'users-table' }, h('tbody', {}, list.users.map((u) => {
        const role = h('select', { class: 'role', 'aria-label': t('admin.roleOf', { name: u.username }) },
          ['viewer', 'anchor', 'operator'].map((r) => h('option', { value: r, selected: r === u.role }, label('admin.role', r))));
        return h('tr', { dataset: { userId: u.id } },
          h('td', {}, `#${u.id}`), h('td', {}, u.username), h('td', {}, String(u.rooms)),
          h('td', {}, role, h('button', { type: 'button', onclick: action(async () => {
            await api(`/admin/users/${u.id}/role`, { method: 'PUT', body: { role: role.value } });
            await panels.users(state);
          }) }, t('admin.save'))),
          h('td', {}, u.publish_banned
            ? h('button', { type: 'button', onclick: action(async () => {
              await api(`/admin/users/${u.id}/publish-ban`, { method: 'DELETE' });
              await panels.users(state);
            }) }, t('admin.unban'))
            : h('button', { type: 'button', class: 'danger', onclick: action(async () => {
              const reason = prompt(t('admin.reason'));
              if (!reason) return;
              await api(`/admin/users/${u.id}/publish-ban`, { method: 'POST', body: { reason } });
              await panels.users(state);
            }) }, t('admin.ban'))),
          h('td', {}, h('button', { type: 'button', class: 'adjust', onclick: action(async () => {
            const amount = Number(prompt(t('admin.adjustAmount', { name: u.username })));
            if (!Number.isInteger(amount) || amount === 0) return;
            const reason = prompt(t('admin.reason'));
            if (!reason) return;
            const res = await api(`/admin/wallets/${u.id}/adjust`, { method: 'POST', body: { amount, reason } });
            errorBox.textContent = '';
            document.getElementById('users-msg').textContent = t('admin.adjusted', { name: u.username, balance: res.balance });
          }) }, t('admin.adjust'))),
        );
      }))),
      h('p', { class: 'status', id: 'users-msg', role: 'status' }),
    );
  },

  async conventions() {
    const current = await api('/conventions');
    if (panel.dataset.tab !== 'conventions') return;
    const area = h('textarea', { id: 'conventions-text', rows: 12, 'aria-label': t('admin.conventionsText') });
    area.value = current.body ?? '';
    const saved = h('span', { class: 'status', id: 'conventions-saved' });
    panel.replaceChildren(h('form', { class: 'card', onsubmit: action(async (e) => {
      e.preventDefault();
      await api('/admin/conventions', { method: 'PUT', body: { body: area.value } });
      saved.textContent = t('admin.saved');
    }) }, area, h('div', { class: 'row' }, h('button', { type: 'submit', id: 'conventions-save' }, t('admin.save')), saved)));
  },

  async audits(state = auditsState) {
    auditsState = state;
    const params = new URLSearchParams({ page: String(state.page), page_size: '50' });
    if (state.severity) params.set('severity', state.severity);
    const [list, actions] = await Promise.all([api(`/admin/audits?${params}`), loadActions()]);
    if (panel.dataset.tab !== 'audits') return;
    const pages = Math.max(1, Math.ceil(list.total / list.page_size));
    const again = (patch) => action(() => panels.audits({ ...state, ...patch }));
    const severity = h('select', { id: 'audits-severity', 'aria-label': t('admin.severity'), onchange: (e) => again({ severity: e.target.value, page: 1 })() },
      ['', 'light', 'severe'].map((v) => h('option', { value: v, selected: v === state.severity }, v ? label('admin.severity', v) : t('admin.filter.all'))));
    panel.replaceChildren(
      h('div', { class: 'row' }, severity),
      h('p', { class: 'status', id: 'actions-msg', role: 'status' }),
      list.audits.length === 0 ? h('p', {}, t('admin.noAudits')) : h('table', { class: 'list', id: 'audits-table' }, h('tbody', {}, list.audits.map((a) => h('tr', { dataset: { auditId: a.id } },
        h('td', {}, a.created_at.replace('T', ' ').slice(0, 19)),
        h('td', {}, a.room_id ? h('a', { href: `/watch/${a.room_id}`, target: '_blank', rel: 'noopener' }, `#${a.room_id}`) : ''),
        h('td', {}, `${a.kind} ${a.label ?? ''} ${a.score ?? ''}`),
        h('td', {}, h('span', { class: a.severity === 'severe' ? 'live' : 'offline' }, label('admin.severity', a.severity))), h('td', {}, a.action),
        h('td', {}, a.evidence_url ? h('a', { href: a.evidence_url, target: '_blank', rel: 'noopener noreferrer' }, t('admin.evidence')) : ''),
        h('td', { class: 'actions' }, a.anchor_id ? actionButtons('audit', a.id) : null),
      )))),
      h('div', { class: 'row' },
        h('button', { type: 'button', disabled: state.page <= 1, onclick: again({ page: state.page - 1 }) }, t('admin.prev')),
        h('span', { class: 'status' }, t('admin.page', { page: state.page, pages, total: list.total })),
        h('button', { type: 'button', disabled: state.page >= pages, onclick: again({ page: state.page + 1 }) }, t('admin.next'))),
      h('h3', {}, t('admin.reports')), h('div', { id: 'reports-box' }),
      h('h3', {}, t('admin.modLog')), h('div', { id: 'modlog-box' }),
      h('h3', {}, t('admin.actions')), h('div', { id: 'actions-box' }),
    );
    actionsBox(actions);
    await Promise.all([reportsBox(), modLogBox()]);
  },

  /** The gift catalog (GET/POST/PATCH /admin/gifts): the room page's gift bar shows the enabled ones. */
  async gifts() {
    const { gifts } = await api('/admin/gifts');
    if (panel.dataset.tab !== 'gifts') return;
    const msg = h('p', { class: 'status', id: 'gifts-msg', role: 'status' });
    const name = h('input', { id: 'gift-name', required: true, maxlength: 64 });
    const price = h('input', { id: 'gift-price', type: 'number', min: 1, max: 1000000, value: 10, required: true });
    const icon = h('input', { id: 'gift-icon', placeholder: '/icons/rose.png' });
    panel.replaceChildren(
      h('form', { class: 'row card', id: 'gift-form', onsubmit: action(async (e) => {
        e.preventDefault();
        const body = { name: name.value.trim(), price: Number(price.value) };
        if (icon.value.trim()) body.icon_url = icon.value.trim();
        const gift = await api('/admin/gifts', { method: 'POST', body });
        await panels.gifts();
        document.getElementById('gifts-msg').textContent = t('admin.gifts.added', { name: gift.name });
      }) },
      h('label', {}, t('admin.gifts.name'), name), h('label', {}, t('admin.gifts.price'), price), h('label', {}, t('admin.gifts.icon'), icon),
      h('button', { type: 'submit', id: 'gift-add' }, t('admin.gifts.add'))),
      msg,
      gifts.length === 0 ? h('p', {}, t('admin.gifts.none')) : h('table', { class: 'list', id: 'gifts-table' },
        h('thead', {}, h('tr', {}, ...['id', 'name', 'price', 'state', ''].map((k) => h('th', {}, k ? t(`admin.gifts.col.${k}`) : '')))),
        h('tbody', {}, gifts.map((g) => h('tr', { dataset: { giftId: g.id, enabled: String(g.enabled) } },
          h('td', {}, `#${g.id}`), h('td', { class: 'gift-name' }, g.name), h('td', {}, t('gifts.price', { price: g.price })),
          h('td', {}, g.enabled ? t('admin.gifts.on') : h('span', { class: 'offline' }, t('admin.gifts.off'))),
          h('td', { class: 'actions' }, h('button', { type: 'button', class: g.enabled ? 'gift-toggle danger' : 'gift-toggle', onclick: action(async () => {
            await api(`/admin/gifts/${g.id}`, { method: 'PATCH', body: { enabled: !g.enabled } });
            await panels.gifts();
          }) }, g.enabled ? t('admin.gifts.disable') : t('admin.gifts.enable'))))))),
    );
  },

  async pending() {
    const { pending_bans: list } = await api('/admin/moderation/pending-bans');
    if (panel.dataset.tab !== 'pending') return;
    if (!list.length) return void panel.replaceChildren(h('p', {}, t('admin.noPending')));
    panel.replaceChildren(h('table', { class: 'list' }, h('tbody', {}, list.map((p) => h('tr', {},
      h('td', {}, `#${p.id}`), h('td', {}, t('admin.pendingUser', { id: p.user_id })), h('td', {}, p.room_id ? t('admin.pendingRoom', { id: p.room_id }) : ''), h('td', {}, p.reason),
      h('td', {}, p.evidence_url ? h('a', { href: p.evidence_url, target: '_blank', rel: 'noopener noreferrer' }, t('admin.evidence')) : ''),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'danger', onclick: action(async () => {
          await api(`/admin/moderation/pending-bans/${p.id}/confirm`, { method: 'POST' });
          await panels.pending();
        }) }, t('admin.confirm')),
        h('button', { type: 'button', onclick: action(async () => {
          await api(`/admin/moderation/pending-bans/${p.id}/dismiss`, { method: 'POST' });
          await panels.pending();
        }) }, t('admin.dismiss'))),
    )))));
  },
};

function wallTile(r) {
  return h('article', { class: 'tile', dataset: { roomId: r.room_id } },
    h('a', { href: `/watch/${r.room_id}`, target: '_blank', rel: 'noopener' }, h('img', { class: 'frame', alt: r.title })),
    h('strong', {}, `#${r.room_id} ${r.title}`),
    h('div', { class: 'status who' }),
    h('div', { class: 'status figures-line' }),
    h('div', { class: 'row' },
      h('a', { href: `/watch/${r.room_id}`, target: '_blank', rel: 'noopener' }, t('admin.watch')),
      h('button', { type: 'button', class: 'danger force-close', onclick: action(async () => {
        if (await forceClose(r.room_id)) await panels.wall();
      }) }, t('admin.forceClose')),
    ),
  );
}

/**
 * Warn / Pause on the room itself (POST /admin/moderation/actions, source 'room'): warn asks for the
 * text, pause for the minutes and a reason; the panel is redrawn (its moderation history with it) and
 * says what was recorded.
 */
function roomActions(id, box) {
  const run = (act) => action(async () => {
    const reason = prompt(t(act === 'warn' ? 'admin.room.warnText' : 'admin.reason'), '');
    if (!reason || !reason.trim()) return;
    const body = { action: act, source: 'room', source_id: String(id), reason: reason.trim() };
    if (act === 'pause') {
      const minutes = Number(prompt(t('admin.act.minutes'), '30'));
      if (!Number.isInteger(minutes) || minutes < 1) return;
      body.minutes = minutes;
    }
    const done = await api('/admin/moderation/actions', { method: 'POST', body });
    await showRoom(id, box);
    box.querySelector('.room-msg').textContent = t('admin.act.done', { action: t(`admin.act.${act}`), room: done.room_id ?? id });
  });
  return h('div', { class: 'row room-actions' },
    h('button', { type: 'button', class: 'act-warn', onclick: run('warn') }, t('admin.act.warn')),
    h('button', { type: 'button', class: 'act-pause danger', onclick: run('pause') }, t('admin.act.pause')),
    h('span', { class: 'status room-msg', role: 'status' }));
}

async function showRoom(id, box) {
  const d = await api(`/admin/rooms/${id}`);
  box.replaceChildren(h('section', { class: 'card' },
    h('h3', {}, `#${d.id} ${d.title}`),
    h('p', { class: 'status' }, `${d.owner.username ?? d.owner.id} · ${d.status} · ${t('watch.watching', { n: d.viewers })}`),
    roomActions(d.id, box),
    h('h4', {}, t('admin.sessions')),
    h('table', { class: 'list' }, h('tbody', {}, d.sessions.map((s) => h('tr', {},
      h('td', {}, s.session_id), h('td', {}, s.status), h('td', {}, s.start_at ?? ''), h('td', {}, s.duration_s === null ? '' : `${s.duration_s} s`),
      h('td', {}, t('admin.sessionPeak', { n: s.peak_viewers })), h('td', {}, t('admin.sessionUnique', { n: s.unique_viewers })), h('td', {}, t('admin.sessionWatch', { s: s.watch_s })), h('td', {}, s.close_reason ?? ''))))),
    h('h4', {}, t('admin.moderation')),
    h('ul', { class: 'room-history' }, d.moderation.map((m) => h('li', {}, `${m.at ?? ''} ${label('admin.hist', m.kind)}: ${m.reason ?? ''}`))),
  ));
}

function show() {
  clearInterval(timer);
  const tab = location.hash.slice(1) in panels ? location.hash.slice(1) : 'overview';
  for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.getAttribute('href') === `#${tab}`);
  panel.dataset.tab = tab;
  loading(panel);
  load(tab);
  // The overview and the wall are live: frames and figures refresh by themselves.
  if (tab === 'wall' || tab === 'overview') timer = setInterval(action(() => panels[tab]()), REFRESH_MS);
}

/**
 * The tab's first drawing: until it comes the panel says it is loading; when the request fails, the
 * panel says so with a Retry (unless another tab was chosen meanwhile).
 */
async function load(tab) {
  errorBox.textContent = '';
  try {
    await panels[tab]();
  } catch (err) {
    if (panel.dataset.tab === tab) loadFailed(panel, err, () => {
      loading(panel);
      load(tab);
    });
  }
}

const user = currentUser();
if (user?.role !== 'operator') {
  errorBox.replaceChildren(t('admin.needOperator'), ' ', h('a', { href: '/login?next=/admin' }, t('nav.login')));
} else {
  document.getElementById('tabs').hidden = false;
  window.addEventListener('hashchange', show);
  show();
}
