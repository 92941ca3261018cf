// 预警信息: the warnings of the grids the citizen is registered in, newest first, and the two ways
// they also reach the citizen outside the app (a phone for SMS, an e-mail address), which the
// citizen sets here.
import { t } from '../i18n.js';
import { api, get } from '../api.js';
import { h, put, empty, fmtTime, toast } from '../dom.js';

export async function warningsPage(content, me) {
  if (me.role !== 'citizen') {
    put(content, h('h2', t('pwarning.title')), empty(t('pwarning.staff'), null, h('a', { class: 'btn', href: '/console/warnings' }, t('portal.staff'))));
    return;
  }
  const { items } = await get('me/warnings', { limit: 50 });
  const card = (w) => h('article', { class: `p-card p-warning`, id: `w-${w.id}` },
    h('div', { class: 'p-warning-head' },
      h('span', { class: `badge risk-${w.level}` }, t('pwarning.level', { level: t(`risk.level.${w.level}`) })),
      h('span', { class: 'muted' }, fmtTime(w.created_at))),
    h('h3', w.title),
    h('p', w.message),
    h('p', { class: 'muted', style: { fontSize: '12px' } }, w.number));
  put(content, h('h2', t('pwarning.title')),
    items.length ? h('div', { id: 'my-warnings' }, items.map(card)) : empty(t('pwarning.none'), t('pwarning.noneHint')),
    contactForm(me, () => warningsPage(content, me)));
  const target = location.hash && document.getElementById(location.hash.slice(1));
  if (target) target.scrollIntoView();
}

/** The citizen's phone (SMS) and e-mail address for warnings; each saved on its own. */
function contactForm(me, again) {
  const phone = h('input', { id: 'pw-phone', type: 'tel', inputmode: 'tel', autocomplete: 'tel', maxlength: 20, placeholder: me.phone || '' });
  const email = h('input', { id: 'pw-email', type: 'email', autocomplete: 'email', maxlength: 254, value: me.email || '' });
  const errorEl = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'p-card', id: 'pw-contact' },
    h('h2', t('pwarning.contact')),
    h('p', { class: 'p-note' }, t('pwarning.contactLead')),
    h('div', { class: 'field' }, h('label', { for: phone.id }, t('pwarning.phone'), me.phone ? h('span', { class: 'muted' }, ` (${t('pwarning.phoneNow', { phone: me.phone })})`) : null), phone),
    h('div', { class: 'field' }, h('label', { for: email.id }, t('pwarning.email')), email),
    errorEl,
    h('button', { class: 'btn btn-primary btn-block', type: 'submit', id: 'pw-save' }, t('pwarning.save')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errorEl.hidden = true;
    try {
      // An empty phone box keeps the phone (it is shown masked); the e-mail box is the address.
      if (phone.value.trim()) {
        const r = await api(`users/${me.id}/phone`, { method: 'PUT', body: { phone: phone.value.trim() } });
        me.phone = r.phone;
      }
      const r = await api(`users/${me.id}/email`, { method: 'PUT', body: { email: email.value.trim() || null } });
      me.email = r.email;
      toast(t('pwarning.saved'));
      await again();
    } catch (err) {
      errorEl.hidden = false;
      put(errorEl, err.describe ? err.describe() : String(err));
    }
  });
  return form;
}
