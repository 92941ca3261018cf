// 公示公告 (四务公开): the published notices of the citizen's villages — party, village, finance
// and service affairs — pinned first, each open to questions (我要监督).
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, put, empty, fmtTime } from '../dom.js';
import { superviseButton } from './questions.js';

const KINDS = ['party', 'village', 'finance', 'service', 'rules', 'powers'];

export async function disclosuresPage(content, me) {
  if (!me || me.role !== 'citizen') {
    put(content, h('h2', t('portal.notices')), empty(t('pnotice.staff'), null, h('a', { class: 'btn', href: me ? '/console/disclosures' : '/m/login?next=/m/notices' }, t(me ? 'portal.staff' : 'portal.login'))));
    return;
  }
  const kind = new URLSearchParams(location.search).get('kind');
  const list = h('div', { id: 'my-notices' });
  const more = h('button', { type: 'button', class: 'btn btn-block', hidden: true }, t('pledger.more'));
  let cursor = null;
  const article = (d) => {
    const a = h('article', { class: `p-notice${d.pinned ? ' p-notice-pinned' : ''}`, dataset: { id: d.id } },
      h('h3', d.pinned ? h('span', { class: 'badge' }, t('pnotice.pinned')) : null, d.pinned ? ' ' : null, d.title),
      h('p', { class: 'muted', style: { fontSize: '12px' } }, [t(`pnotice.kind.${d.kind}`), d.node_name, fmtTime(d.published_at)].filter(Boolean).join(' · ')),
      h('p', { class: 'p-notice-body' }, d.body));
    a.append(superviseButton(a, 'disclosure', d.id));
    return a;
  };
  const load = async () => {
    more.disabled = true;
    try {
      const page = await get('me/disclosures', { limit: 20, ...(kind ? { kind } : {}), ...(cursor ? { before: cursor } : {}) });
      list.append(...page.items.map(article));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      return page.items.length;
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', () => load());
  const n = await load();
  const chip = (k) => h('a', { class: 'chip', href: k ? `/m/notices?kind=${k}` : '/m/notices', 'aria-current': (k || null) === kind ? 'page' : null }, k ? t(`pnotice.kind.${k}`) : t('pnotice.all'));
  put(content, h('section', { class: 'p-card' }, h('h2', t('portal.notices')),
    h('nav', { class: 'p-chips', 'aria-label': t('pnotice.kinds') }, chip(null), KINDS.map(chip)),
    n ? list : empty(t('pnotice.none'), t('pnotice.noneHint')), more));
}
