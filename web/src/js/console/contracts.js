// 合同管理 (一清三规范): a village's register of collective contracts — the list with each
// contract's flags (expired, term beyond the law's limit, price far below the village's median,
// no villagers' meeting), the clean-up counts of the village and of the user's area, the form
// the village committee and the town's agency register and change contracts with, and the
// contract's page where each flag's clean-up moves open → rectifying → cleaned.
import { t } from '../i18n.js';
import { api, get, post, uploadPhoto } from '../api.js';
import { h, put, loading, empty, errorBox, fmtTime, toast, field, formDialog } from '../dom.js';
import { duties, villages, holds } from './village.js';

const KINDS = ['land', 'forest', 'grassland', 'pond', 'building', 'other'];
const UNITS = ['mu', 'm2', 'piece'];
const FLAGS = ['expired', 'term_too_long', 'price_low', 'no_meeting_approval'];
const STATUSES = ['open', 'rectifying', 'cleaned'];
const yuan = (fen) => (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A flag as a badge: its name, coloured by its clean-up (closed flags: struck through). */
const flagBadge = (f) => h('span', {
  class: `badge cflag cstatus-${f.status}${f.open ? '' : ' cflag-closed'}`,
  title: `${t(`contract.flag.${f.flag}`)} · ${t(`contract.status.${f.status}`)}`,
}, t(`contract.flag.${f.flag}`), ' · ', t(`contract.status.${f.status}`));

/** May the user register and change the village's contracts? */
const writes = (me, held, village) => holds(held, village, 'committee') || holds(held, village, 'town_agency')
  || (me.role === 'admin' && !!me.scope_node && village.startsWith(me.scope_node.replace(/0+$/, '')));

export async function render(ctx) {
  const { params } = ctx;
  if (params && params[0]) return contractPage(ctx, Number(params[0]));
  return registerPage(ctx);
}

function summaryTable(s, id) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id },
    h('thead', h('tr', h('th', { scope: 'col' }, t('contract.col.flag')), STATUSES.map((st) => h('th', { scope: 'col', class: 'num' }, t(`contract.status.${st}`))))),
    h('tbody', s.flags.map((f) => h('tr', h('td', t(`contract.flag.${f.flag}`)), STATUSES.map((st) => h('td', { class: 'num' }, String(f[st])))))),
    h('tfoot', h('tr', h('th', { scope: 'row' }, t('contract.summaryTotal', { n: s.contracts })), h('td', { colspan: 3 }, t('contract.summaryFlagged', { n: s.flagged }))))));
}

async function registerPage(ctx) {
  const { content, me, query } = ctx;
  const held = await duties(me);
  const list = await villages(me, held);
  if (!list.length) {
    put(content, empty(t('contract.noVillage'), t('contract.noVillageHint')));
    return undefined;
  }
  const village = h('select', { id: 'contract-village' }, list.map(([code, name]) => h('option', { value: code }, `${name} (${code})`)));
  village.value = query.get('node') && list.some(([c]) => c === query.get('node')) ? query.get('node') : list[0][0];
  const opts = (all, prefix, allKey) => [h('option', { value: '' }, t(allKey)), all.map((v) => h('option', { value: v }, t(`${prefix}.${v}`)))];
  const kind = h('select', { id: 'contract-kind' }, opts(KINDS, 'contract.kind', 'contract.allKinds'));
  const flag = h('select', { id: 'contract-flag' }, opts(FLAGS, 'contract.flag', 'contract.allFlags'));
  const status = h('select', { id: 'contract-status' }, opts(STATUSES, 'contract.status', 'contract.allStatuses'));
  if (query.get('flag')) flag.value = query.get('flag');
  const tbody = h('tbody');
  const status_ = h('div');
  const more = h('button', { type: 'button', class: 'btn', id: 'contract-more', hidden: true }, t('contract.more'));
  const summaries = h('div', { id: 'contract-summary' });
  const actions = h('div', { style: { display: 'flex', gap: '8px', flexWrap: 'wrap' } });
  put(content,
    h('section', { class: 'card' }, h('div', { class: 'card-body' },
      h('div', { class: 'form-grid' }, field(t('ledger.village'), village), field(t('contract.col.kind'), kind), field(t('contract.col.flag'), flag), field(t('contract.col.status'), status)), actions)),
    h('section', { class: 'card' }, h('h2', t('contract.summary')), summaries),
    h('section', { class: 'card' }, h('h2', t('contract.list')), status_,
      h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive', id: 'contract-list' },
        h('thead', h('tr', ['contract.col.number', 'contract.col.asset', 'contract.col.kind', 'contract.col.counterparty', 'contract.col.term', 'contract.col.price', 'contract.col.flags'].map((c) => h('th', { scope: 'col' }, t(c))))), tbody)),
      more));
  let cursor = null;
  const row = (c) => h('tr', { dataset: { id: c.id } },
    h('td', h('a', { href: `/console/contracts/${c.id}` }, c.number)), h('td', c.asset_name),
    h('td', t(`contract.kind.${c.kind}`)), h('td', c.counterparty),
    h('td', `${c.start} — ${c.end}`), h('td', { class: 'num' }, `${yuan(c.yearly_fen)}`),
    h('td', { class: 'cflags' }, c.flags.some((f) => f.open) ? c.flags.filter((f) => f.open).map(flagBadge) : h('span', { class: 'muted' }, t('contract.noFlags'))));
  const page = async () => {
    const q = { node: village.value, limit: 50, ...(kind.value ? { kind: kind.value } : {}), ...(flag.value ? { flag: flag.value } : {}), ...(status.value ? { status: status.value } : {}), ...(cursor ? { before: cursor } : {}) };
    const p = await get('contracts', q);
    tbody.append(...p.items.map(row));
    cursor = p.next_cursor;
    more.hidden = !cursor;
    return p.items.length;
  };
  const load = async () => {
    put(status_, loading());
    put(tbody);
    cursor = null;
    try {
      const [n, mine, area] = await Promise.all([page(), get('contracts/summary', { node: village.value }), get('contracts/summary').catch(() => null)]);
      put(status_, n ? null : empty(t('contract.none')));
      put(summaries,
        h('h3', list.find(([c]) => c === village.value)?.[1] || village.value), summaryTable(mine, 'contract-summary-village'),
        area && area.node !== village.value ? [h('h3', t('contract.summaryArea')), summaryTable(area, 'contract-summary-area')] : null);
      put(actions, writes(me, held, village.value)
        ? h('button', { type: 'button', class: 'btn btn-primary', id: 'contract-new', onclick: () => contractForm(ctx, village.value, null) }, t('contract.new'))
        : null);
    } catch (err) {
      put(status_, errorBox(err, load));
    }
  };
  more.addEventListener('click', () => page().catch((err) => toast(err.describe ? err.describe() : String(err), 'error')));
  for (const el of [village, kind, flag, status]) el.addEventListener('change', load);
  await load();
  return undefined;
}

/** The contract form: new for `village`, or `contract` changed. */
async function contractForm(ctx, village, c) {
  const input = (name, attrs = {}) => h('input', { name, ...attrs });
  const number = input('number', { required: true, maxlength: 40 });
  const kind = h('select', { name: 'kind', required: true }, KINDS.map((k) => h('option', { value: k }, t(`contract.kind.${k}`))));
  const asset = input('asset_name', { required: true, maxlength: 100 });
  const location = input('location', { maxlength: 200 });
  const area = input('area', { required: true, inputmode: 'decimal', pattern: '[0-9]{1,12}(\\.[0-9]{1,2})?', size: 10 });
  const unit = h('select', { name: 'unit', required: true }, UNITS.map((u) => h('option', { value: u }, t(`contract.unit.${u}`))));
  const party = input('counterparty', { required: true, maxlength: 100 });
  const priv = input('private_party', { type: 'checkbox', checked: true });
  const start = input('start', { type: 'date', required: true });
  const end = input('end', { type: 'date', required: true });
  const price = input('yearly_price', { required: true, inputmode: 'decimal', pattern: '[0-9]{1,12}(\\.[0-9]{1,2})?', size: 12 });
  const terms = input('payment_terms', { maxlength: 200 });
  const meetingDate = input('meeting_date', { type: 'date' });
  const meetingRef = input('meeting_ref', { maxlength: 100 });
  const terminated = input('terminated', { type: 'checkbox' });
  const files = input('photos', { type: 'file', accept: 'image/jpeg,image/png,image/webp', multiple: true, id: 'contract-photo-files' });
  let photos = [];
  if (c) {
    number.value = c.number;
    kind.value = c.kind;
    asset.value = c.asset_name;
    location.value = c.location || '';
    area.value = c.area;
    unit.value = c.unit;
    party.value = c.counterparty;
    priv.checked = !!c.private_party;
    start.value = c.start;
    end.value = c.end;
    price.value = (c.yearly_fen / 100).toFixed(2);
    terms.value = c.payment_terms || '';
    meetingDate.value = c.meeting_date || '';
    meetingRef.value = c.meeting_ref || '';
    terminated.checked = !!c.terminated;
    photos = c.photos.map((p) => p.hash);
  }
  const body = h('div', { id: 'contract-form' },
    h('div', { class: 'form-grid' }, field(t('contract.col.number'), number), field(t('contract.col.kind'), kind)),
    field(t('contract.col.asset'), asset), field(t('contract.location'), location),
    h('div', { class: 'form-grid' }, field(t('contract.area'), area), field(t('contract.unitLabel'), unit)),
    field(t('contract.col.counterparty'), party), field(t('ledger.private'), priv, null, { inline: true }),
    h('div', { class: 'form-grid' }, field(t('contract.start'), start), field(t('contract.end'), end)),
    field(t('contract.yearlyPrice'), price, t('contract.priceHint')), field(t('contract.paymentTerms'), terms),
    h('div', { class: 'form-grid' }, field(t('contract.meetingDate'), meetingDate, t('contract.meetingHint')), field(t('contract.meetingRef'), meetingRef)),
    field(t('contract.terminated'), terminated, null, { inline: true }),
    field(t('contract.photos'), files), h('p', { class: 'muted' }, photos.length ? t('contract.photosKept', { n: photos.length }) : ''));
  const saved = await formDialog({
    title: c ? t('contract.edit') : t('contract.new'),
    body,
    submitLabel: t('ledger.save'),
    onSubmit: async () => {
      for (const f of files.files) photos.push((await uploadPhoto(f)).hash);
      files.value = '';
      const opt = (el) => el.value.trim() || null;
      const b = {
        number: number.value.trim(), kind: kind.value, asset_name: asset.value.trim(), location: opt(location),
        area: area.value.trim(), unit: unit.value, counterparty: party.value.trim(), private_party: priv.checked,
        start: start.value, end: end.value, yearly_price: price.value.trim(), payment_terms: opt(terms),
        meeting_date: opt(meetingDate), meeting_ref: opt(meetingRef), terminated: terminated.checked, photos,
      };
      return c
        ? api(`contracts/${c.id}`, { method: 'PUT', body: { ...b, version: c.version } })
        : post('contracts', { node: village, ...b });
    },
  });
  if (saved) {
    toast(t('contract.saved'));
    ctx.navigate(`/console/contracts/${saved.id}`);
  }
}

async function contractPage(ctx, id) {
  const { content, me } = ctx;
  const [c, held] = await Promise.all([get(`contracts/${id}`), duties(me)]);
  ctx.setTitle(`${t('nav.contracts')} · ${c.number}`);
  const mayWrite = writes(me, held, c.node);
  const move = async (f, to) => {
    const needNote = to === 'cleaned' || f.status === 'cleaned';
    let note = null;
    const input = h('textarea', { name: 'note', required: needNote, maxlength: 500, rows: 3 });
    const ok = await formDialog({
      title: `${t(`contract.flag.${f.flag}`)} → ${t(`contract.status.${to}`)}`,
      body: field(t('contract.note'), input, needNote ? t('contract.noteHint') : null),
      onSubmit: () => { note = input.value.trim() || null; },
    });
    if (!ok) return;
    try {
      await post(`contracts/${id}/flags/${f.flag}`, { status: to, ...(note ? { note } : {}) });
      toast(t('contract.moved'));
      await contractPage(ctx, id);
    } catch (err) {
      toast(err.describe ? err.describe() : String(err), 'error');
    }
  };
  const nexts = { open: ['rectifying', 'cleaned'], rectifying: ['cleaned'], cleaned: ['rectifying'] };
  const flagRow = (f) => h('li', { class: 'cflag-row', dataset: { flag: f.flag } },
    flagBadge(f), ' ',
    h('span', { class: 'muted' }, f.open ? t('contract.raisedAt', { at: fmtTime(f.raised_at) }) : t('contract.closedAt', { at: fmtTime(f.closed_at) })),
    f.note ? h('div', { class: 'muted' }, f.note) : null,
    f.open && mayWrite ? h('div', { class: 'cflag-actions' },
      nexts[f.status].map((to) => h('button', { type: 'button', class: to === 'cleaned' ? 'btn btn-small btn-primary' : 'btn btn-small', dataset: { to }, onclick: () => move(f, to) }, t(`contract.to.${to}`)))) : null);
  const kv = (k, v) => [h('dt', t(k)), h('dd', v ?? '—')];
  put(content,
    h('p', h('a', { href: `/console/contracts?node=${c.node}` }, '← ', t('contract.back'))),
    h('section', { class: 'card', id: 'contract' }, h('div', { class: 'card-body' },
      h('h2', `${c.number} · ${c.asset_name}`, c.terminated ? [' ', h('span', { class: 'badge' }, t('contract.terminated'))] : null),
      h('dl', { class: 'kv' },
        kv('ledger.village', c.node_name || c.node), kv('contract.col.kind', t(`contract.kind.${c.kind}`)), kv('contract.location', c.location),
        kv('contract.area', `${c.area} ${t(`contract.unit.${c.unit}`)}`), kv('contract.col.counterparty', c.counterparty),
        kv('contract.col.term', `${c.start} — ${c.end}`), kv('contract.yearlyPrice', `¥${yuan(c.yearly_fen)}`),
        kv('contract.unitPrice', c.unit_price_fen == null ? null : `¥${yuan(c.unit_price_fen)} / ${t(`contract.unit.${c.unit}`)}`),
        kv('contract.paymentTerms', c.payment_terms), kv('contract.meetingDate', c.meeting_date), kv('contract.meetingRef', c.meeting_ref)),
      mayWrite ? h('button', { type: 'button', class: 'btn', id: 'contract-edit', onclick: () => contractForm(ctx, c.node, c) }, t('contract.edit')) : null)),
    h('section', { class: 'card', id: 'contract-flags' }, h('div', { class: 'card-body' }, h('h2', t('contract.flags')),
      c.flags.length ? h('ul', { class: 'cflag-list' }, c.flags.map(flagRow)) : h('p', { class: 'muted' }, t('contract.noFlags')))),
    c.photos.length ? h('section', { class: 'card' }, h('h2', t('contract.photos')),
      h('div', { class: 'photos', id: 'contract-photos' }, c.photos.map((p) => h('a', { href: p.url, target: '_blank', rel: 'noopener' }, h('img', { src: p.url, alt: t('contract.photos'), loading: 'lazy' }))))) : null,
    h('section', { class: 'card' }, h('h2', t('ledger.timeline')), h('ol', { class: 'timeline' }, c.timeline.map((l) => h('li',
      h('strong', t(`contract.act.${l.action}`)), l.data && l.data.flag ? ` · ${t(`contract.flag.${l.data.flag}`)}` : '',
      l.action === 'cleanup' ? ` → ${t(`contract.status.${l.to}`)}` : '', ' · ', fmtTime(l.at),
      l.note ? h('div', { class: 'muted' }, l.note) : null)))));
  return undefined;
}
