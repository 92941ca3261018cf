// Event ↔ case on the work order's page: the case an event became (a link), and for the
// dispatchers of its centre the move that turns an event of the 矛盾纠纷 category into a case
// (POST /events/{id}/dispute). The server decides; a refusal shows in the dialog.
import { t } from '../i18n.js';
import { post } from '../api.js';
import { h, field, formDialog, toast } from '../dom.js';
import { disputeTypes } from './disputes.js';

/** The category code the server converts from (and its children). */
const DISPUTE_CATEGORY = 'dispute';

/** True if the event's category is 矛盾纠纷 or under it. */
export function isDisputeCategory(ev, cats) {
  for (let c = cats.byId.get(ev.category_id), i = 0; c && i < 16; c = cats.byId.get(c.parent_id), i++) {
    if (c.code === DISPUTE_CATEGORY) return true;
  }
  return false;
}

/** A line of the event's facts naming its case, or null. */
export function disputeFact(ev) {
  if (!ev.dispute_id) return null;
  return h('div', { dataset: { fact: 'dispute' } }, h('dt', t('eventDispute.case')),
    h('dd', h('a', { href: `/console/disputes/${ev.dispute_id}`, id: 'event-dispute' }, t('eventDispute.open', { id: ev.dispute_id }))));
}

/** The convert button, when this user might convert this event; `done(caseId)` after. */
export function convertButton(ev, cats, me, done) {
  const may = ['dispatcher', 'admin'].includes(me.role) && !ev.dispute_id
    && ['reported', 'accepted'].includes(ev.state) && isDisputeCategory(ev, cats);
  if (!may) return null;
  return h('button', { type: 'button', class: 'btn', id: 'event-to-dispute', onclick: async () => {
    const types = await disputeTypes();
    const r = await formDialog({
      title: t('eventDispute.title', { id: ev.id }),
      body: h('div', h('p', t('eventDispute.lead')),
        field(t('dispute.type'), h('select', { name: 'type' }, h('option', { value: '' }, t('eventDispute.typeDefault')),
          types.items.map((x) => h('option', { value: x.code }, types.name(x.code)))))),
      submitLabel: t('eventDispute.submit'),
      onSubmit: (f) => post(`events/${ev.id}/dispute`, { type: f.elements.type.value || null }),
    });
    if (r) {
      toast(t('eventDispute.done', { number: r.number || `#${r.id}` }));
      done(r.id);
    }
  } }, t('eventDispute.button'));
}
