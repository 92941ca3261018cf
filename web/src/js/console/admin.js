// Administration: users, departments, categories, importing a region/grid tree from GeoJSON,
// and the audit log (audit.js).
import { t } from '../i18n.js';
import { get, post, patch, api, ApiError } from '../api.js';
import { h, put, field, loading, empty, errorBox, toast, formDialog, fmtTime } from '../dom.js';
import { areaPicker, durationInput, workingDayMinutes, fmtWorking } from './picker.js';

/** A labelled field around a picker or duration, the label pointing at its focusable part. */
function pickerField(label, control, hint) {
  const f = field(label, control, hint);
  const target = control.button || control.input;
  f.querySelector('label').htmlFor = target.id || (target.id = `${control.id}-c`);
  return f;
}

const ROLES = ['grid_worker', 'dispatcher', 'handler', 'mediator', 'analyst', 'leader', 'admin', 'citizen'];
const TABS = [['users', 'nav.users'], ['departments', 'nav.departments'], ['categories', 'nav.categories'], ['import', 'nav.import'], ['audit', 'nav.audit']];

export async function render(ctx) {
  const { content, me } = ctx;
  const tab = ctx.params[0];
  ctx.setTitle(`${t('nav.admin')} · ${t(TABS.find((x) => x[0] === tab)[1])}`);
  if (me.role !== 'admin') {
    put(content, empty(t('admin.onlyAdmin')));
    return;
  }
  const tabs = h('nav', { class: 'seg', 'aria-label': t('nav.admin'), style: { marginBottom: '16px' } },
    TABS.map(([k, key]) => h('a', { href: `/console/admin/${k}`, class: 'btn-seg', 'aria-current': k === tab ? 'page' : null }, t(key))));
  const host = h('div');
  put(content, tabs, host);
  const audit = (c, el) => import('./audit.js').then((m) => m.render(c, el));
  await { users, departments, categories: categoriesPage, import: importPage, audit }[tab](ctx, host);
}

function errorText(err) {
  return err && err.describe ? err.describe() : String((err && err.message) || err);
}

/** A form with an error line; `send(form)` returns a promise, then `done(result)`. */
function submitForm(form, send, done) {
  const errorEl = h('div', { class: 'form-error', role: 'alert', hidden: true });
  form.append(errorEl);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    const btn = form.querySelector('button[type=submit]');
    errorEl.hidden = true;
    btn.disabled = true;
    btn.classList.add('busy');
    try {
      done(await send(form));
    } catch (err) {
      errorEl.hidden = false;
      errorEl.textContent = errorText(err);
      const bad = err instanceof ApiError && err.field && form.elements[err.field];
      if (bad && bad.focus) bad.focus();
    } finally {
      btn.disabled = false;
      btn.classList.remove('busy');
    }
  });
  return form;
}

// ---------------- users ----------------

/** The duties dialog: one line per duty (a region code and which duty), added and removed. */
async function dutiesDialog(u) {
  let held;
  try {
    held = (await get(`users/${u.id}/duties`)).duties;
  } catch (err) {
    toast(errorText(err), 'error');
    return;
  }
  const rows = h('tbody');
  const add = (d = {}) => {
    const node = h('input', { class: 'mono', 'aria-label': t('admin.dutyNode'), pattern: '[0-9]{12}', required: true, size: 14, value: d.node || '' });
    const duty = h('select', { 'aria-label': t('admin.duty') }, ['treasurer', 'committee', 'town_agency'].map((k) => h('option', { value: k }, t(`admin.duty.${k}`))));
    if (d.duty) duty.value = d.duty;
    const tr = h('tr', { class: 'duty-row' }, h('td', node), h('td', duty), h('td', h('button', { type: 'button', class: 'btn btn-small', 'aria-label': t('admin.dutyRemove'), onclick: () => tr.remove() }, '×')));
    rows.append(tr);
  };
  held.forEach(add);
  const body = h('div', { id: 'duties-form' }, h('p', { class: 'muted' }, t('admin.dutiesHint')),
    h('table', { class: 'data' }, h('thead', h('tr', ['admin.dutyNode', 'admin.duty', ''].map((k) => h('th', { scope: 'col' }, k ? t(k) : '')))), rows),
    h('button', { type: 'button', class: 'btn btn-small', id: 'duty-add', onclick: () => add() }, t('admin.dutyAdd')));
  const r = await formDialog({ title: `${t('admin.duties')} · ${u.username}`, body, submitLabel: t('common.save'),
    onSubmit: () => api(`users/${u.id}/duties`, { method: 'PUT', body: { duties: [...rows.querySelectorAll('tr')].map((tr) => ({ node: tr.querySelector('input').value.trim(), duty: tr.querySelector('select').value })) } }) });
  if (r) toast(t('common.saved'));
}

async function users(ctx, host) {
  const { me } = ctx;
  const deps = (await get('departments').catch(() => ({ items: [] }))).items;
  const depName = new Map(deps.map((d) => [d.id, d.name]));
  const tbody = h('tbody');
  const table = h('table', { class: 'data responsive' },
    h('thead', h('tr', ['admin.username', 'admin.displayName', 'admin.role', 'admin.scope', 'admin.status', ''].map((k) => h('th', { scope: 'col' }, k ? t(k) : '')))), tbody);
  const foot = h('div', { class: 'list-foot' });
  const list = h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('admin.users'))), h('div', { class: 'table-wrap' }, table), foot);

  const row = (u) => {
    const locked = u.locked_until && u.locked_until > Date.now();
    const status = u.disabled ? t('admin.disabled') : locked ? t('admin.locked') : t('admin.enabled');
    const toggle = h('button', { type: 'button', class: u.disabled ? 'btn btn-small' : 'btn btn-small btn-danger-outline', dataset: { user: u.username } }, u.disabled ? t('admin.enable') : t('admin.disable'));
    toggle.addEventListener('click', async () => {
      const verb = u.disabled ? t('admin.enable') : t('admin.disable');
      const r = await formDialog({ title: `${verb} · ${u.username}`, body: h('p', `${u.display_name} (${u.username})`), danger: !u.disabled, submitLabel: verb,
        onSubmit: () => patch(`users/${u.id}`, { disabled: !u.disabled }) });
      if (r) {
        toast(t('common.saved'));
        tr.replaceWith(row(r));
      }
    });
    // Failed logins make a name wait (per client address); an administrator may clear those waits
    // at any time, so the button is always there.
    const unlock = h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
      try {
        tr.replaceWith(row(await patch(`users/${u.id}`, { unlock: true })));
        toast(t('common.saved'));
      } catch (err) {
        toast(errorText(err), 'error');
      }
    } }, t('admin.unlock'));
    // Duties for the village books (三资): treasurer or committee of a village, agency of a town.
    const duties = u.role === 'citizen' ? null : h('button', { type: 'button', class: 'btn btn-small', dataset: { duties: u.username }, onclick: () => dutiesDialog(u) }, t('admin.duties'));
    const tr = h('tr',
      h('td', { 'data-label': t('admin.username') }, h('span', { class: 'mono' }, u.username)),
      h('td', { 'data-label': t('admin.displayName') }, u.display_name),
      h('td', { 'data-label': t('admin.role') }, t(`role.${u.role}`)),
      h('td', { 'data-label': t('admin.scope') }, u.department_id ? depName.get(u.department_id) || `#${u.department_id}` : u.scope ? h('span', { class: 'mono' }, u.scope) : '—'),
      h('td', { 'data-label': t('admin.status') }, h('span', { class: `badge ${u.disabled ? 'state-rejected' : locked ? 'sup-yellow' : 'state-closed'}` }, status)),
      h('td', { style: { whiteSpace: 'nowrap' } }, u.id === me.id ? null : toggle, ' ', unlock, ' ', duties));
    return tr;
  };

  async function load(after) {
    const r = await get('users', { after, limit: 100 });
    for (const u of r.items) tbody.append(row(u));
    put(foot, r.next_after ? h('button', { class: 'btn', type: 'button', onclick: (e) => {
      e.target.disabled = true;
      load(r.next_after).catch((err) => put(foot, errorBox(err)));
    } }, t('common.more')) : null);
  }

  // The create form.
  const roleSel = h('select', { name: 'role', required: true }, ROLES.map((r) => h('option', { value: r, selected: r === 'grid_worker' }, t(`role.${r}`))));
  const scope = areaPicker({ name: 'scope', value: me.scope_node || '' });
  const depSel = h('select', { name: 'department_id' }, deps.map((d) => h('option', { value: d.id }, d.name)));
  const scopeField = pickerField(t('admin.scope'), scope, t('admin.scope.hint'));
  const depField = field(t('admin.department'), depSel);
  const syncRole = () => {
    scopeField.hidden = ['handler', 'citizen'].includes(roleSel.value);
    depField.hidden = roleSel.value !== 'handler';
  };
  roleSel.addEventListener('change', syncRole);
  const form = h('form', { novalidate: true },
    field(t('admin.username'), h('input', { name: 'username', required: true, maxlength: 64, autocomplete: 'off' })),
    field(t('admin.displayName'), h('input', { name: 'display_name', required: true, maxlength: 100 })),
    field(t('admin.password'), h('input', { name: 'password', type: 'password', required: true, minlength: 10, autocomplete: 'new-password' }), t('admin.password.hint')),
    field(t('admin.role'), roleSel), scopeField, depField,
    h('button', { class: 'btn btn-primary', type: 'submit' }, t('common.create')));
  syncRole();
  submitForm(form, (f) => {
    const role = roleSel.value;
    return post('users', {
      username: f.elements.username.value.trim(), display_name: f.elements.display_name.value.trim(), password: f.elements.password.value, role,
      scope: ['handler', 'citizen'].includes(role) ? undefined : f.elements.scope.value,
      department_id: role === 'handler' ? Number(depSel.value) : undefined,
    });
  }, (u) => {
    toast(t('admin.created', { name: u.username }));
    tbody.prepend(row(u));
    form.reset();
    scope.reset(me.scope_node || '');
    syncRole();
  });

  put(host, h('p', { class: 'lead' }, t('admin.users.lead')),
    h('div', { class: 'admin-grid' }, list, h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('admin.newUser'))), h('div', { class: 'card-body' }, form))));
  try {
    await load();
    if (!tbody.children.length) put(foot, empty(t('common.noData')));
  } catch (err) {
    put(foot, errorBox(err));
  }
}

// ---------------- departments ----------------

async function departments(ctx, host) {
  const { me } = ctx;
  const tbody = h('tbody');
  const row = (d) => h('tr',
    h('td', { 'data-label': t('admin.code') }, h('span', { class: 'mono' }, d.code)),
    h('td', { 'data-label': t('admin.name') }, d.name),
    h('td', { 'data-label': t('admin.region') }, h('span', { class: 'mono' }, d.region)),
    h('td', { 'data-label': t('col.created'), class: 'muted' }, fmtTime(d.created_at)));
  const table = h('table', { class: 'data responsive' }, h('thead', h('tr', ['admin.code', 'admin.name', 'admin.region', 'col.created'].map((k) => h('th', { scope: 'col' }, t(k))))), tbody);
  const form = h('form', { novalidate: true },
    field(t('admin.code'), h('input', { name: 'code', required: true, maxlength: 64, pattern: '[A-Za-z0-9_.\\-]+' })),
    field(t('admin.name'), h('input', { name: 'name', required: true, maxlength: 100 })),
    pickerField(t('admin.region'), areaPicker({ name: 'region', required: true, value: me.scope_node || '' }), t('admin.scope.hint')),
    h('button', { class: 'btn btn-primary', type: 'submit' }, t('common.create')));
  submitForm(form, (f) => post('departments', { code: f.elements.code.value.trim(), name: f.elements.name.value.trim(), region: f.elements.region.value }), (d) => {
    toast(t('admin.created', { name: d.name }));
    tbody.prepend(row(d));
    form.reset();
    form.querySelector('.picker').reset(me.scope_node || '');
  });
  const body = h('div', { class: 'table-wrap' }, loading());
  put(host, h('p', { class: 'lead' }, t('admin.deps.lead')),
    h('div', { class: 'admin-grid' }, h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('admin.deps'))), body),
      h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('admin.newDep'))), h('div', { class: 'card-body' }, form))));
  try {
    const r = await get('departments');
    r.items.forEach((d) => tbody.append(row(d)));
    put(body, r.items.length ? table : empty(t('common.noData')));
  } catch (err) {
    put(body, errorBox(err));
  }
}

// ---------------- categories ----------------

function categoryFields(c, all, dayMinutes) {
  const v = (k, d) => (c && c[k] !== null && c[k] !== undefined ? c[k] : d);
  const num = (name, d) => durationInput({ name, minutes: v(name, d), dayMinutes });
  return h('div', { class: 'form-grid' },
    field(t('admin.code'), h('input', { name: 'code', required: true, maxlength: 64, value: v('code', '') })),
    field(t('admin.name'), h('input', { name: 'name', required: true, maxlength: 100, value: v('name', '') })),
    field(t('admin.parent'), h('select', { name: 'parent_id' }, h('option', { value: '' }, t('common.none')),
      all.filter((x) => !x.parent_id && (!c || x.id !== c.id)).map((x) => h('option', { value: x.id, selected: c && c.parent_id === x.id }, x.name)))),
    field(t('admin.kind'), h('input', { name: 'department_kind', maxlength: 32, value: v('department_kind', '') }), t('admin.kind.hint')),
    pickerField(t('admin.acceptMin'), num('accept_minutes', 120)),
    pickerField(t('admin.handleMin'), num('handle_minutes', 2880)),
    pickerField(t('admin.verifyMin'), num('verify_minutes', 480)),
    field(t('admin.priority'), h('select', { name: 'priority' }, [1, 2, 3].map((p) => h('option', { value: p, selected: v('priority', 3) === p }, t(`priority.${p}`))))),
    h('div', { class: 'span2' }, field(t('admin.onSpot'), h('input', { type: 'checkbox', name: 'on_spot', checked: !!v('on_spot', false) }), null, { inline: true }),
      field(t('admin.active'), h('input', { type: 'checkbox', name: 'active', checked: v('active', true) !== false }), null, { inline: true }),
      field(t('admin.gridFirst'), h('input', { type: 'checkbox', name: 'grid_first', checked: !!v('grid_first', false) }), t('admin.gridFirst.hint'), { inline: true })));
}

function categoryBody(f, dayMinutes) {
  const e = f.elements;
  const unit = { day: dayMinutes, hour: 60, minute: 1 };
  const minutes = (name) => Math.round(Number(e[name].value) * unit[e[`${name}_unit`].value]);
  return {
    code: e.code.value.trim(), name: e.name.value.trim(), parent_id: e.parent_id.value ? Number(e.parent_id.value) : null,
    department_kind: e.department_kind.value.trim() || null, accept_minutes: minutes('accept_minutes'), handle_minutes: minutes('handle_minutes'),
    verify_minutes: minutes('verify_minutes'), priority: Number(e.priority.value), on_spot: e.on_spot.checked, active: e.active.checked,
    grid_first: e.grid_first.checked,
  };
}

async function categoriesPage(ctx, host) {
  const body = h('div', { class: 'table-wrap' }, loading());
  const formHost = h('div', { class: 'card-body' });
  put(host, h('p', { class: 'lead' }, t('admin.cats.lead')),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('admin.cats'))), body),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('admin.newCat'))), formHost));

  const dayMinutes = await workingDayMinutes();
  async function load() {
    const all = (await get('categories')).items;
    const ordered = [];
    for (const top of all.filter((c) => !c.parent_id)) {
      ordered.push(top);
      ordered.push(...all.filter((c) => c.parent_id === top.id));
    }
    ordered.push(...all.filter((c) => c.parent_id && !all.some((x) => x.id === c.parent_id)));
    const mins = (m) => fmtWorking(m, dayMinutes);
    const table = h('table', { class: 'data responsive' },
      h('thead', h('tr', ['admin.name', 'admin.code', 'admin.kind', 'admin.acceptMin', 'admin.handleMin', 'admin.verifyMin', 'admin.priority', 'admin.onSpot', 'admin.active', ''].map((k) => h('th', { scope: 'col' }, k ? t(k) : '')))),
      h('tbody', ordered.map((c) => h('tr', { class: c.active ? '' : 'muted' },
        h('td', { 'data-label': t('admin.name'), style: { paddingLeft: c.parent_id ? '28px' : null, fontWeight: c.parent_id ? 400 : 600 } }, c.name),
        h('td', { 'data-label': t('admin.code') }, h('span', { class: 'mono' }, c.code)),
        h('td', { 'data-label': t('admin.kind') }, c.department_kind || '—'),
        h('td', { 'data-label': t('admin.acceptMin') }, mins(c.accept_minutes)),
        h('td', { 'data-label': t('admin.handleMin') }, mins(c.handle_minutes)),
        h('td', { 'data-label': t('admin.verifyMin') }, mins(c.verify_minutes)),
        h('td', { 'data-label': t('admin.priority') }, t(`priority.${c.priority}`)),
        h('td', { 'data-label': t('admin.onSpot') }, c.on_spot ? t('common.yes') : t('common.no')),
        h('td', { 'data-label': t('admin.active') }, c.active ? t('common.yes') : t('common.no')),
        h('td', h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
          const fields = categoryFields(c, all, dayMinutes);
          const r = await formDialog({ title: `${t('admin.edit')} · ${c.name}`, body: fields, submitLabel: t('common.save'),
            onSubmit: (f) => api(`/api/v1/categories/${c.id}`, { method: 'PATCH', body: categoryBody(f, dayMinutes) }) });
          if (r) {
            toast(t('common.saved'));
            load();
          }
        } }, t('admin.edit')))))));
    put(body, table);
    const form = h('form', { novalidate: true }, categoryFields(null, all, dayMinutes), h('button', { class: 'btn btn-primary', type: 'submit' }, t('common.create')));
    submitForm(form, (f) => post('categories', categoryBody(f, dayMinutes)), (c) => {
      toast(t('admin.created', { name: c.name }));
      load();
    });
    put(formHost, form);
  }
  try {
    await load();
  } catch (err) {
    put(body, errorBox(err));
  }
}

// ---------------- import ----------------

async function importPage(ctx, host) {
  const input = h('input', { type: 'file', id: 'import-file', accept: '.geojson,.json,.csv,.xlsx,application/geo+json,application/json,text/csv', required: true });
  const crsSel = h('select', { name: 'crs', id: 'import-crs' },
    h('option', { value: '' }, t('admin.import.crsAuto')),
    ['wgs84', 'cgcs2000', 'gcj02', 'bd09'].map((c) => h('option', { value: c }, t(`crs.${c}`))));
  const modeSel = h('select', { name: 'mode', id: 'import-mode' },
    h('option', { value: 'create' }, t('admin.import.modeCreate')),
    h('option', { value: 'update' }, t('admin.import.modeUpdate')));
  const dry = h('input', { type: 'checkbox', name: 'dry_run', id: 'import-dry' });
  const result = h('div', { 'aria-live': 'polite' });
  const form = h('form', { novalidate: true },
    h('div', { class: 'drop' }, field(t('admin.import.file'), input, t('admin.import.fileHint'))),
    h('div', { class: 'form-grid' },
      field(t('admin.import.crs'), crsSel, t('admin.import.crsHint')),
      field(t('admin.import.mode'), modeSel),
      field(t('admin.import.dryRun'), dry, null, { inline: true })),
    h('div', { style: { marginTop: '12px' } }, h('button', { class: 'btn btn-primary', type: 'submit' }, t('admin.import.submit'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!input.files || !input.files[0]) {
      input.focus();
      return;
    }
    const btn = form.querySelector('button');
    btn.disabled = true;
    btn.classList.add('busy');
    put(result, loading());
    const file = input.files[0];
    const name = file.name.toLowerCase();
    const sheet = name.endsWith('.csv') || name.endsWith('.xlsx');
    const type = name.endsWith('.csv') ? 'text/csv'
      : name.endsWith('.xlsx') ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'application/geo+json';
    let features = [];
    if (!sheet) {
      const text = await file.text();
      try {
        features = JSON.parse(text).features || [];
      } catch {
        put(result, h('div', { class: 'form-error', role: 'alert' }, t('admin.import.notJson')));
        btn.disabled = false;
        btn.classList.remove('busy');
        return;
      }
    }
    const q = new URLSearchParams();
    if (crsSel.value) q.set('crs', crsSel.value);
    q.set('mode', modeSel.value);
    if (dry.checked) q.set('dry_run', 'true');
    try {
      const r = await api(`/api/v1/tree/import?${q}`, { method: 'POST', body: new Blob([await file.arrayBuffer()], { type }) });
      const summary = t(r.dry_run ? 'admin.import.would' : 'admin.import.done', { inserted: r.inserted, updated: r.updated, unchanged: r.unchanged, crs: t(`crs.${r.crs}`) });
      const changes = r.changes || [];
      put(result, h('div', { class: 'form-ok', role: 'status' }, summary),
        changes.length ? h('div', { class: 'card' }, h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive', id: 'import-changes' },
          h('thead', h('tr', ['admin.code', 'admin.import.action', 'admin.name', 'admin.import.shape'].map((k) => h('th', { scope: 'col' }, t(k))))),
          h('tbody', changes.map((c) => h('tr', {},
            h('td', { 'data-label': t('admin.code'), class: 'mono' }, String(c.code)),
            h('td', { 'data-label': t('admin.import.action') }, t(`admin.import.${c.action}`)),
            h('td', { 'data-label': t('admin.name') }, c.name_before ? `${c.name_before} → ${c.name}` : (c.name || '—')),
            h('td', { 'data-label': t('admin.import.shape') }, c.shape ? t('admin.import.shapeNew') : '—'))))))) : null);
    } catch (err) {
      const errors = err instanceof ApiError ? err.errors : [];
      const props = (i) => (features[i] && features[i].properties) || {};
      put(result, h('div', { class: 'form-error', role: 'alert' }, t('admin.import.errors', { message: err.message || '' }), err instanceof ApiError && !errors.length ? h('div', errorText(err)) : null),
        errors.length ? h('div', { class: 'card' }, h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive', id: 'import-errors' },
          h('thead', h('tr', ['admin.import.row', 'admin.code', 'admin.name', 'admin.import.field', 'admin.import.message'].map((k) => h('th', { scope: 'col' }, t(k))))),
          h('tbody', errors.map((x) => h('tr', { class: 'row-red' },
            h('td', { 'data-label': t('admin.import.row') }, x.row ? String(x.row) : x.index === null || x.index === undefined ? '—' : String(x.index + 1)),
            h('td', { 'data-label': t('admin.code'), class: 'mono' }, String(x.code ?? props(x.index).code ?? '—')),
            h('td', { 'data-label': t('admin.name') }, String(props(x.index).name ?? '—')),
            h('td', { 'data-label': t('admin.import.field') }, x.field || '—'),
            h('td', { 'data-label': t('admin.import.message') }, x.message || ''))))))) : null);
    } finally {
      btn.disabled = false;
      btn.classList.remove('busy');
    }
  });
  put(host, h('p', { class: 'lead' }, t('admin.import.lead')), h('section', { class: 'card' }, h('div', { class: 'card-body' }, form)), h('div', { style: { marginTop: '16px' } }, result));
}
