// The service worker: the phone pages (the citizen portal and the grid worker's console) open
// without a signal. Served at /sw.js by the server, which fills in VERSION (a hash of the embedded
// assets: a new build replaces the cache) and PRECACHE (the assets the pages load).
const VERSION = '__VERSION__';
const PRECACHE = __PRECACHE__;
const CACHE = `shanzhi-${VERSION}`;
// The pages are single shells that route on the client: every /m/… is the portal's, every
// /console/… the console's.
const SHELLS = [['/m/', '/m/'], ['/console', '/console']];
// Reference data the report form needs, read from the network first and kept for offline use.
const KEEP = ['/api/v1/categories', '/api/v1/me', '/assets/config.js'];

self.addEventListener('install', (e) => {
  e.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(PRECACHE.concat(SHELLS.map(([, url]) => url), ['/assets/config.js', '/api/v1/categories']));
    // Who is logged in, if anyone (a 401 is not kept).
    await fetch('/api/v1/me').then((r) => (r.ok ? cache.put('/api/v1/me', r) : null)).catch(() => {});
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (e) => {
  e.waitUntil((async () => {
    for (const key of await caches.keys()) if (key.startsWith('shanzhi-') && key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

async function networkFirst(req, fallbackUrl) {
  const cache = await caches.open(CACHE);
  try {
    const resp = await fetch(req);
    if (resp.ok) await cache.put(fallbackUrl || req, resp.clone());
    return resp;
  } catch (err) {
    const hit = await cache.match(fallbackUrl || req);
    if (hit) return hit;
    throw err;
  }
}

async function cacheFirst(req) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(req);
  if (hit) return hit;
  const resp = await fetch(req);
  if (resp.ok) await cache.put(req, resp.clone());
  return resp;
}

self.addEventListener('fetch', (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.method !== 'GET') {
    // After a logout nobody's details stay on a shared phone.
    if (url.pathname === '/api/v1/auth/logout') e.waitUntil(caches.open(CACHE).then((c) => c.delete('/api/v1/me')));
    return;
  }
  if (req.mode === 'navigate') {
    const shell = SHELLS.find(([prefix]) => url.pathname.startsWith(prefix));
    if (shell) e.respondWith(networkFirst(req, shell[1]));
    return;
  }
  if (KEEP.includes(url.pathname) && !url.search) {
    e.respondWith(networkFirst(req));
    return;
  }
  if (url.pathname.startsWith('/assets/')) e.respondWith(cacheFirst(req));
  // Everything else (the API's data, photos) goes to the network as it is.
});
