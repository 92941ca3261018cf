// 村务公开统计: the figures of the villages' affairs in the open, per village of the user's area
// and rolled up — the books (posted, expenses backed by an invoice image, waiting), the
// villagers' questions (answered on time, open, supervised), the notices, the contracts' flags
// the points, the consultations and the legislative opinions of the villages' residents.
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, put, loading, empty, errorBox, fmtNum, fmtPct } from '../dom.js';

const COLUMNS = [
  ['ledger', 'posted'], ['ledger', 'invoiced'], ['ledger', 'waiting'],
  ['questions', 'asked'], ['questions', 'on_time'], ['questions', 'open'], ['questions', 'supervised'],
  ['notices', 'published'], ['contracts', 'contracts'], ['contracts', 'open'], ['contracts', 'cleaned'],
  ['points', 'awarded'], ['points', 'redeemed'],
  ['consultations', 'topics'], ['consultations', 'concluded'], ['opinions', 'received'], ['opinions', 'adopted'],
];

export async function render(ctx) {
  const { content, query } = ctx;
  const status = h('div');
  const table = h('table', { class: 'data responsive', id: 'affairs-figures' });
  put(content, h('section', { class: 'card' }, h('div', { class: 'card-body' }, h('p', { class: 'muted' }, t('affairs.lead'))), status, h('div', { class: 'table-wrap' }, table)));
  put(status, loading());
  try {
    const f = await get('figures/village-affairs', query.get('node') ? { node: query.get('node') } : {});
    if (!f.villages.length) {
      put(status, empty(t('affairs.none')));
      return undefined;
    }
    put(status);
    const cell = (row, [g, k]) => {
      const n = row[g][k];
      if (g === 'ledger' && k === 'invoiced') return h('td', { class: 'num' }, `${fmtNum(n)} / ${fmtNum(row.ledger.expenses)}`);
      if (g === 'questions' && k === 'on_time') return h('td', { class: 'num' }, row.questions.answered ? fmtPct(n / row.questions.answered) : '—');
      return h('td', { class: 'num' }, fmtNum(n));
    };
    put(table,
      h('thead', h('tr', h('th', { scope: 'col' }, t('ledger.village')), COLUMNS.map(([g, k]) => h('th', { scope: 'col' }, t(`affairs.${g}.${k}`))))),
      h('tbody', f.villages.map((v) => h('tr', { dataset: { code: v.code } }, h('th', { scope: 'row' }, v.name || v.code), COLUMNS.map((c) => cell(v, c))))),
      h('tfoot', h('tr', h('th', { scope: 'row' }, t('ledger.total')), COLUMNS.map((c) => cell(f.total, c)))));
  } catch (err) {
    put(status, errorBox(err, () => render(ctx)));
  }
  return undefined;
}
