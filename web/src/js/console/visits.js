// Visits (走访), phone-sized for grid workers: the people whose visit is due (overdue first, then
// the soonest) → one person → log a visit (what was found, notes, photos from the camera) and,
// when a problem was found, report it in the same step: the event's number comes back at once.
// Also the visit log of the user's area (/console/visits/log). `visitLog(residentId)` is the
// visit log of one person, for the person card to mount.
import { t, lang } from '../i18n.js';
import { get, post, categories } from '../api.js';
import { h, put, loading, empty, errorBox, field, fmtTime, dueText } from '../dom.js';
import { photoPicker } from '../photos.js';

const FOUND = ['nothing', 'need', 'hazard', 'other'];

let tagsPromise = null;
/** The tag catalogue (cached for the page): code → tag. */
export function tagCatalogue() {
  if (!tagsPromise) {
    tagsPromise = get('tags').then((r) => new Map(r.items.map((x) => [x.code, x])));
    tagsPromise.catch(() => {
      tagsPromise = null;
    });
  }
  return tagsPromise;
}

/** A tag's name in the user's language. */
export function tagName(tags, code) {
  const x = tags.get(code);
  if (!x) return code;
  return lang === 'en' ? x.name_en : x.name_zh;
}

function tagChips(tags, codes) {
  return h('span', { class: 'tag-chips' }, codes.map((c) => h('span', { class: 'badge' }, tagName(tags, c))));
}

/** One visit, as a list item. */
function visitItem(v, withName) {
  return h('li', { class: 'visit', dataset: { id: v.id } },
    h('div', { class: 'top' },
      h('strong', withName ? `${v.resident_name} · ` : '', t(`visit.found.${v.found}`)),
      h('span', { class: 'muted' }, fmtTime(v.at))),
    v.notes ? h('p', v.notes) : null,
    v.photos.length ? h('div', { class: 'photos' }, v.photos.map((p) => h('a', { href: p.url, target: '_blank', rel: 'noopener' },
      h('img', { src: p.url, alt: t('visit.photo'), loading: 'lazy', width: 64, height: 64 })))) : null,
    h('small', { class: 'muted' }, v.user_name,
      v.event_id ? [' · ', h('a', { href: `/console/events/${v.event_id}` }, t('visit.event', { id: v.event_id }))] : null));
}

/**
 * The visit log of one resident (newest first, with "more"): an element to mount on the
 * person card. `visitLog(id).el`; `.reload()` after a new visit.
 */
export function visitLog(residentId, { withName = false } = {}) {
  const list = h('ul', { class: 'visit-log plain-list', id: 'visit-log' });
  const foot = h('div', { class: 'list-foot' });
  const el = h('section', { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', t('visit.log'))), h('div', { class: 'card-body' }, list, foot));
  async function load(cursor) {
    const r = await get('visits', { resident: residentId, cursor, limit: 20 });
    if (!cursor) put(list);
    if (!cursor && !r.items.length) put(list, h('li', { class: 'muted' }, t('visit.log.none')));
    r.items.forEach((v) => list.append(visitItem(v, withName)));
    put(foot, r.next_cursor ? h('button', { class: 'btn', type: 'button', onclick: () => load(r.next_cursor).catch((err) => put(foot, errorBox(err))) }, t('common.more')) : null);
  }
  const reload = () => load().catch((err) => put(list, h('li', errorBox(err))));
  reload();
  return { el, reload };
}

async function dueList(ctx) {
  const { content, query } = ctx;
  const within = ['0', '7', '30'].includes(query.get('within')) ? Number(query.get('within')) : 7;
  const [tags, due] = await Promise.all([tagCatalogue(), get('visits/due', { within_days: within })]);
  if (!ctx.isCurrent()) return;
  const seg = h('div', { class: 'seg', role: 'group', 'aria-label': t('visit.within') }, [0, 7, 30].map((d) =>
    h('button', { type: 'button', 'aria-pressed': String(d === within), onclick: () => ctx.navigate(`/console/visits?within=${d}`, { replace: true }) },
      d === 0 ? t('visit.overdueOnly') : t('visit.withinDays', { n: d }))));
  const items = due.items.map((p) => h('a', { class: 'order due-person', href: `/console/visits/${p.resident_id}`, dataset: { id: p.resident_id } },
    h('div', { class: 'top' }, h('strong', p.name),
      h('span', { class: p.overdue ? 'light light-red' : 'light light-green' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), dueText(p.due_at, due.now))),
    tagChips(tags, p.tags)));
  put(content, h('div', { class: 'grid-page visits-page' },
    h('div', { class: 'toolbar' }, seg, h('span', { class: 'spacer' }), h('a', { class: 'btn', href: '/console/visits/log' }, t('visit.log'))),
    h('section', { class: 'card', id: 'visits-due' },
      h('div', { class: 'card-head' }, h('h2', t('visit.due'), ` (${items.length})`)),
      h('div', { class: 'card-body' }, items.length ? items : empty(t('visit.due.none'), t('visit.due.hint'))))));
}

async function person(ctx, id) {
  const { content } = ctx;
  const [tags, mine, cats] = await Promise.all([tagCatalogue(), get(`residents/${id}/tags`), categories()]);
  if (!ctx.isCurrent()) return;
  const log = visitLog(id);
  // The person's tags, each with when its next visit falls due (redrawn after a visit).
  const tagLines = (r) => (r.items.length
    ? h('ul', { class: 'plain-list', id: 'visit-tags' }, r.items.map((x) => h('li', tagName(tags, x.tag), ' · ',
      x.next_visit_at ? dueText(x.next_visit_at) : t('visit.noVisits'))))
    : h('p', { class: 'muted' }, t('visit.noTags')));
  const tagList = h('div', { class: 'card-body' }, tagLines(mine));
  const found = h('select', { name: 'found', id: 'visit-found', required: true },
    FOUND.map((f) => h('option', { value: f }, t(`visit.found.${f}`))));
  const notes = h('textarea', { name: 'notes', id: 'visit-notes', rows: 3, maxlength: 2000 });
  const photos = photoPicker({ max: 4, label: t('photo.take') });
  const report = h('input', { type: 'checkbox', id: 'visit-report' });
  const category = h('select', { name: 'category_id', id: 'visit-category' },
    cats.items.filter((c) => c.active !== false).map((c) => h('option', { value: c.id }, c.name)));
  const description = h('textarea', { name: 'description', id: 'visit-description', rows: 3, maxlength: 4000 });
  const reportBox = h('div', { id: 'visit-report-box', hidden: true },
    field(t('col.category'), category), field(t('visit.problem'), description));
  report.addEventListener('change', () => {
    reportBox.hidden = !report.checked;
    description.required = report.checked;
  });
  const result = h('div', { id: 'visit-result', 'aria-live': 'polite' });
  const submit = h('button', { class: 'btn btn-primary big-btn', type: 'submit', id: 'visit-submit' }, t('visit.save'));
  const form = h('form', { class: 'card-body', novalidate: true },
    field(t('visit.found'), found), field(t('visit.notes'), notes),
    h('div', { class: 'field' }, h('span', { class: 'label' }, t('visit.photos')), photos.el),
    field(t('visit.reportProblem'), report, t('visit.reportProblem.hint'), { inline: true }),
    reportBox, submit, result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    submit.disabled = true;
    put(result);
    try {
      const body = { resident_id: id, found: found.value, notes: notes.value, photos: await photos.hashes() };
      if (report.checked) body.report = { category_id: Number(category.value), description: description.value };
      const v = await post('visits', body);
      put(result, h('div', { class: 'notice-bar ok', role: 'status' }, t('visit.saved'),
        v.event_id ? [' ', h('a', { href: `/console/events/${v.event_id}`, id: 'visit-event' }, t('visit.event', { id: v.event_id }))] : null));
      form.reset();
      photos.clear();
      reportBox.hidden = true;
      log.reload();
      get(`residents/${id}/tags`).then((r) => put(tagList, tagLines(r))).catch(() => {});
    } catch (err) {
      put(result, errorBox(err));
    } finally {
      submit.disabled = false;
    }
  });
  put(content, h('div', { class: 'grid-page visits-page' },
    h('a', { class: 'btn-link', href: '/console/visits' }, '‹ ', t('visit.back')),
    h('section', { class: 'card', id: 'visit-person' },
      h('div', { class: 'card-head' }, h('h2', { id: 'visit-name' }, mine.name)),
      tagList),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('visit.new'))), form),
    log.el));
}

async function areaLog(ctx) {
  const { content } = ctx;
  const list = h('ul', { class: 'visit-log plain-list', id: 'visit-log' });
  const foot = h('div', { class: 'list-foot' });
  async function load(cursor) {
    const r = await get('visits', { cursor, limit: 50 });
    if (!ctx.isCurrent()) return;
    if (!cursor && !r.items.length) put(list, h('li', empty(t('visit.log.none'))));
    r.items.forEach((v) => list.append(visitItem(v, true)));
    put(foot, r.next_cursor ? h('button', { class: 'btn', type: 'button', onclick: () => load(r.next_cursor).catch((err) => put(foot, errorBox(err))) }, t('common.more')) : null);
  }
  put(content, h('div', { class: 'grid-page visits-page' },
    h('a', { class: 'btn-link', href: '/console/visits' }, '‹ ', t('visit.due')),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('visit.log'))), h('div', { class: 'card-body' }, list, foot))));
  await load();
}

export async function render(ctx) {
  put(ctx.content, loading());
  const [which] = ctx.params;
  if (which === 'log') return areaLog(ctx);
  if (which) return person(ctx, Number(which));
  return dueList(ctx);
}
