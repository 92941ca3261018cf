// The staff login page.
import { t, applyI18n, toggleLang } from './i18n.js';
import { post, ApiError } from './api.js';
import { safePath } from './dom.js';

applyI18n();
document.getElementById('lang-toggle').addEventListener('click', toggleLang);

/** Where to go after logging in: a path on this site from ?next=, else the console. */
function nextPath() {
  return safePath(new URLSearchParams(location.search).get('next'), '/console');
}

const form = document.getElementById('login-form');
const errorEl = document.getElementById('login-error');
const submit = document.getElementById('login-submit');

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!form.reportValidity()) return;
  errorEl.hidden = true;
  submit.disabled = true;
  submit.textContent = t('login.busy');
  try {
    const r = await post('auth/login', { username: form.username.value.trim(), password: form.password.value });
    const role = r.user && r.user.role;
    location.assign(role === 'citizen' ? '/m/' : nextPath());
  } catch (err) {
    errorEl.hidden = false;
    errorEl.textContent = err instanceof ApiError && err.status === 401 ? t('login.wrong') : err.describe ? err.describe() : String(err);
    submit.disabled = false;
    submit.textContent = t('login.submit');
    form.password.select();
  }
});
