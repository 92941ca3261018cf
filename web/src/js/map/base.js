// The base map: tiles from the configured URL template (window.SHANZHI.tileUrl, set by the
// server from SHANZHI_TILE_URL), or none at all: then shapes are drawn on a plain background.
// Tiles declare their coordinate system (window.SHANZHI.tileCrs, from SHANZHI_TILE_CRS): most
// Chinese web maps (高德, 腾讯) draw in GCJ-02 and 百度 in BD-09, while Shanzhi keeps WGS-84.
// For such tiles the map's projection converts every WGS-84 position to the tiles' system
// before projecting (and back for clicks), so outlines, points and clicks stay in WGS-84 and
// still sit on the tiles.

const PI = Math.PI;
const A = 6378245.0;
const EE = 0.00669342162296594323;

function outOfChina(lon, lat) {
  return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
}

function shiftLat(x, y) {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  r += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
  r += (160.0 * Math.sin(y / 12.0 * PI) + 320 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
  return r;
}

function shiftLon(x, y) {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  r += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
  r += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
  return r;
}

/** WGS-84 → GCJ-02 (the published formula; the server's crates/domain/src/grid/crs.rs). */
export function wgs84ToGcj02(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  let dLat = shiftLat(lon - 105.0, lat - 35.0);
  let dLon = shiftLon(lon - 105.0, lat - 35.0);
  const rad = lat / 180.0 * PI;
  const magic = 1 - EE * Math.sin(rad) * Math.sin(rad);
  const sq = Math.sqrt(magic);
  dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sq) * PI);
  dLon = (dLon * 180.0) / (A / sq * Math.cos(rad) * PI);
  return [lon + dLon, lat + dLat];
}

function gcj02ToBd09(lon, lat) {
  const xPi = PI * 3000.0 / 180.0;
  const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * xPi);
  const t = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * xPi);
  return [z * Math.cos(t) + 0.0065, z * Math.sin(t) + 0.006];
}

const FORWARD = {
  gcj02: wgs84ToGcj02,
  bd09: (lon, lat) => (outOfChina(lon, lat) ? [lon, lat] : gcj02ToBd09(...wgs84ToGcj02(lon, lat))),
};

/** Inverts a forward conversion near the identity by iteration (to about 1e-9°). */
function invert(forward, lon, lat) {
  let x = lon, y = lat;
  for (let i = 0; i < 30; i++) {
    const [fx, fy] = forward(x, y);
    const dx = fx - lon, dy = fy - lat;
    x -= dx; y -= dy;
    if (Math.abs(dx) < 1e-10 && Math.abs(dy) < 1e-10) break;
  }
  return [x, y];
}

/** Leaflet map options for the configured tiles: a CRS that shifts WGS-84 onto GCJ-02/BD-09 tiles. */
export function mapOptions(L, options) {
  const forward = FORWARD[(window.SHANZHI || {}).tileCrs];
  if (!forward || !(window.SHANZHI || {}).tileUrl) return options;
  const merc = L.Projection.SphericalMercator;
  const projection = {
    bounds: merc.bounds,
    project(latlng) {
      const [x, y] = forward(latlng.lng, latlng.lat);
      return merc.project(L.latLng(y, x));
    },
    unproject(point) {
      const ll = merc.unproject(point);
      const [x, y] = invert(forward, ll.lng, ll.lat);
      return L.latLng(y, x);
    },
  };
  const crs = L.Util.extend({}, L.CRS.EPSG3857, { projection });
  return { ...options, crs };
}

/** Adds the tile layer if one is configured; returns true if it did. */
export function baseLayer(L, map, el) {
  const cfg = window.SHANZHI || {};
  if (cfg.tileUrl) {
    L.tileLayer(cfg.tileUrl, { maxZoom: 19 }).addTo(map);
    return true;
  }
  el.classList.add('plain');
  return false;
}

/** Planar area of a ring (shoelace), for comparing parts. */
function ringArea(ring) {
  let a = 0;
  for (let i = 1; i < ring.length; i++) a += ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1];
  return Math.abs(a) / 2;
}

/**
 * Longitude/latitude bounds of a GeoJSON geometry, as Leaflet wants them ([[lat, lon], [lat, lon]]).
 * Of a MultiPolygon only the largest parts that together make 99% of its area count: a coastal
 * city's far islets (汕尾's 东沙, 2° south) would otherwise frame mostly sea.
 */
export function geometryBounds(geometry) {
  let parts = [geometry.coordinates];
  if (geometry.type === 'MultiPolygon' && geometry.coordinates.length > 1) {
    const sized = geometry.coordinates.map((p) => [ringArea(p[0]), p]).sort((a, b) => b[0] - a[0]);
    const total = sized.reduce((n, [a]) => n + a, 0);
    parts = [];
    let sum = 0;
    for (const [a, p] of sized) {
      parts.push(p);
      sum += a;
      if (sum >= 0.99 * total) break;
    }
  }
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      minX = Math.min(minX, c[0]); maxX = Math.max(maxX, c[0]);
      minY = Math.min(minY, c[1]); maxY = Math.max(maxY, c[1]);
    } else c.forEach(walk);
  };
  parts.forEach(walk);
  return [[minY, minX], [maxY, maxX]];
}

/** Removes a map that may be in the middle of a zoom or pan animation (leaving a page then). */
export function removeMap(map) {
  if (!map) return;
  try {
    map.stop();
    map.off();
    map.remove();
  } catch {
    /* a map half torn down by its own animation: nothing left to free */
  }
}
