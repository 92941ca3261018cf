// Notices (通知) for the console's bell and the portal's 消息: their words in the reader's
// language (the server sends a stable kind plus parameters), and the live stream that keeps the
// count and the lists current without a reload.
import { t, has } from './i18n.js';
import { get, post } from './api.js';
import { fmtTime } from './dom.js';

/** The sentence for one notice. */
export function noticeText(n) {
  const p = { id: n.event_id, ...(n.params || {}) };
  if ((n.kind === 'supervise' || n.kind === 'dispute_supervise') && p.level) p.level = t(`notice.level.${p.level}`);
  if (p.number === undefined) p.number = p.dispute_id ? `#${p.dispute_id}` : '';
  if (n.kind === 'summon') {
    p.lead = p.lead ? t('notice.lead') : '';
    // When and where to report, if the dispatcher said so.
    p.brief = [p.report_by ? t('notice.summon.by', { time: fmtTime(p.report_by) }) : '', p.place ? t('notice.summon.at', { place: p.place }) : '']
      .filter(Boolean).join(t('notice.summon.sep'));
    if (p.brief) p.brief = `${t('notice.summon.sep')}${p.brief}`;
  }
  if (n.kind === 'extension_decided') p.answer = t(p.approve ? 'notice.approved' : 'notice.refused');
  if (n.kind === 'dispute_step' && p.state) p.state = t(`dstate.${p.state}`);
  if (n.kind === 'correction_decided') {
    p.answer = t(p.accept ? 'correction.state.accepted' : 'correction.state.rejected');
    p.reason = p.reason ? ` (${p.reason})` : '';
  }
  if (p.level && has(`risk.level.${p.level}`)) p.levelName = t(`risk.level.${p.level}`);
  else p.levelName = '';
  if (n.kind === 'risk_lag' && p.day) p.day = `${String(p.day).slice(0, 4)}-${String(p.day).slice(4, 6)}-${String(p.day).slice(6)}`;
  if (p.reason === undefined) p.reason = '';
  if (p.department === undefined || p.department === null) p.department = '';
  const key = `notice.${n.kind}`;
  return has(key) ? t(key, p) : n.message;
}

/** Where a notice leads in the console: its work order, risk, warning or dispute case; null if nowhere. */
export function noticeHref(n) {
  if (n.event_id) return `/console/events/${n.event_id}`;
  const p = n.params || {};
  if (p.risk_id) return `/console/risks/${p.risk_id}`;
  if (p.warning_id) return '/console/warnings';
  if (n.kind === 'question_asked' || n.kind === 'question_supervise') return `/console/questions?node=${p.node}`;
  return p.dispute_id ? `/console/disputes/${p.dispute_id}` : null;
}

/** The reader's notices (a page), with the unread count. */
export const listNotices = (query = {}) => get('notifications', { limit: 20, ...query });
export const markRead = (id) => post(`notifications/${id}/read`);
export const markAllRead = () => post('notifications/read_all');

/**
 * Follows the live stream: `onUnread(count)` on connect and after each change, `onNotice(n)`
 * for each new notice. The browser reconnects by itself; returns a function that stops it.
 */
export function followNotices({ onUnread, onNotice }) {
  if (typeof EventSource === 'undefined') return () => {};
  const es = new EventSource('/api/v1/notifications/stream');
  es.addEventListener('unread', (e) => {
    try {
      onUnread && onUnread(JSON.parse(e.data).unread);
    } catch {
      /* a malformed event changes nothing */
    }
  });
  es.addEventListener('notification', (e) => {
    try {
      onNotice && onNotice(JSON.parse(e.data));
    } catch {
      /* idem */
    }
  });
  return () => es.close();
}
