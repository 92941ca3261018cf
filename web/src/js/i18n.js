// Translation: Simplified Chinese by default, English on request (kept in localStorage).
import zh from './i18n/zh-CN.js';
import en from './i18n/en.js';

const KEY = 'shanzhi.lang';
const DICTS = { 'zh-CN': zh, en };

function stored() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** The current language: 'zh-CN' (default) or 'en'. */
export const lang = stored() === 'en' ? 'en' : 'zh-CN';
document.documentElement.lang = lang;

/** The text of `key` in the current language, with {name} parameters filled in. */
export function t(key, params) {
  let s = DICTS[lang][key];
  if (s === undefined) s = zh[key];
  if (s === undefined) return key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] === undefined ? m : String(params[k])));
  return s;
}

/** True if the dictionary has `key`. */
export function has(key) {
  return DICTS[lang][key] !== undefined || zh[key] !== undefined;
}

/** Switches the language and reloads the page so that every text follows. */
export function setLang(l) {
  try {
    localStorage.setItem(KEY, l);
  } catch {
    /* private mode: the switch lasts for this page only */
  }
  location.reload();
}

export function toggleLang() {
  setLang(lang === 'en' ? 'zh-CN' : 'en');
}

/** Fills elements carrying data-i18n (text), data-i18n-ph (placeholder), data-i18n-label (aria-label). */
export function applyI18n(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  if (document.body && document.body.dataset.i18nTitle) document.title = t(document.body.dataset.i18nTitle);
}

/** Both dictionaries, for the test that checks they have the same keys. */
export const dictionaries = DICTS;
