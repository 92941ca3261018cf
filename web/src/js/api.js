// The JSON API: cookies carry the session, writes echo the CSRF cookie, errors become ApiError.
import { t, has, lang } from './i18n.js';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.field = body && body.field;
    this.reason = body && body.reason;
    this.params = (body && body.params) || {};
    this.errors = (body && body.errors) || [];
    this.body = body;
  }

  /**
   * A sentence for the user in their language: the reason's text by its stable key (with its
   * values), or a generic sentence by status, with the field's label. The server's English
   * message shows only in the English interface, and only when no key fits.
   */
  describe() {
    if (this.status === 0) return t('common.network');
    if (this.status === 401) return t('err.401');
    if (this.status === 404) return t('err.404');
    if (this.status === 429) return t('err.429');
    if (this.status >= 500) return t('err.5xx');
    const label = this.field && has(`field.${this.field}`) ? t(`field.${this.field}`) : '';
    const params = { ...this.params, field: label || t('err.thisField') };
    if (params.state && has(`state.${params.state}`)) params.state = t(`state.${params.state}`);
    if (this.reason && has(`reason.${this.reason}`)) {
      const s = t(`reason.${this.reason}`, params);
      return label && !s.includes(label) ? s + t('err.field', { field: label }) : s;
    }
    // No key: English readers get the server's sentence, others a generic one by status.
    const message = lang === 'en' ? this.message : '';
    const known = [403, 409, 422, 400, 423];
    let s = known.includes(this.status) ? t(`err.${this.status === 400 ? 422 : this.status}`, { message }) : t('err.http', { status: this.status });
    if (label) s += t('err.field', { field: label });
    return s;
  }
}

export function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)shanzhi_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : '';
}

/**
 * Calls the API. `body` is sent as JSON unless it is a Blob/ArrayBuffer (sent raw).
 * Resolves to the parsed JSON (or null), rejects with ApiError.
 */
export async function api(path, { method = 'GET', body, headers = {}, signal, query } = {}) {
  let url = path.startsWith('/') ? path : `/api/v1/${path}`;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const h = { Accept: 'application/json', ...headers };
  let payload;
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    payload = body;
    if (!h['Content-Type'] && body.type) h['Content-Type'] = body.type;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && method !== 'HEAD') h['X-CSRF-Token'] = csrfToken();
  let resp;
  try {
    resp = await fetch(url, { method, headers: h, body: payload, credentials: 'same-origin', signal });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, { message: String(e && e.message) });
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text.slice(0, 200) };
    }
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const get = (path, query, opts = {}) => api(path, { ...opts, query });
export const post = (path, body, opts = {}) => api(path, { ...opts, method: 'POST', body });
export const patch = (path, body) => api(path, { method: 'PATCH', body });

/** A random key that stays the same across retries of one report (works on plain http too). */
export function idempotencyKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Shrinks a large camera photo before upload (longest side 2048 px, JPEG), keeping small ones as they are. */
export async function preparePhoto(file) {
  if (file.size <= 1.5 * 1024 * 1024 || !/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) return file;
  try {
    const bmp = await createImageBitmap(file);
    const scale = Math.min(1, 2048 / Math.max(bmp.width, bmp.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bmp.width * scale);
    canvas.height = Math.round(bmp.height * scale);
    canvas.getContext('2d').drawImage(bmp, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((res) => canvas.toBlob(res, 'image/jpeg', 0.85));
    return blob && blob.size < file.size ? blob : file;
  } catch {
    return file;
  }
}

/** Uploads one photo; resolves to {hash, url}. */
export async function uploadPhoto(file) {
  const blob = await preparePhoto(file);
  return api('/api/v1/photos', { method: 'POST', body: blob, headers: { 'Content-Type': blob.type || 'application/octet-stream' } });
}

let categoriesPromise = null;
/** The categories (cached for the page): {items, byId, top(id)}. */
export function categories() {
  if (!categoriesPromise) {
    categoriesPromise = get('categories').then((r) => {
      const items = r.items || [];
      const byId = new Map(items.map((c) => [c.id, c]));
      const top = (id) => {
        let c = byId.get(id);
        while (c && c.parent_id && byId.has(c.parent_id)) c = byId.get(c.parent_id);
        return c;
      };
      return { items, byId, top };
    });
    categoriesPromise.catch(() => {
      categoriesPromise = null;
    });
  }
  return categoriesPromise;
}
