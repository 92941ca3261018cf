// What the village pages share (三资台账, 四务公开, 村民监督): the user's duties, the villages they
// can open, and who speaks for a village. The server decides; these only choose what to show.
import { get } from '../api.js';
import { h, field } from '../dom.js';

/** The user's duties: [{node, duty}]. */
export const duties = async (me) => (await get(`users/${me.id}/duties`)).duties;

/** The villages this user can open: those of their duties, and the villages of their area. */
export async function villages(me, held) {
  const out = new Map();
  const add = (code, name) => { if (!out.has(code)) out.set(code, name || code); };
  const villagesUnder = async (code, depth = 0) => {
    if (code.length !== 12 || code.endsWith('000')) {
      try {
        // A town's villages, or a county's through its towns.
        const kids = await get(`nodes/${code}/children`);
        for (const n of kids.items || kids) {
          if (n.level === 'village') add(n.code, n.name);
          else if (n.level === 'town' && depth < 1) await villagesUnder(n.code, depth + 1);
        }
      } catch { /* not readable */ }
    } else {
      let name = code;
      try {
        name = (await get(`nodes/${code}`)).name;
      } catch { /* keep the code */ }
      add(code, name);
    }
  };
  for (const d of held) await villagesUnder(d.node);
  if (me.scope_node && !['citizen', 'handler'].includes(me.role)) await villagesUnder(me.scope_node);
  return [...out.entries()];
}

/** Does the user hold `duty` for `village`? (A town's agency serves the villages below it.) */
export function holds(held, village, duty) {
  return held.some((d) => d.duty === duty && (duty === 'town_agency' ? village.startsWith(d.node.slice(0, 9)) : d.node === village));
}

/** The leading digits that the codes under a region share (441502001000 → 441502001). */
const prefix = (code) => code.replace(/(000)+$/, '').replace(/^(\d{2,6}?)(00)+$/, '$1');

/** Does the user speak for the village (publish its notices, answer its villagers)? */
export function speaksFor(me, held, village) {
  return (['dispatcher', 'admin'].includes(me.role) && !!me.scope_node && village.startsWith(prefix(me.scope_node)))
    || ['treasurer', 'committee', 'town_agency'].some((d) => holds(held, village, d));
}

/** A village picker over `list` ([[code, name]]), on `wanted` if it is there. */
export function villagePicker(id, list, wanted, label) {
  const select = h('select', { id }, list.map(([code, name]) => h('option', { value: code }, `${name} (${code})`)));
  select.value = wanted && list.some(([c]) => c === wanted) ? wanted : list[0][0];
  return { select, field: field(label, select) };
}
