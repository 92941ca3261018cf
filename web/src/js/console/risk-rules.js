// The rules that raise risk clues (预警规则) and the hours each colour level gets. Administrators
// add, change, enable and disable rules; the centre and leaders read them.
import { t } from '../i18n.js';
import { get, post, patch, categories as loadCategories } from '../api.js';
import { h, put, loading, errorBox, field, formDialog, toast } from '../dom.js';
import { TYPES, label } from './risks.js';

const categories = () => loadCategories().then((c) => c.items);

const KINDS = {
  category_burst: ['category_id', 'min_events', 'days'],
  dispute_flags: ['min_parties', 'violence'],
  repeat_reporter: ['min_reports', 'days'],
  dispute_rise: ['type_code', 'days', 'min_cases', 'rise_percent', 'before_spring_festival'],
};

function paramsText(rule, cats) {
  const p = rule.params || {};
  return Object.entries(p).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => {
    const value = k === 'category_id' ? ((cats.find((c) => c.id === v) || {}).name || v) : k === 'violence' ? (v ? t('common.yes') : t('common.no')) : v;
    return `${t(`risk.param.${k}`)}：${value}`;
  }).join('；');
}

async function ruleDialog(me, cats, types) {
  const kind = h('select', { name: 'kind', id: 'rule-kind' }, Object.keys(KINDS).map((k) => h('option', { value: k }, label('risk.kind', k))));
  const params = h('div', { id: 'rule-params' });
  const num = (name, min = 1) => h('input', { name, type: 'number', min, step: 1, id: `rule-${name}` });
  const controls = {
    category_id: () => h('select', { name: 'category_id', id: 'rule-category_id' }, cats.map((c) => h('option', { value: c.id }, c.name))),
    type_code: () => h('select', { name: 'type_code', id: 'rule-type_code' }, types.map((x) => h('option', { value: x.code }, document.documentElement.lang === 'en' ? x.name_en : x.name_zh))),
    violence: () => h('input', { name: 'violence', type: 'checkbox', id: 'rule-violence' }),
    rise_percent: () => num('rise_percent', 0),
  };
  const draw = () => put(params, KINDS[kind.value].map((p) => field(t(`risk.param.${p}`), (controls[p] || (() => num(p)))())));
  kind.addEventListener('change', draw);
  draw();
  const body = h('div',
    field(t('risk.f.ruleName'), h('input', { name: 'name', required: true, maxlength: 100 })),
    field(t('risk.f.kind'), kind), params,
    field(t('risk.f.node'), h('input', { name: 'node', required: true, value: me.scope_node || '' })),
    field(t('risk.f.type'), h('select', { name: 'risk_type' }, TYPES.map((x) => h('option', { value: x }, label('risk.type', x))))));
  return formDialog({
    title: t('risk.addRule'),
    body,
    submitLabel: t('common.save'),
    onSubmit: (f) => {
      const p = {};
      for (const name of KINDS[kind.value]) {
        const el = f.elements[name];
        if (name === 'violence') p[name] = el.checked;
        else if (name === 'type_code') p[name] = el.value;
        else if (el.value !== '') p[name] = Number(el.value);
      }
      return post('risk-rules', { name: f.elements.name.value.trim(), kind: kind.value, params: p, node: f.elements.node.value.trim(), risk_type: f.elements.risk_type.value });
    },
  });
}

export async function render(ctx) {
  const { content, me } = ctx;
  const box = h('div', { class: 'card-body' }, loading());
  const levels = h('div', { class: 'card-body' }, loading());
  const admin = me.role === 'admin';
  put(content,
    h('div', { class: 'event-head' }, h('a', { href: '/console/risks', class: 'btn btn-small' }, '← ', t('risk.back')), h('h1', t('risk.rules')),
      admin ? h('button', { class: 'btn btn-primary', type: 'button', id: 'rule-add', onclick: async () => {
        const [cats, types] = await Promise.all([categories(), get('dispute-types').then((r) => r.items || [])]);
        if (await ruleDialog(me, cats, types)) { toast(t('risk.ruleSaved')); load(); }
      } }, t('risk.addRule')) : null),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('risk.rules'))), box),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('risk.levelHours'))), levels));
  async function load() {
    try {
      const [rules, cats, hours] = await Promise.all([get('risk-rules'), categories(), get('risk-levels')]);
      if (!ctx.isCurrent()) return;
      put(box, rules.items.length ? h('table', { class: 'data responsive', id: 'rule-table' },
        h('thead', h('tr', ['risk.f.ruleName', 'risk.f.kind', 'risk.f.params', 'risk.f.node', 'risk.f.type', 'risk.f.enabled'].map((c) => h('th', { scope: 'col' }, t(c))))),
        h('tbody', rules.items.map((r) => h('tr', { dataset: { id: r.id } },
          h('td', r.name), h('td', label('risk.kind', r.kind)), h('td', paramsText(r, cats)), h('td', { class: 'mono' }, r.node_code),
          h('td', label('risk.type', r.risk_type)),
          h('td', admin ? h('input', { type: 'checkbox', checked: r.enabled, 'aria-label': t('risk.f.enabled'), onchange: async (e) => {
            try { await patch(`risk-rules/${r.id}`, { enabled: e.target.checked }); toast(t('risk.ruleSaved')); } catch (err) { toast(err.describe ? err.describe() : String(err), 'error'); e.target.checked = !e.target.checked; }
          } }) : (r.enabled ? t('common.yes') : t('common.no')))))))
        : h('p', { class: 'muted' }, t('risk.noRules')));
      put(levels, h('table', { class: 'data', id: 'level-table' },
        h('thead', h('tr', h('th', t('risk.f.level')), h('th', t('risk.f.hours')), h('th', t('risk.f.daily')))),
        h('tbody', hours.items.map((l) => h('tr', h('td', label('risk.level', l.level)), h('td', String(l.deadline_hours)), h('td', l.daily_report ? t('common.yes') : t('common.no')))))));
    } catch (err) {
      put(box, errorBox(err, load));
    }
  }
  await load();
}
