// The tag catalogue (关爱/关注对象): every tag with its visit interval (calendar days) and whether
// it puts people on the emergency roster. Administrators of the whole tree add tags and change
// them; of a builtin tag only the interval and "vulnerable".
import { t } from '../i18n.js';
import { get, post, patch } from '../api.js';
import { h, put, loading, errorBox, field, formDialog, toast } from '../dom.js';

function tagForm(tag) {
  const isNew = !tag;
  const builtin = tag && tag.builtin;
  const code = h('input', { name: 'code', id: 'tag-code', required: true, pattern: '[a-z][a-z0-9_]{1,39}', maxlength: 40, value: tag ? tag.code : '', disabled: !isNew, autocomplete: 'off' });
  const nameZh = h('input', { name: 'name_zh', id: 'tag-name-zh', required: true, maxlength: 100, value: tag ? tag.name_zh : '', disabled: builtin });
  const nameEn = h('input', { name: 'name_en', id: 'tag-name-en', required: true, maxlength: 100, value: tag ? tag.name_en : '', disabled: builtin });
  const kind = h('select', { name: 'kind', id: 'tag-kind', disabled: builtin },
    ['care', 'attention'].map((k) => h('option', { value: k, selected: tag && tag.kind === k }, t(`tag.kind.${k}`))));
  const days = h('input', { name: 'visit_days', id: 'tag-days', type: 'number', min: 1, max: 365, value: tag && tag.visit_days !== null ? tag.visit_days : '' });
  const vulnerable = h('input', { name: 'vulnerable', id: 'tag-vulnerable', type: 'checkbox', checked: !!(tag && tag.vulnerable) });
  const body = h('div', { class: 'form-grid' },
    field(t('tag.code'), code, isNew ? t('tag.code.hint') : null), field(t('tag.nameZh'), nameZh), field(t('tag.nameEn'), nameEn),
    field(t('tag.kind'), kind), field(t('tag.visitDays'), days, t('tag.visitDays.hint')),
    field(t('tag.vulnerable'), vulnerable, null, { inline: true }));
  const values = () => {
    const v = { visit_days: days.value ? Number(days.value) : null, vulnerable: vulnerable.checked };
    if (!builtin) Object.assign(v, { name_zh: nameZh.value.trim(), name_en: nameEn.value.trim(), kind: kind.value });
    if (isNew) v.code = code.value.trim();
    return v;
  };
  return { body, values };
}

export async function render(ctx) {
  const { content } = ctx;
  put(content, loading());
  async function draw() {
    const r = await get('tags');
    if (!ctx.isCurrent()) return;
    const edit = async (tag) => {
      const f = tagForm(tag);
      const ok = await formDialog({ title: tag ? t('tag.edit', { name: tag.name_zh }) : t('tag.add'), body: f.body,
        onSubmit: () => (tag ? patch(`tags/${tag.code}`, f.values()) : post('tags', f.values())) });
      if (ok) {
        toast(t('tag.saved'));
        draw().catch((err) => put(content, errorBox(err)));
      }
    };
    const rows = r.items.map((x) => h('tr', { dataset: { code: x.code } },
      h('td', { 'data-label': t('tag.code'), class: 'mono' }, x.code),
      h('td', { 'data-label': t('tag.name') }, x.name_zh, h('br'), h('small', { class: 'muted' }, x.name_en)),
      h('td', { 'data-label': t('tag.kind') }, t(`tag.kind.${x.kind}`)),
      h('td', { 'data-label': t('tag.visitDays') }, x.visit_days === null ? t('tag.noVisits') : t('tag.everyDays', { n: x.visit_days })),
      h('td', { 'data-label': t('tag.vulnerable') }, x.vulnerable ? t('common.yes') : t('common.no')),
      h('td', { 'data-label': t('tag.builtin') }, x.builtin ? t('tag.builtin') : t('tag.own')),
      h('td', h('button', { class: 'btn btn-small', type: 'button', onclick: () => edit(x) }, t('admin.edit')))));
    put(content,
      h('div', { class: 'toolbar' }, h('p', { class: 'muted' }, t('tag.intro')), h('span', { class: 'spacer' }),
        h('button', { class: 'btn btn-primary', type: 'button', id: 'tag-add', onclick: () => edit(null) }, t('tag.add'))),
      h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('nav.tags'))),
        h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive', id: 'tag-table' },
          h('thead', h('tr', ['tag.code', 'tag.name', 'tag.kind', 'tag.visitDays', 'tag.vulnerable', 'tag.builtin', 'tag.actions'].map((k) => h('th', { scope: 'col' }, t(k))))),
          h('tbody', rows)))));
  }
  await draw();
}
