// The phone's outbox: a report made without a signal waits here (IndexedDB, photos as blobs)
// under its idempotency key, and is sent when the signal returns. The server answers a retry with
// the same key with the first event, so a report that did arrive before the line dropped is never
// made twice.
import { api, uploadPhoto } from './api.js';

const DB = 'shanzhi-outbox';
const STORE = 'reports';
const RETRY_MS = 20_000;
const listeners = new Set();
let flushing = null;
let timer = null;

/** Statuses that mean "the request did not get through", worth trying again later. */
export const retryable = (err) => !!err && [0, 502, 503, 504].includes(err.status);

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const out = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(out && 'result' in out ? out.result : undefined);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}

/** Every waiting report, oldest first: {key, body, photos: [Blob], created_at, error}. */
export async function pending() {
  const all = (await tx('readonly', (s) => s.getAll())) || [];
  return all.sort((a, b) => a.created_at - b.created_at);
}

function changed() {
  pending().then((items) => listeners.forEach((f) => f(items))).catch(() => {});
}

/** Calls `f(items)` now and whenever the outbox changes; returns the function that stops it. */
export function watch(f) {
  listeners.add(f);
  pending().then(f).catch(() => {});
  return () => listeners.delete(f);
}

/** Keeps a report to send later. `photos` are the picked files (sent again: the server keeps each once). */
export async function queue({ key, body, photos }) {
  await tx('readwrite', (s) => s.put({ key, body, photos, created_at: Date.now(), error: null }));
  changed();
  schedule();
}

/** Drops a report the server refused (the person read why and gave up on it). */
export async function discard(key) {
  await tx('readwrite', (s) => s.delete(key));
  changed();
}

async function sendOne(item) {
  const hashes = [];
  for (const blob of item.photos || []) hashes.push((await uploadPhoto(blob)).hash);
  return api('events', { method: 'POST', body: { ...item.body, photos: hashes }, headers: { 'Idempotency-Key': item.key } });
}

/**
 * Sends what waits, oldest first; stops at the first report that cannot get through yet. A report
 * the server refuses (4xx) stays with its reason, for the person to read and discard.
 * Resolves to the events created.
 */
export function flush() {
  if (flushing) return flushing;
  flushing = (async () => {
    const sent = [];
    try {
      for (const item of await pending()) {
        if (item.error) continue;
        try {
          sent.push(await sendOne(item));
          await tx('readwrite', (s) => s.delete(item.key));
        } catch (err) {
          if (retryable(err)) break;
          await tx('readwrite', (s) => s.put({ ...item, error: err.describe ? err.describe() : String(err.message || err) }));
        }
        changed();
      }
    } finally {
      flushing = null;
      schedule();
    }
    return sent;
  })();
  return flushing;
}

/** While anything waits, try again now and then and as soon as the browser says it is online. */
function schedule() {
  clearTimeout(timer);
  pending().then((items) => {
    if (items.some((i) => !i.error)) timer = setTimeout(() => flush().catch(() => {}), RETRY_MS);
  }).catch(() => {});
}

/** Starts the outbox on a page: sends what waited from an earlier visit. */
export function start() {
  if (!('indexedDB' in window)) return;
  window.addEventListener('online', () => flush().catch(() => {}));
  flush().catch(() => {});
}
