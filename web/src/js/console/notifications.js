// Every notice of the user, newest first: what it is about, the order, when, read or not;
// mark one or all read. New notices from the live stream appear on top without a reload.
import { t } from '../i18n.js';
import { h, put, loading, empty, errorBox, fmtTime } from '../dom.js';
import { noticeText, noticeHref, listNotices, markRead, markAllRead } from '../notices.js';

export async function render(ctx) {
  const { content } = ctx;
  const head = h('div', { class: 'summary-row' });
  const list = h('ul', { class: 'notice-list page', id: 'notice-list' });
  const foot = h('div', { class: 'list-foot' });
  const body = h('div', { class: 'card' }, loading());
  put(content, head, body);
  let next = null;

  function item(n) {
    const readBtn = n.read ? null : h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
      const r = await markRead(n.id);
      n.read = true;
      li.replaceWith(item(n));
      setHead(r.unread);
    } }, t('bell.markRead'));
    const li = h('li', { class: n.read ? 'notice' : 'notice unread', dataset: { kind: n.kind, id: n.id } },
      h('span', { class: 'kind' }, t(`notice.kindName.${n.kind}`)),
      noticeHref(n) ? h('a', { href: noticeHref(n) }, noticeText(n)) : h('span', noticeText(n)),
      h('small', { class: 'muted' }, fmtTime(n.created_at)),
      h('span', { class: 'muted' }, t(n.read ? 'bell.read' : 'bell.unread')), readBtn);
    return li;
  }

  function setHead(unread) {
    put(head, h('span', { class: 'pill' }, t('bell.unreadCount', { n: unread })),
      unread ? h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
        await markAllRead();
        list.replaceChildren();
        await load();
      } }, t('bell.readAll')) : null);
  }

  async function load(before) {
    try {
      const r = await listNotices({ limit: 30, before });
      if (!ctx.isCurrent()) return;
      next = r.next_before;
      setHead(r.unread);
      if (!before && !r.items.length) {
        put(body, empty(t('bell.none'), t('bell.noneHint')));
        return;
      }
      if (!before) put(body, list, foot);
      list.append(...r.items.map(item));
      put(foot, next ? h('button', { class: 'btn', type: 'button', onclick: () => load(next) }, t('common.more')) : null);
    } catch (err) {
      put(body, errorBox(err, () => load(before)));
    }
  }

  const live = (e) => {
    if (!list.isConnected) return load();
    list.prepend(item(e.detail));
  };
  window.addEventListener('shanzhi:notice', live);
  await load();
  return () => window.removeEventListener('shanzhi:notice', live);
}
