// The room page's gift bar and like button. Gifts come from the public catalog (GET /gifts);
// a send carries a client_order_id (crypto.randomUUID) so a retried click never charges twice;
// everyone, the sender included, sees the gift when it comes back over the chat socket. A send
// carries the price the button shows: when an operator changed it meanwhile the server answers 409
// price_changed and charges nothing, and the bar is reloaded with the new prices.
import { ApiError, api, currentUser, h, t } from '/app.js';

const $ = (id) => document.getElementById(id);
let roomId = null;
let pendingLikes = 0;
let likeTimer = null;
/** Whether the show is live (setLive), for buttons drawn again after a price change. */
let isLive = null;

export async function initGifts(id) {
  roomId = id;
  $('like').addEventListener('click', like);
  await loadBar();
  showBalance();
}

/** Draws the gift bar from the catalog; returns the gifts. */
async function loadBar() {
  let gifts = [];
  try {
    gifts = (await api('/gifts')).gifts ?? [];
  } catch {
    // no catalog: no gift bar
  }
  const bar = $('gift-bar');
  bar.replaceChildren(...gifts.map((g) => h('button', {
    type: 'button', class: 'gift-btn', 'data-gift-id': g.id, 'data-price': g.price, title: t('gifts.price', { price: g.price }),
    onclick: () => sendGift(g),
  }, sameOrigin(g.icon_url) ? h('img', { src: g.icon_url, alt: '' }) : '', `${g.name} · ${g.price}`)));
  $('gifts').hidden = gifts.length === 0;
  if (isLive !== null) setLive(isLive);
  return gifts;
}

/** Gifts and likes are for a live show only. */
export function setLive(live) {
  isLive = live;
  $('gifts').classList.toggle('disabled', !live);
  $('like').disabled = !live;
  for (const b of document.querySelectorAll('.gift-btn')) b.disabled = !live;
}

async function showBalance(balance) {
  const el = $('balance');
  if (!currentUser()) {
    el.textContent = t('gifts.loginToSend');
    return;
  }
  if (balance === undefined) {
    try {
      balance = (await api('/wallet')).balance;
    } catch {
      el.textContent = '';
      return;
    }
  }
  el.textContent = t('gifts.balance', { n: balance });
}

function giftMessage(text, isError) {
  const el = $('gift-msg');
  el.textContent = text;
  el.className = isError ? 'error' : 'status';
}

async function sendGift(g) {
  if (!currentUser()) return giftMessage(t('gifts.loginToSend'), true);
  giftMessage('', false);
  try {
    const res = await api(`/rooms/${encodeURIComponent(roomId)}/gifts`, {
      method: 'POST', body: { gift_id: g.id, count: 1, client_order_id: crypto.randomUUID(), price: g.price },
    });
    giftMessage(t('gifts.sent', { name: g.name }), false);
    showBalance(res.balance);
  } catch (err) {
    const code = err instanceof ApiError ? err.code : '';
    if (code === 'price_changed') {
      // Nothing was charged: show the new prices and say so; the user clicks again at the new price.
      const now = (await loadBar()).find((x) => String(x.id) === String(g.id));
      giftMessage(now ? t('gifts.err.priceChanged', { name: g.name, price: now.price }) : t('gifts.err.disabled'), true);
      $('gift-msg').dataset.code = code;
      return;
    }
    const known = { insufficient_balance: 'gifts.err.balance', room_not_live: 'gifts.err.notLive', gift_disabled: 'gifts.err.disabled', self_gift: 'gifts.err.self' };
    giftMessage(known[code] ? t(known[code]) : t('common.error', { error: err.message }), true);
    $('gift-msg').dataset.code = code;
  }
}

/** Taps are batched into one request a second (the API takes 1-100 at once). */
function like() {
  if (!currentUser()) return giftMessage(t('gifts.loginToLike'), true);
  pendingLikes = Math.min(100, pendingLikes + 1);
  $('like').classList.add('pulse');
  if (likeTimer) return;
  likeTimer = setTimeout(async () => {
    const count = pendingLikes;
    pendingLikes = 0;
    likeTimer = null;
    $('like').classList.remove('pulse');
    try {
      const res = await api(`/rooms/${encodeURIComponent(roomId)}/like`, { method: 'POST', body: { count } });
      $('likes').textContent = t('chat.likes', { n: res.likes ?? 0 });
    } catch (err) {
      giftMessage(t('common.error', { error: err.message }), true);
    }
  }, 1000);
}

/** Icons on other hosts would break the page's CSP (img-src 'self'): those gifts show their name only. */
export function sameOrigin(url) {
  if (!url) return false;
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}
