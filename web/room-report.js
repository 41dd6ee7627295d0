// Reporting (举报) from the room page: the room itself (the Report button beside Share) or one chat
// line (its ⚑ button), with a reason, to POST /rooms/{id}/reports {reason, message_id?}; the report
// lands in the operators' queue (the console's Audits tab). Logged-in viewers only.
import { ApiError, api, currentUser, t } from '/app.js';

const $ = (id) => document.getElementById(id);
let roomId = null;
/** The chat line being reported (its history id), or null for the room. */
let messageId = null;

export function initReport(id) {
  roomId = id;
  $('report').addEventListener('click', () => openReport(null, null));
  $('report-cancel').addEventListener('click', () => $('report-dialog').close());
  $('report-form').addEventListener('submit', submit);
}

/** Opens the report form for the room (`id` null) or for one chat line (`id`, with its text as a quote). */
export function openReport(id, quote) {
  if (!currentUser()) {
    note(t('report.login'), true);
    return;
  }
  messageId = id;
  $('report-quote').hidden = !quote;
  $('report-quote').textContent = quote ?? '';
  $('report-title').textContent = t(id ? 'report.titleMessage' : 'report.titleRoom');
  $('report-error').textContent = '';
  $('report-reason').value = '';
  $('report-dialog').showModal();
  $('report-reason').focus();
}

async function submit(e) {
  e.preventDefault();
  const reason = $('report-reason').value.trim();
  if (!reason) return;
  const send = $('report-send');
  send.disabled = true;
  try {
    await api(`/rooms/${encodeURIComponent(roomId)}/reports`, { method: 'POST', body: { reason, ...(messageId ? { message_id: messageId } : {}) } });
    $('report-dialog').close();
    note(t('report.sent'), false);
  } catch (err) {
    const code = err instanceof ApiError ? err.code : '';
    $('report-error').textContent = code === 'too_many_reports' ? t('report.tooMany') : t('common.error', { error: err.message });
  } finally {
    send.disabled = false;
  }
}

function note(text, isError) {
  const el = $('social-msg');
  el.textContent = text;
  el.className = isError ? 'error' : 'status';
}
