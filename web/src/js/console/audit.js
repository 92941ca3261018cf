// The audit log (administrators): every change with who, when, what and the values before and
// after; filters by record, person, action and time; one record's history; the chain check.
import { t, has } from '../i18n.js';
import { get } from '../api.js';
import { h, put, field, loading, empty, errorBox, fmtTime } from '../dom.js';

const ENTITIES = ['event', 'node', 'user', 'department', 'category', 'calendar', 'open311_client', 'resident', 'household', 'correction'];

/** `yyyy-mm-dd` (China time) → unix ms of that day's start, or undefined. */
function dayStart(value) {
  if (!value) return undefined;
  const ms = Date.parse(`${value}T00:00:00+08:00`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The keys whose values differ between `before` and `after`, in a stable order. */
export function changedKeys(before, after) {
  const b = before && typeof before === 'object' ? before : {};
  const a = after && typeof after === 'object' ? after : {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  return keys.filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k]));
}

function show(v) {
  if (v === undefined || v === null) return '—';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

export async function render(ctx, host) {
  const users = await get('users', { limit: 500 }).then((r) => r.items).catch(() => []);
  const userName = new Map(users.map((u) => [u.id, `${u.display_name} (${u.username})`]));
  // Everyone else on a page of rows: names and units from the people route, 100 at a time.
  async function learnNames(ids) {
    const unknown = [...new Set(ids)].filter((id) => id !== null && !userName.has(id));
    for (let i = 0; i < unknown.length; i += 100) {
      const r = await get('people', { ids: unknown.slice(i, i + 100).join(',') }).catch(() => ({ items: [] }));
      for (const p of r.items) userName.set(p.id, p.unit ? `${p.name} · ${p.unit}` : p.name);
    }
  }
  const q = new URLSearchParams(location.search);

  const entity = h('select', { name: 'entity', id: 'audit-entity' }, h('option', { value: '' }, t('audit.any')),
    ENTITIES.map((e) => h('option', { value: e, selected: q.get('entity') === e }, t(`audit.entity.${e}`))));
  const entityId = h('input', { name: 'entity_id', id: 'audit-entity-id', maxlength: 64, value: q.get('entity_id') || '', autocomplete: 'off' });
  const actor = h('select', { name: 'actor', id: 'audit-actor' }, h('option', { value: '' }, t('audit.anyone')),
    users.map((u) => h('option', { value: u.id, selected: q.get('actor') === String(u.id) }, userName.get(u.id))));
  const action = h('input', { name: 'action', id: 'audit-action', maxlength: 64, value: q.get('action') || '', placeholder: 'node.update', autocomplete: 'off' });
  const from = h('input', { name: 'from', type: 'date', id: 'audit-from', value: q.get('from') || '' });
  const to = h('input', { name: 'to', type: 'date', id: 'audit-to', value: q.get('to') || '' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('audit.filters') },
    h('div', { class: 'form-grid' },
      field(t('audit.entity'), entity), field(t('audit.entityId'), entityId, t('audit.entityId.hint')),
      field(t('audit.actor'), actor), field(t('audit.action'), action),
      field(t('audit.from'), from), field(t('audit.to'), to)),
    h('div', { style: { marginTop: '8px', display: 'flex', gap: '8px' } },
      h('button', { class: 'btn btn-primary', type: 'submit' }, t('audit.search')),
      h('button', { class: 'btn', type: 'reset' }, t('audit.clear'))));

  const chainOut = h('span', { id: 'audit-chain', 'aria-live': 'polite', class: 'muted' });
  const chainBtn = h('button', { class: 'btn', type: 'button', id: 'audit-verify' }, t('audit.verify'));
  chainBtn.addEventListener('click', async () => {
    chainBtn.disabled = true;
    put(chainOut, t('common.loading'));
    try {
      const r = await get('audit/verify');
      put(chainOut, r.ok
        ? h('span', { class: 'badge state-closed' }, t('audit.verify.ok', { n: r.rows }))
        : h('span', { class: 'badge state-rejected' }, t('audit.verify.broken', { seq: r.broken_at, reason: r.reason })));
    } catch (err) {
      put(chainOut, err.status === 403 ? t('audit.verify.rootOnly') : (err.describe ? err.describe() : String(err)));
    } finally {
      chainBtn.disabled = false;
    }
  });

  const tbody = h('tbody');
  const table = h('table', { class: 'data responsive', id: 'audit-table' },
    h('thead', h('tr', ['audit.seq', 'audit.at', 'audit.actor', 'audit.action', 'audit.record', 'audit.changes'].map((k) => h('th', { scope: 'col' }, t(k))))), tbody);
  const body = h('div', { class: 'table-wrap' }, loading());
  const foot = h('div', { class: 'list-foot' });

  const filters = () => ({
    entity: entity.value || undefined,
    entity_id: entityId.value.trim() || undefined,
    actor: actor.value || undefined,
    action: action.value.trim() || undefined,
    from: dayStart(from.value),
    // The "to" day is included: rows before the next day's start.
    to: to.value ? dayStart(to.value) + 86_400_000 : undefined,
  });

  const showHistory = (e, id) => {
    entity.value = e;
    entityId.value = id;
    actor.value = '';
    action.value = '';
    from.value = '';
    to.value = '';
    run();
  };

  const row = (r) => {
    const keys = changedKeys(r.before, r.after);
    const changes = keys.length
      ? h('ul', { class: 'plain-list' }, keys.slice(0, 8).map((k) => h('li', h('span', { class: 'mono' }, k), ': ', show(r.before && r.before[k]), ' → ', show(r.after && r.after[k]))),
        keys.length > 8 ? h('li', { class: 'muted' }, t('audit.more', { n: keys.length - 8 })) : null)
      : h('span', { class: 'muted' }, '—');
    return h('tr',
      h('td', { 'data-label': t('audit.seq'), class: 'mono' }, String(r.seq)),
      h('td', { 'data-label': t('audit.at') }, fmtTime(r.at)),
      h('td', { 'data-label': t('audit.actor') }, r.actor_id === null ? t('audit.system') : (userName.get(r.actor_id) || t('audit.userN', { id: r.actor_id }))),
      h('td', { 'data-label': t('audit.action'), class: 'mono' }, r.action),
      h('td', { 'data-label': t('audit.record') },
        h('button', { type: 'button', class: 'btn-link', title: t('audit.history'), onclick: () => showHistory(r.entity, r.entity_id) },
          `${has(`audit.entity.${r.entity}`) ? t(`audit.entity.${r.entity}`) : r.entity} ${r.entity_id}`),
        r.entity === 'event' && /^\d+$/.test(r.entity_id) ? [' ', h('a', { href: `/console/events/${r.entity_id}` }, t('audit.open'))] : null),
      h('td', { 'data-label': t('audit.changes') }, changes));
  };

  let seq = 0;
  async function load(before) {
    const mine = ++seq;
    const r = await get('audit', { ...filters(), before, limit: 100 });
    await learnNames(r.items.map((x) => x.actor_id));
    if (mine !== seq || !ctx.isCurrent()) return;
    if (!before) {
      put(tbody);
      put(body, r.items.length ? table : empty(t('audit.none')));
    }
    r.items.forEach((x) => tbody.append(row(x)));
    put(foot, r.next_before ? h('button', { class: 'btn', type: 'button', onclick: (e) => {
      e.target.disabled = true;
      load(r.next_before).catch((err) => put(foot, errorBox(err)));
    } }, t('common.more')) : null);
  }
  function run() {
    const p = new URLSearchParams();
    for (const [k, el] of [['entity', entity], ['entity_id', entityId], ['actor', actor], ['action', action], ['from', from], ['to', to]]) {
      if (el.value.trim()) p.set(k, el.value.trim());
    }
    window.history.replaceState(null, '', `${location.pathname}${p.toString() ? `?${p}` : ''}`);
    put(body, loading());
    put(foot);
    load().catch((err) => put(body, errorBox(err, run)));
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    run();
  });
  form.addEventListener('reset', () => setTimeout(run, 0));

  put(host, h('p', { class: 'lead' }, t('audit.lead')),
    h('section', { class: 'card' }, h('div', { class: 'card-body' }, form)),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('audit.title')), h('div', { class: 'card-tools' }, chainBtn, ' ', chainOut)), body, foot));
  run();
}
