// The live-rooms page (index.html): lists live rooms, refreshed every 10 s.
// Its own file, not an inline script: the pages' Content-Security-Policy allows only same-origin scripts.
for (const el of document.querySelectorAll('.host')) el.textContent = location.hostname;
const list = document.getElementById('rooms');
const empty = document.getElementById('empty');
const status = document.getElementById('status');

function roomsOf(body) {
  if (Array.isArray(body)) return body;
  return body?.items ?? body?.rooms ?? body?.data ?? [];
}

async function refresh() {
  try {
    const res = await fetch('/api/v1/rooms?live=1', { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const rooms = roomsOf(await res.json());
    list.replaceChildren(...rooms.map((room) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `/watch/${encodeURIComponent(room.id)}`;
      const title = document.createElement('strong');
      title.textContent = room.title ?? `Room ${room.id}`;
      const meta = document.createElement('div');
      meta.className = 'status';
      const viewers = room.viewers_count ?? room.viewersCount ?? room.online ?? 0;
      meta.innerHTML = '<span class="live">LIVE</span> ';
      meta.append(`${viewers} watching`);
      a.append(title, meta);
      li.append(a);
      return li;
    }));
    empty.hidden = rooms.length > 0;
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    status.textContent = `cannot load rooms (${err.message})`;
  }
}
refresh();
setInterval(refresh, 10000);
