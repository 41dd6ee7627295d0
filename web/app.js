// What every page shares: the language (t()), the signed-in user and the API client, the header.
// Plain ES modules served as files (no framework, no CDN): the pages' CSP allows only same-origin scripts.
import { MESSAGES } from './i18n.js';

const LANG_KEY = 'onair.lang';
const TOKEN_KEY = 'onair.token';
const USER_KEY = 'onair.user';

export function lang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === 'en' || saved === 'zh') return saved;
  return (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

/**
 * The message `key` in the page's language, with {name} placeholders filled from `vars`. A message
 * given as plural forms ({ one, other }) picks its form by the number vars.n (or vars[forms.count])
 * under the language's plural rules: "1 like", "2 likes".
 */
export function t(key, vars = {}) {
  const own = MESSAGES[lang()][key];
  let text = own ?? MESSAGES.en[key] ?? key;
  if (typeof text === 'object') text = pluralForm(text, vars, own === undefined ? 'en' : lang());
  return text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? `{${k}}` : String(vars[k])));
}

const pluralRules = new Map();
function pluralForm(forms, vars, language) {
  const n = Number(vars[forms.count ?? 'n']);
  if (!pluralRules.has(language)) pluralRules.set(language, new Intl.PluralRules(language === 'zh' ? 'zh-CN' : 'en'));
  const rule = vars[forms.count ?? 'n'] === undefined || !Number.isFinite(n) ? 'other' : pluralRules.get(language).select(n);
  return forms[rule] ?? forms.other;
}

/** Whether the pages have words for `key` (in either language). */
export function known(key) {
  return key in MESSAGES.en || key in MESSAGES.zh;
}

/**
 * The label of a code the API answers (a ledger kind, a status): the message `prefix.code`, else
 * the code made readable ("gift_refund_partial" -> "Gift refund partial"), never blank.
 */
export function label(prefix, code) {
  if (code === null || code === undefined || code === '') return '—';
  if (known(`${prefix}.${code}`)) return t(`${prefix}.${code}`);
  const words = String(code).replace(/[_.-]+/g, ' ').trim();
  return words ? words[0].toUpperCase() + words.slice(1) : String(code);
}

/** Fills every [data-i18n] element's text (and [data-i18n-placeholder] placeholders) under `root`. */
export function translate(root = document) {
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}

/** `box` says the list is loading (replaced by the list, or by loadFailed). */
export function loading(box) {
  box.replaceChildren(h('p', { class: 'status loading', role: 'status', 'aria-busy': 'true' }, t('common.loading')));
}

/** `box` says what failed, with a Retry button that calls `retry`. */
export function loadFailed(box, err, retry) {
  box.replaceChildren(h('div', { class: 'load-error', role: 'alert' },
    h('p', { class: 'error' }, t('common.loadFailed', { error: err?.message ?? String(err) })),
    h('button', { type: 'button', class: 'retry', onclick: retry }, t('common.retry'))));
}

export function currentUser() {
  try {
    return JSON.parse(localStorage.getItem(USER_KEY) ?? 'null');
  } catch {
    return null;
  }
}

export function signIn(token, user) {
  localStorage.setItem(TOKEN_KEY, token);
  localStorage.setItem(USER_KEY, JSON.stringify(user));
}

export function signOut() {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(USER_KEY);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** JSON call to /api/v1 with the signed-in user's token; throws ApiError on an error answer. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  const token = localStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    // No answer at all (the server restarts, the network is down): say so in the page's language,
    // not the browser's "Failed to fetch".
    throw new ApiError(0, 'network', t('common.offline'));
  }
  let json = null;
  try {
    json = await res.json();
  } catch {
    // not JSON (a proxy's error page)
  }
  if (res.status === 401 && token) signOut(); // the token died: the header shows "Log in" again
  if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? `http_${res.status}`, json?.error?.message ?? `HTTP ${res.status}`);
  return json;
}

/** An element with attributes and children; strings become text nodes (never HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** The header: brand, navigation for the user's role, log in/out and the language toggle. */
export function renderHeader() {
  const header = document.getElementById('top');
  if (!header) return;
  const user = currentUser();
  const nav = h('nav', {},
    h('a', { href: '/' }, t('nav.home')),
    user ? h('a', { href: '/me', id: 'me-link' }, t('nav.me'), ' ', h('span', { id: 'nav-unread', class: 'badge', hidden: true, title: t('nav.unread') })) : null,
    user && (user.role === 'anchor' || user.role === 'operator') ? h('a', { href: '/studio' }, t('nav.studio')) : null,
    user?.role === 'operator' ? h('a', { href: '/admin' }, t('nav.admin')) : null,
    user
      ? h('a', { href: '#', id: 'logout', onclick: (e) => { e.preventDefault(); signOut(); location.href = '/'; } }, `${t('nav.logout')} (${user.username})`)
      : h('a', { href: `/login?next=${encodeURIComponent(location.pathname + location.hash)}`, id: 'login-link' }, t('nav.login')),
    h('button', { type: 'button', id: 'lang', class: 'link', onclick: () => {
      localStorage.setItem(LANG_KEY, lang() === 'zh' ? 'en' : 'zh');
      location.reload();
    } }, t('lang.toggle')),
  );
  header.replaceChildren(h('h1', {}, h('a', { href: '/' }, 'onair')), nav);
  if (user) headerBadge();
}

let badgeFeed = null;
/**
 * The header's unread notifications badge, on every page of a signed-in user: the page's shared
 * notification feed (notifications.js: the /ws/notification socket's frames, else polling), so it
 * grows with a pushed notification and clears when they are read (here or in the personal center).
 */
function headerBadge() {
  if (badgeFeed) return;
  badgeFeed = import('/notifications.js').then(({ startNotifications }) => startNotifications(({ unread }) => {
    const badge = document.getElementById('nav-unread');
    if (!badge) return;
    badge.hidden = !unread;
    badge.textContent = unread ? String(unread) : '';
    badge.title = t('nav.unreadN', { n: unread });
  })).catch(() => undefined);
}

/** Copies text; resolves true when the clipboard took it. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API refused (plain HTTP on another host): select a hidden field and copy
    const area = h('textarea', { class: 'offscreen' });
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

export function formatDuration(ms) {
  if (!ms) return '…';
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

export function startPage() {
  translate();
  renderHeader();
}
