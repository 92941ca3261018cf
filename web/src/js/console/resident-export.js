// The register's export button: the residents of a node as .xlsx, masked; someone who may
// reveal can ask for plain ID numbers and phones by stating a purpose (the server checks the
// permission and audits every export). Mount with `exportButton(nodeCode)`.
import { t } from '../i18n.js';
import { h, formDialog, field, icon } from '../dom.js';

function download(url) {
  const a = h('a', { href: url, download: '' });
  document.body.append(a);
  a.click();
  a.remove();
}

/** A button that downloads the residents under `node` (a code, or a function giving the code
 * at the time of the click), masked, or revealed with a purpose. */
export function exportButton(node, { canReveal = false } = {}) {
  const btn = h('button', { type: 'button', class: 'btn', id: 'resident-export' }, icon('download', 16), t('rexport.button'));
  btn.addEventListener('click', async () => {
    const code = typeof node === 'function' ? node() : node;
    const base = `/api/v1/residents/export?node=${encodeURIComponent(code)}`;
    if (!canReveal) return download(base);
    const reveal = h('input', { type: 'checkbox', id: 'rexport-reveal' });
    const purpose = h('input', { id: 'rexport-purpose', maxlength: 200, autocomplete: 'off' });
    await formDialog({
      title: t('rexport.button'),
      body: h('div', {}, field(t('rexport.reveal'), reveal, t('rexport.revealHint'), { inline: true }), field(t('rexport.purpose'), purpose)),
      submitLabel: t('rexport.download'),
      onSubmit: async () => {
        if (reveal.checked && !purpose.value.trim()) {
          purpose.focus();
          throw new Error(t('rexport.purposeNeeded'));
        }
        download(reveal.checked ? `${base}&reveal=true&purpose=${encodeURIComponent(purpose.value.trim())}` : base);
        return true;
      },
    });
  });
  return btn;
}
