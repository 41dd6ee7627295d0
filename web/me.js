// The personal center (/me, seed 000 个人中心): notifications (live over the notification socket,
// polled without it), watch history, following, fans, wallet with recharges (sandbox provider where
// enabled), recharge and gift orders and the ledger. One panel at a time, chosen by the URL's #tab.
import { ApiError, api, currentUser, h, label, loadFailed, loading, startPage, t } from '/app.js';
import { startNotifications } from '/notifications.js';

startPage();
const $ = (id) => document.getElementById(id);
const panel = $('panel');
const errorBox = $('me-error');
const fail = (err) => (errorBox.textContent = t('common.error', { error: err.message }));
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const roomLink = (id, text) => h('a', { href: `/watch/${encodeURIComponent(id)}` }, text ?? t('me.room', { id }));
const empty = (key) => h('p', { class: 'status empty' }, t(key));
let feed = null;
let feedState = { items: [], unread: 0, mode: 'polling' };
let site = null;

/**
 * Rooms named by notifications: a go-live notification carries the anchor's name and the show's
 * title (anchor_name, room_title); older ones carry ids only, so those come from GET /rooms/{id}.
 */
const rooms = new Map();
function roomOf(id) {
  if (!id) return null;
  if (!rooms.has(id)) {
    rooms.set(id, null);
    api(`/rooms/${encodeURIComponent(id)}`).then((r) => {
      rooms.set(id, { anchor: r.owner?.username ?? null, title: r.title ?? null });
      if (current === 'notifications') panels.notifications();
    }).catch(() => undefined);
  }
  return rooms.get(id);
}

function notificationText(n) {
  const p = n.payload ?? {};
  if (n.kind === 'live_started') {
    const named = p.anchor_name != null && p.room_title != null;
    const room = named ? null : roomOf(p.room_id ? String(p.room_id) : null);
    const name = p.anchor_name ?? room?.anchor ?? `#${p.anchor_id ?? '?'}`;
    const title = p.room_title ?? room?.title;
    return title ? t('me.n.liveTitle', { name, title }) : t('me.n.live', { name });
  }
  if (n.kind === 'audit_warning') return t('me.n.audit', { label: p.label ?? '—' });
  if (n.kind === 'moderation_warning') return t('me.n.modWarning', { reason: p.reason ?? '—' });
  return t('me.n.other', { kind: label('me.n.kind', n.kind) }); // a kind this page does not know yet, made readable
}

const panels = {
  notifications() {
    const { items, mode } = feedState;
    panel.replaceChildren(
      h('div', { class: 'row' },
        h('span', { class: 'status', id: 'feed-mode', 'data-mode': mode }, t(mode === 'live' ? 'me.live' : 'me.polling')),
        h('button', { type: 'button', id: 'read-all', disabled: !feedState.unread, onclick: () => feed.markAllRead() }, t('me.readAll'))),
      items.length === 0 ? empty('me.noNotifications') : h('ul', { class: 'feed', id: 'notification-list' }, ...items.map((n) =>
        h('li', { class: n.read_at ? 'read' : 'unread', 'data-notification-id': n.id, 'data-kind': n.kind },
          h('span', {}, notificationText(n)), ' ',
          n.payload?.room_id ? roomLink(n.payload.room_id, t('me.open')) : null, ' ',
          h('span', { class: 'status' }, when(n.created_at)), ' ',
          n.read_at ? null : h('button', { type: 'button', class: 'link mark-read', onclick: () => feed.markRead(n.id) }, t('me.markRead'))))),
    );
  },

  async history() {
    const { items } = await api('/me/watch-history');
    if (current !== 'history') return; // another tab was chosen while this one loaded
    panel.replaceChildren(items.length === 0 ? empty('me.noHistory') : h('table', { class: 'list', id: 'history-table' }, h('tbody', {}, ...items.map((x) =>
      h('tr', { 'data-room-id': x.room_id },
        h('td', {}, roomLink(x.room_id)),
        h('td', {}, when(x.entered_at)),
        h('td', { class: 'watch-time' }, x.watch_s === null || x.watch_s === undefined ? t('me.watching') : t('me.watched', { min: Math.max(1, Math.round(x.watch_s / 60)), s: x.watch_s })))))));
  },

  async following() {
    const res = await api('/me/following?limit=100');
    if (current !== 'following') return;
    panel.replaceChildren(h('p', { class: 'status', id: 'following-total' }, t('me.totalFollowing', { n: res.total })),
      res.following.length === 0 ? empty('me.noFollowing') : h('ul', { class: 'people', id: 'following-list' }, ...res.following.map((f) =>
        h('li', { 'data-user-id': f.user_id },
          h('strong', {}, f.username ?? f.user_id), ' ',
          ...f.rooms.map((r) => h('span', {}, roomLink(r.id), r.is_live ? h('span', { class: 'live-dot' }, ` ${t('watch.live')}`) : '', ' ')),
          h('span', { class: 'status' }, t('me.since', { date: when(f.followed_at) })), ' ',
          ...f.rooms.slice(0, 1).map((r) => h('button', { type: 'button', class: 'link unfollow', onclick: async () => {
            await api(`/rooms/${encodeURIComponent(r.id)}/follow`, { method: 'DELETE' }).catch(fail);
            show('following');
          } }, t('me.unfollow')))))));
  },

  async fans() {
    const res = await api('/me/fans?limit=100');
    if (current !== 'fans') return;
    panel.replaceChildren(h('p', { class: 'status', id: 'fans-total' }, t('me.totalFans', { n: res.total })),
      res.fans.length === 0 ? empty('me.noFans') : h('ul', { class: 'people', id: 'fans-list' }, ...res.fans.map((f) =>
        h('li', { 'data-user-id': f.user_id }, h('strong', {}, f.username ?? f.user_id), ' ', h('span', { class: 'status' }, t('me.since', { date: when(f.followed_at) }))))));
  },

  async wallet() {
    site ??= await api('/site').catch(() => ({}));
    const [wallet, recharges, gifts, ledger] = await Promise.all([
      api('/wallet'), api('/wallet/recharges?limit=20'), api('/me/gift-orders?limit=20').catch(() => ({ orders: [] })), api('/wallet/ledger?limit=20'),
    ]);
    if (current !== 'wallet') return;
    const msg = h('p', { class: 'status', id: 'recharge-msg', role: 'status' });
    const coins = h('input', { id: 'recharge-coins', type: 'number', min: 1, max: 100000, value: 100, required: true });
    const form = site.recharge_enabled ? h('form', { class: 'row', id: 'recharge-form', onsubmit: async (e) => {
      e.preventDefault();
      // One order per click: a second click (or Enter) while the first is under way does nothing.
      const submit = $('recharge-submit');
      if (submit.disabled) return;
      submit.disabled = true;
      msg.className = 'status';
      msg.textContent = '';
      try {
        const order = await api('/wallet/recharges', { method: 'POST', body: { coins: Number(coins.value) } });
        await pay(order);
        await panels.wallet();
        $('recharge-msg').textContent = t('me.recharged', { n: order.coins });
      } catch (err) {
        msg.className = 'error';
        msg.textContent = t('common.error', { error: err.message });
      } finally {
        submit.disabled = false;
      }
    } }, h('label', { class: 'inline' }, t('me.coins'), coins), h('button', { id: 'recharge-submit' }, t('me.recharge')))
      : h('p', { class: 'status' }, t('me.rechargeOff'));
    const table = (id, rows) => h('table', { class: 'list', id }, h('tbody', {}, ...rows));
    panel.replaceChildren(
      h('div', { class: 'figures' }, h('div', { class: 'figure' }, h('span', { class: 'status' }, t('me.balance')), h('strong', { id: 'wallet-balance' }, String(wallet.balance)))),
      form, msg,
      h('h3', {}, t('me.recharges')),
      recharges.orders.length === 0 ? empty('me.none') : table('recharge-table', recharges.orders.map((o) => h('tr', { 'data-order-id': o.id, 'data-status': o.status },
        h('td', {}, when(o.created_at)), h('td', {}, t('me.coinsN', { n: o.coins })), h('td', {}, `${(o.amount / 100).toFixed(2)} ${o.currency}`),
        h('td', { class: 'order-status' }, label('me.status', o.status)),
        h('td', { class: 'actions' }, (o.status === 'created' || o.status === 'pending') && site.recharge_enabled ? h('button', { type: 'button', class: 'link', onclick: async () => {
          await pay(o).catch(fail);
          await panels.wallet();
        } }, t('me.pay')) : '')))),
      h('h3', {}, t('me.giftOrders')),
      gifts.orders.length === 0 ? empty('me.none') : table('gift-table', gifts.orders.map((o) => h('tr', { 'data-order-id': o.id },
        h('td', {}, when(o.created_at)), h('td', {}, roomLink(o.room_id)), h('td', {}, `×${o.count}`), h('td', {}, t('me.coinsN', { n: -o.amount })), h('td', { class: 'order-status' }, label('me.status', o.status))))),
      h('h3', {}, t('me.ledger')),
      ledger.entries.length === 0 ? empty('me.none') : table('ledger-table', ledger.entries.map((e) => h('tr', { 'data-kind': e.kind },
        h('td', {}, when(e.created_at)), h('td', { class: 'ledger-kind' }, label('me.kind', e.kind)), h('td', {}, e.amount > 0 ? `+${e.amount}` : String(e.amount)), h('td', { class: 'status' }, t('me.after', { n: e.balance_after }))))),
    );
  },
};

/**
 * Pays a recharge order at its pay_url. The sandbox provider's checkout is a POST this page makes
 * for the user; a real provider's page would open instead.
 */
async function pay(order) {
  const url = order.pay_url ?? (order.provider_ref ? `/api/v1/payments/sandbox/${order.provider_ref}/pay` : null);
  if (!url) return;
  if (!url.startsWith('/api/v1/payments/sandbox/')) {
    location.href = url;
    return;
  }
  await api(url.slice('/api/v1'.length), { method: 'POST' });
}

let current = null;
async function show(name) {
  current = panels[name] ? name : 'notifications';
  for (const a of document.querySelectorAll('#me-tabs a')) a.classList.toggle('active', a.dataset.tab === current);
  errorBox.textContent = '';
  const shown = current;
  // A list that comes from the server says it is loading, and on failure says so with a Retry.
  if (shown !== 'notifications') loading(panel);
  try {
    await panels[shown]();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return needLogin();
    if (current === shown) loadFailed(panel, err, () => show(shown));
  }
}

function needLogin() {
  $('me-tabs').hidden = true;
  panel.replaceChildren(h('p', {}, h('a', { href: `/login?next=${encodeURIComponent('/me' + location.hash)}` }, t('me.needLogin'))));
}

if (!currentUser()) {
  needLogin();
} else {
  $('me-tabs').hidden = false;
  feed = startNotifications((state) => {
    feedState = state;
    const badge = $('unread');
    badge.hidden = !state.unread;
    badge.textContent = String(state.unread);
    badge.title = t('nav.unreadN', { n: state.unread });
    $('live-state').dataset.mode = state.mode;
    if (current === 'notifications') panels.notifications();
  });
  addEventListener('hashchange', () => show(location.hash.slice(1)));
  show(location.hash.slice(1));
}
