// The home page (index.html): live rooms as cards in discovery's order (GET /rooms/recommended:
// pinned, then anchors the viewer follows, then hot), with a search box; refreshed every 10 s.
// "How to go live" names the RTMP server control is configured with (GET /site).
import { api, h, loadFailed, loading, startPage, t } from '/app.js';

startPage();
const list = document.getElementById('rooms');
const empty = document.getElementById('empty');
const status = document.getElementById('status');
const search = document.getElementById('search');
const state = document.getElementById('rooms-state');
let rooms = [];
/** Whether a list has been shown: until then the page says it is loading, or why it could not. */
let loaded = false;

function card(room) {
  // A live room's newest keyframe (media's screenshot), else the cover the anchor or a vendor set.
  const img = h('img', { class: 'cover', alt: '', loading: 'lazy', src: `/live/${encodeURIComponent(room.id)}/frame.jpg?t=${Math.floor(Date.now() / 10000)}` });
  img.addEventListener('error', () => {
    if (room.cover_url && img.src !== room.cover_url) img.src = room.cover_url;
    else img.replaceWith(h('div', { class: 'cover blank' }));
  }, { once: false });
  return h('li', { dataset: { roomId: room.id } },
    h('a', { href: `/watch/${encodeURIComponent(room.id)}` },
      img,
      h('strong', { class: 'title' }, room.title ?? `Room ${room.id}`),
      h('div', { class: 'status' },
        h('span', { class: 'live' }, t('watch.live')), ' ',
        room.pinned ? h('span', { class: 'pin' }, t('home.pinned')) : null, ' ',
        room.followed ? h('span', { class: 'pin' }, t('home.followed')) : null, ' ',
        h('span', { class: 'anchor' }, room.owner?.username ?? ''), ' · ',
        h('span', { class: 'viewers' }, t('home.watching', { n: room.viewers ?? 0 })),
      ),
    ),
  );
}

function render() {
  const q = search.value.trim().toLowerCase();
  const shown = rooms.filter((r) => !q || `${r.title} ${r.owner?.username ?? ''} ${r.id}`.toLowerCase().includes(q));
  list.replaceChildren(...shown.map(card));
  empty.hidden = shown.length > 0;
}

async function refresh() {
  if (!loaded) loading(state);
  try {
    // The plain live list when this control has no recommend feed (an older version).
    const body = await api('/rooms/recommended?limit=100').catch(() => api('/rooms?live=1'));
    rooms = body.rooms ?? [];
    loaded = true;
    state.replaceChildren();
    render();
    status.textContent = t('home.updated', { time: new Date().toLocaleTimeString() });
  } catch (err) {
    // Before the first list: the error with a Retry in its place; later, the last list stays and
    // the status line says the refresh failed (the next one runs in 10 s, or at Retry).
    if (!loaded) loadFailed(state, err, refresh);
    else status.replaceChildren(t('home.error', { error: err.message }), ' ', h('button', { type: 'button', class: 'link retry', onclick: refresh }, t('common.retry')));
  }
}

async function howto() {
  const site = await api('/site').catch(() => null);
  const server = site?.rtmp_server ?? `rtmp://${location.hostname}/live`;
  document.getElementById('howto-2').textContent = t('home.howto.2', { server });
  document.getElementById('ffmpeg-line').textContent = `ffmpeg -re -i video.mp4 -c:v libx264 -g 60 -c:a aac -f flv ${server}/STREAM_KEY`;
}

search.addEventListener('input', render);
howto();
refresh();
setInterval(refresh, 10000);
