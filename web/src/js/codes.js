// Region and grid codes (统计用区划代码): 12 digits for regions, longer for grids. The path
// drops a region's trailing zero groups, so "everything under X" is a path prefix.

/** The path of a code: 441581102000 → 441581102; grid codes are their own path. */
export function codePath(code) {
  if (!code) return '';
  if (code.length !== 12) return code;
  for (const len of [2, 4, 6, 9]) if (/^0+$/.test(code.slice(len))) return code.slice(0, len);
  return code;
}

/** True if `region` contains (or is) `code`. */
export function contains(region, code) {
  return codePath(code).startsWith(codePath(region));
}

/** The level a code names by its shape. */
export function levelOf(code) {
  const p = codePath(code);
  return { 2: 'province', 4: 'city', 6: 'county', 9: 'town', 12: 'village' }[p.length] || 'grid';
}
