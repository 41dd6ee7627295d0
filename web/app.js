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

/** The message `key` in the page's language, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = MESSAGES[lang()][key] ?? MESSAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? `{${k}}` : String(vars[k])));
}

/** Fills every [data-i18n] element's text (and [data-i18n-placeholder] placeholders) under `root`. */
export function translate(root = document) {
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
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
