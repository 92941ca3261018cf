// Small DOM helpers. Text always goes in as text nodes (never innerHTML), so nothing a user
// typed can become markup.
import { t, lang } from './i18n.js';

/**
 * Builds an element: h('a', {href: '/x', class: 'btn', onclick: fn}, 'text', child, [more]).
 * Attributes starting with "on" become listeners; `dataset` and `style` objects are merged;
 * boolean true sets an empty attribute, false/null/undefined skip it.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled' || k === 'multiple') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replaces the content of `el`. */
export function put(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// ---------- formatting ----------

const TZ = 'Asia/Shanghai';
const locale = () => (lang === 'en' ? 'en-GB' : 'zh-CN');

/** 2026-11-23 14:05 in China time. */
export function fmtTime(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(d);
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

export function fmtClock(ms) {
  return new Intl.DateTimeFormat(locale(), { timeZone: TZ, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(ms));
}

/** Today's date in China, YYYY-MM-DD. */
export function chinaDate(ms = Date.now()) {
  return fmtTime(ms).slice(0, 10);
}

/** A duration in minutes as "2天3小时", "5h 20min". */
export function fmtMinutes(min) {
  if (min === null || min === undefined || !isFinite(min)) return '—';
  min = Math.max(0, Math.round(min));
  const d = Math.floor(min / 1440);
  const hh = Math.floor((min % 1440) / 60);
  const m = min % 60;
  const out = [];
  if (d) out.push(t('dur.d', { n: d }));
  if (hh && d < 10) out.push(t('dur.h', { n: hh }));
  if (!d && (m || !hh)) out.push(t('dur.m', { n: m }));
  return out.join(lang === 'en' ? ' ' : '');
}

export function fmtPct(ratio, digits = 1) {
  const v = ratio && typeof ratio === 'object' ? ratio.value : ratio;
  if (v === null || v === undefined || !isFinite(v)) return '—';
  return `${(v * 100).toFixed(digits)}%`;
}

// One formatter per language and number of digits: making one is far dearer than using it
// (the map writes a figure for each of hundreds of shapes in one draw).
const numberFormats = new Map();
export function fmtNum(v, digits = 0) {
  if (v === null || v === undefined || !isFinite(v)) return '—';
  const key = `${locale()} ${digits}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits });
    numberFormats.set(key, f);
  }
  return f.format(Number(v));
}

/** "2h left" / "1d overdue" from a deadline. */
export function dueText(dueAt, now = Date.now()) {
  if (!dueAt) return t('due.none');
  const min = (dueAt - now) / 60000;
  return min >= 0 ? t('due.left', { t: fmtMinutes(min) }) : t('due.over', { t: fmtMinutes(-min) });
}

// ---------- badges ----------

export function stateBadge(state) {
  return h('span', { class: `badge state-${state}` }, t(`state.${state}`));
}

export function lightBadge(light, dueAt, open = true) {
  if (!open) return h('span', { class: 'muted' }, '—');
  const label = t(`light.${light || 'green'}`);
  return h('span', { class: `light light-${light || 'green'}`, title: label },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    h('span', { class: 'sr-only' }, label + ' '),
    dueAt ? dueText(dueAt) : label);
}

export function supervisionBadge(s) {
  if (!s || s === 'none') return null;
  return h('span', { class: `badge sup-${s}` }, t(`supervision.${s}`));
}

export const OPEN_STATES = ['reported', 'accepted', 'dispatched', 'in_progress', 'resolved'];
export const isOpen = (state) => OPEN_STATES.includes(state);

// ---------- states: loading, empty, error ----------

export function loading(text = t('common.loading')) {
  return h('div', { class: 'state-box loading', role: 'status', 'aria-live': 'polite' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', text));
}

export function empty(title, hint, action) {
  return h('div', { class: 'state-box empty' },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, '◎'),
    h('p', { class: 'empty-title' }, title),
    hint ? h('p', { class: 'muted' }, hint) : null,
    action || null);
}

export function errorBox(err, retry) {
  const text = err && err.describe ? err.describe() : String((err && err.message) || err);
  return h('div', { class: 'state-box error', role: 'alert' },
    h('p', { class: 'empty-title' }, t('common.error')),
    h('p', text),
    retry ? h('button', { class: 'btn', type: 'button', onclick: retry }, t('common.retry')) : null);
}

// ---------- toasts and dialogs ----------

let toastHost;
export function toast(text, kind = 'ok') {
  if (!toastHost) {
    toastHost = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastHost);
  }
  const el = h('div', { class: `toast toast-${kind}` }, text);
  toastHost.append(el);
  setTimeout(() => el.classList.add('out'), 3800);
  setTimeout(() => el.remove(), 4300);
}

/**
 * A modal dialog with a form. `body` is a node (form fields); `onSubmit(form)` returns a
 * promise: on rejection its message is shown in the dialog and the dialog stays open.
 */
export function formDialog({ title, body, submitLabel, danger = false, onSubmit }) {
  return new Promise((resolve) => {
    const errorEl = h('div', { class: 'form-error', role: 'alert', hidden: true });
    const submit = h('button', { class: danger ? 'btn btn-danger' : 'btn btn-primary', type: 'submit' }, submitLabel || t('common.confirm'));
    const cancel = h('button', { class: 'btn', type: 'button', value: 'cancel' }, t('common.cancel'));
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const form = h('form', { class: 'dialog-form', method: 'dialog', novalidate: true },
      h('h2', { id: titleId }, title), h('div', { class: 'dialog-body' }, body), errorEl, h('div', { class: 'dialog-actions' }, cancel, submit));
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);
    document.body.append(dlg);
    let done = false;
    const finish = (v) => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    cancel.addEventListener('click', () => finish(null));
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(null);
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      errorEl.hidden = true;
      submit.disabled = true;
      submit.classList.add('busy');
      try {
        const v = await onSubmit(form);
        finish(v === undefined ? true : v);
      } catch (err) {
        errorEl.hidden = false;
        put(errorEl, h('strong', t('act.refused')), h('br'), err && err.describe ? err.describe() : String(err.message || err));
        submit.disabled = false;
        submit.classList.remove('busy');
      }
    });
    dlg.showModal();
    const first = form.querySelector('.dialog-body input:not([type=hidden]), .dialog-body select, .dialog-body textarea');
    (first || submit).focus();
  });
}

/** A labelled field: label + control (+ hint). The control gets an id the label points at. */
let fieldSeq = 0;
export function field(label, control, hint, opts = {}) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  let hintEl = null;
  if (hint) {
    hintEl = h('small', { class: 'hint', id: `${id}-hint` }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
  }
  const lab = h('label', { for: id }, label, control.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
  return h('div', { class: `field${opts.inline ? ' field-inline' : ''}` }, opts.inline ? [control, lab] : [lab, control], hintEl);
}

// ---------- vendor scripts, loaded only on the pages that need them ----------

const loaded = new Map();
export function loadScript(src) {
  if (!loaded.has(src)) {
    loaded.set(src, new Promise((res, rej) => {
      const s = h('script', { src });
      s.onload = res;
      s.onerror = () => rej(new Error(`cannot load ${src}`));
      document.head.append(s);
    }));
  }
  return loaded.get(src);
}

export function loadCss(href) {
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(h('link', { rel: 'stylesheet', href }));
}

export async function leaflet() {
  loadCss('/assets/vendor/leaflet.css');
  loadCss('/assets/vendor/MarkerCluster.css');
  loadCss('/assets/vendor/MarkerCluster.Default.css');
  await loadScript('/assets/config.js');
  await loadScript('/assets/vendor/leaflet.js');
  await loadScript('/assets/vendor/leaflet.markercluster.js');
  window.L.Icon.Default.imagePath = '/assets/vendor/images/';
  return window.L;
}

export async function echarts() {
  await loadScript('/assets/vendor/echarts.min.js');
  return window.echarts;
}

/** Debounce. */
export function debounce(fn, ms) {
  let timer;
  return (...a) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...a), ms);
  };
}

// ---------- icons (inline SVG, so no icon font or emoji font is needed) ----------

const ICONS = {
  camera: 'M4 8h3l2-3h6l2 3h3a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1zM12 17a4 4 0 1 0 0-8 4 4 0 0 0 0 8z',
  locate: 'M12 2v3M12 19v3M2 12h3M19 12h3M12 18a6 6 0 1 0 0-12 6 6 0 0 0 0 12zM12 14a2 2 0 1 0 0-4 2 2 0 0 0 0 4z',
  list: 'M8 6h13M8 12h13M8 18h13M3 6h.01M3 12h.01M3 18h.01',
  bell: 'M6 8a6 6 0 1 1 12 0c0 7 3 8 3 8H3s3-1 3-8M10 20a2 2 0 0 0 4 0',
  home: 'M3 11l9-8 9 8M5 10v10h5v-6h4v6h5V10',
  plus: 'M12 5v14M5 12h14',
  clock: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5l3 2',
  check: 'M5 12.5l4.5 4.5L19 7.5',
  family: 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21v-1a6 6 0 0 1 12 0v1M16 3.1a4 4 0 0 1 0 7.8M22 21v-1a6 6 0 0 0-4-5.7',
  download: 'M12 3v12M7 10l5 5 5-5M5 21h14',
  alert: 'M12 3l10 18H2L12 3zM12 10v5M12 18h.01',
  star: 'M12 3l2.7 5.6 6.2.9-4.5 4.4 1.1 6.1L12 17.1 6.5 20l1.1-6.1-4.5-4.4 6.2-.9z',
};

/** A 24×24 stroke icon. */
export function icon(name, size = 20) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '2');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name] || '');
  svg.append(path);
  return svg;
}

/**
 * `n` if it is a path on this site, else `fallback`: the server's rule (page/mod.rs
 * `safe_next`): one leading '/', no second '/' or '\\', no spaces or control characters
 * (browsers drop tab/CR/LF, turning '/\t/host' into '//host'), and the URL it resolves to stays
 * on this origin. Used for every `?next=` after a login.
 */
export function safePath(n, fallback) {
  if (typeof n !== 'string' || n.length > 512) return fallback;
  if (!/^\/(?![\/\\])[^\s\\\u0000-\u001f\u007f]*$/.test(n)) return fallback;
  try {
    return new URL(n, location.origin).origin === location.origin ? n : fallback;
  } catch {
    return fallback;
  }
}
