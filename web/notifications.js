// The signed-in user's notifications: live over /ws/notification?ticket=T when the server has
// that socket (T from POST /notifications/ws-ticket, single use and short-lived, fetched afresh for
// every connect and reconnect: the JWT never goes into a URL) (frames {"v":1,"type":"notification","notification":{...}} and
// {"v":1,"type":"unread","count":N}), else GET /notifications every POLL_MS. A refused or dropped
// socket falls back to polling at once and tries the socket again now and then.
import { api } from '/app.js';

const POLL_MS = 15_000;
const SOCKET_RETRY_MS = 60_000;

/** The page's one feed (one socket), shared by the header's unread badge and the personal center. */
let shared = null;

/**
 * Starts the feed, or joins the page's running one; `onChange({ items, unread, mode })` runs now
 * (when the feed has loaded) and on every change (mode 'live' or 'polling').
 * Returns { markRead(id), markAllRead(), stop() } (stop: this listener; the feed ends with the last one).
 */
export function startNotifications(onChange) {
  shared ??= createFeed();
  const feed = shared;
  feed.listeners.add(onChange);
  if (feed.loaded()) onChange(feed.state());
  return {
    markRead: feed.markRead,
    markAllRead: feed.markAllRead,
    stop() {
      feed.listeners.delete(onChange);
      if (feed.listeners.size === 0) {
        feed.stop();
        if (shared === feed) shared = null;
      }
    },
  };
}

function createFeed() {
  const listeners = new Set();
  let loaded = false;
  let items = [];
  let unread = 0;
  let mode = 'polling';
  let ws = null;
  let pollTimer = null;
  let retryTimer = null;
  let stopped = false;

  const state = () => ({ items, unread, mode });
  const emit = () => {
    for (const listener of [...listeners]) listener(state());
  };
  const countUnread = () => items.filter((n) => !n.read_at).length;

  async function load() {
    try {
      const res = await api('/notifications?limit=50');
      items = res.notifications ?? [];
      unread = typeof res.unread_count === 'number' ? res.unread_count : countUnread();
      loaded = true;
      emit();
    } catch {
      // a failed poll keeps what the page shows
    }
  }

  function startPolling() {
    mode = 'polling';
    if (!pollTimer) pollTimer = setInterval(load, POLL_MS);
    emit();
  }

  function retryLater(ms) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, ms);
  }

  async function connect() {
    const token = localStorage.getItem('onair.token');
    if (stopped || !token || typeof WebSocket === 'undefined') return;
    let ticket;
    try {
      ticket = (await api('/notifications/ws-ticket', { method: 'POST' }))?.ticket;
    } catch {
      ticket = undefined;
    }
    if (stopped) return;
    if (!ticket) {
      startPolling();
      return retryLater(SOCKET_RETRY_MS);
    }
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/notification?ticket=${encodeURIComponent(ticket)}`;
    let opened = false;
    try {
      ws = new WebSocket(url);
    } catch {
      return startPolling();
    }
    ws.onopen = () => {
      opened = true;
      mode = 'live';
      clearInterval(pollTimer);
      pollTimer = null;
      load(); // anything that came while the socket was down
    };
    ws.onmessage = (ev) => {
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (frame?.type === 'notification' && frame.notification?.id) {
        const n = frame.notification;
        if (!items.some((x) => String(x.id) === String(n.id))) items = [n, ...items].slice(0, 200);
        if (!n.read_at) unread += 1;
        emit();
      } else if (frame?.type === 'unread' && typeof frame.count === 'number') {
        unread = frame.count;
        emit();
      }
    };
    ws.onclose = () => {
      ws = null;
      if (stopped) return;
      startPolling();
      // Refused (no such endpoint yet) or dropped: poll, and try the socket again later (with a new ticket).
      retryLater(opened ? 2_000 : SOCKET_RETRY_MS);
    };
  }

  load();
  startPolling();
  connect();

  async function markRead(id) {
    const n = items.find((x) => String(x.id) === String(id));
    if (!n || n.read_at) return;
    try {
      const res = await api(`/notifications/${encodeURIComponent(id)}/read`, { method: 'POST' });
      if (typeof res?.unread_count === 'number') unread = res.unread_count;
      else unread = Math.max(0, unread - 1);
    } catch {
      unread = Math.max(0, unread - 1); // a server without read marks: marked on this page only
    }
    n.read_at = new Date().toISOString();
    emit();
  }

  async function markAllRead() {
    try {
      await api('/notifications/read-all', { method: 'POST' });
    } catch {
      // as above
    }
    const now = new Date().toISOString();
    for (const n of items) n.read_at ??= now;
    unread = 0;
    emit();
  }

  return {
    listeners, state, loaded: () => loaded, markRead, markAllRead,
    stop() {
      stopped = true;
      clearInterval(pollTimer);
      clearTimeout(retryTimer);
      ws?.close();
    },
  };
}
