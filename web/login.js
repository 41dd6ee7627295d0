// Log in and register (/login?next=/studio). Registering logs the new account in at once, then
// goes to `next`, or to the studio for an anchor, or home.
import { api, signIn, startPage, t } from '/app.js';

startPage();
const next = new URLSearchParams(location.search).get('next');
/** Only a path of this site: never send a new login to another origin. */
// A tab of the page may follow (/me#wallet: the personal center's login link keeps it).
const safeNext = next && /^\/[A-Za-z0-9/_-]*(#[A-Za-z0-9_=-]*)?$/.test(next) && !next.startsWith('//') ? next : null;

async function logIn(username, password) {
  const answer = await api('/auth/login', { method: 'POST', body: { username, password } });
  signIn(answer.token, answer.user);
  return answer.user;
}

function go(user) {
  if (safeNext && !safeNext.startsWith('/login')) location.href = safeNext;
  else location.href = user.role === 'operator' ? '/admin' : user.role === 'anchor' ? '/studio' : '/';
}

document.getElementById('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const error = document.getElementById('login-error');
  error.textContent = '';
  try {
    go(await logIn(String(f.get('username')), String(f.get('password'))));
  } catch (err) {
    error.textContent = t('common.error', { error: err.message });
  }
});

document.getElementById('register-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const error = document.getElementById('register-error');
  error.textContent = '';
  const username = String(f.get('username'));
  const password = String(f.get('password'));
  try {
    await api('/auth/register', { method: 'POST', body: { username, password, role: String(f.get('role')) } });
    go(await logIn(username, password));
  } catch (err) {
    error.textContent = t('common.error', { error: err.message });
  }
});
