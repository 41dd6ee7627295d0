// "My sessions" in the studio: the anchor's ended shows (GET /me/sessions), one room or all, paged,
// with start, end, duration, peak and unique viewers, watch time, gift income, the replay when one
// was recorded and a link to the show's summary (#session=ID: GET /live/sessions/{id}).
import { api, h, t } from '/app.js';

const PAGE = 10;
const minutes = (s) => Math.max(0, Math.round((s ?? 0) / 60));
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

/** Fills `box` with the sessions list; `rooms()` gives the anchor's rooms for the filter. */
export function sessionsPanel(box, rooms) {
  const state = { roomId: '', offset: 0 };
  const filter = h('select', { id: 'sessions-room', onchange: () => ((state.roomId = filter.value), (state.offset = 0), load()) });
  const table = h('div', { id: 'sessions-box' });
  const pager = h('div', { class: 'row' });
  const msg = h('p', { class: 'error', role: 'alert' });
  box.replaceChildren(h('h3', {}, t('studio.sessions')), h('div', { class: 'row' }, h('label', {}, t('studio.sessionsRoom'), ' ', filter)), msg, table, pager);

  async function load() {
    const list = await rooms();
    const options = [h('option', { value: '' }, t('studio.sessionsAll')), ...list.map((r) => h('option', { value: r.id, selected: r.id === state.roomId }, r.title))];
    filter.replaceChildren(...options);
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(state.offset) });
    if (state.roomId) params.set('room_id', state.roomId);
    let res;
    try {
      res = await api(`/me/sessions?${params}`);
      msg.textContent = '';
    } catch (err) {
      msg.textContent = t('common.error', { error: err.message });
      return;
    }
    table.replaceChildren(res.sessions.length === 0 ? h('p', {}, t('studio.sessionsNone')) : h('table', { class: 'list', id: 'sessions-table' },
      h('thead', {}, h('tr', {}, ...['room', 'start', 'end', 'duration', 'viewers', 'watch', 'income', 'links'].map((k) => h('th', {}, t(`studio.col.${k}`))))),
      h('tbody', {}, res.sessions.map((s) => h('tr', { dataset: { sessionId: s.session_id, roomId: s.room_id } },
        h('td', {}, s.room_title ?? `#${s.room_id}`),
        h('td', { class: 'start' }, when(s.start_at)), h('td', { class: 'end' }, when(s.end_at)),
        h('td', { class: 'duration' }, t('studio.sumDuration', { min: minutes(s.duration_s) })),
        h('td', { class: 'viewers' }, t('studio.sessionViewers', { peak: s.peak_viewers, unique: s.unique_viewers })),
        h('td', { class: 'watch' }, t('studio.sumDuration', { min: minutes(s.watch_s) })),
        h('td', { class: 'income' }, t('studio.sumIncome', { income: s.income, gifts: s.gifts })),
        h('td', { class: 'links' },
          h('a', { href: s.summary_url, class: 'summary-link' }, t('studio.summaryLink')), ' ',
          s.replay ? h('a', { href: s.replay.url, class: 'replay-link', target: '_blank', rel: 'noopener' }, t('studio.replayLink')) : null))))));
    const page = Math.floor(state.offset / PAGE) + 1;
    const pages = Math.max(1, Math.ceil(res.total / PAGE));
    pager.replaceChildren(
      h('button', { type: 'button', id: 'sessions-prev', disabled: state.offset === 0, onclick: () => ((state.offset = Math.max(0, state.offset - PAGE)), load()) }, t('admin.prev')),
      h('span', { class: 'status', id: 'sessions-page' }, t('admin.page', { page, pages, total: res.total })),
      h('button', { type: 'button', id: 'sessions-next', disabled: res.next_offset === null, onclick: () => ((state.offset = res.next_offset), load()) }, t('admin.next')));
  }
  load();
  return { reload: load };
}

/** The summary of one show (GET /live/sessions/{id}), opened by the sessions list's links (#session=ID). */
export async function showSessionSummary(box, id) {
  box.hidden = false;
  try {
    const s = await api(`/live/sessions/${encodeURIComponent(id)}`);
    const st = s.statistics ?? {};
    box.replaceChildren(h('h3', {}, t('studio.summaryTitle')), h('dl', { id: 'session-summary', dataset: { sessionId: s.session_id } },
      h('dt', {}, t('studio.col.room')), h('dd', {}, `#${s.room_id}`),
      h('dt', {}, t('studio.col.start')), h('dd', {}, when(s.start_at)),
      h('dt', {}, t('studio.col.end')), h('dd', {}, when(s.end_at)),
      h('dt', {}, t('studio.col.duration')), h('dd', { class: 'duration' }, t('studio.sumDuration', { min: minutes(st.duration_s ?? s.duration_s) })),
      h('dt', {}, t('studio.col.viewers')), h('dd', { class: 'viewers' }, t('studio.sumViewers', { peak: st.peak_viewers ?? s.peak_viewers ?? 0, total: st.total_viewers ?? '—' })),
      h('dt', {}, t('studio.col.income')), h('dd', { class: 'income' }, t('studio.sumIncome', { income: st.gift_income ?? 0, gifts: st.gift_count ?? 0 }))));
  } catch (err) {
    box.replaceChildren(h('p', { class: 'error' }, t('common.error', { error: err.message })));
  }
}
