// The base map: tiles from the configured URL template (window.SHANZHI.tileUrl, set by the
// server from SHANZHI_TILE_URL), or none at all: then shapes are drawn on a plain background.

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

/** Longitude/latitude bounds of a GeoJSON geometry, as Leaflet wants them ([[lat, lon], [lat, lon]]). */
export function geometryBounds(geometry) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      minX = Math.min(minX, c[0]); maxX = Math.max(maxX, c[0]);
      minY = Math.min(minY, c[1]); maxY = Math.max(maxY, c[1]);
    } else c.forEach(walk);
  };
  walk(geometry.coordinates);
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
