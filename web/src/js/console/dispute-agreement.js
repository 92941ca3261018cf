// The mediation agreement (调解协议书) as a printable A4 sheet, built from the JSON route
// GET /disputes/{id}/agreement, with the .docx download beside it. ID numbers come masked; the
// assigned mediator or the centre may ask for the copy to be signed, which states a purpose and
// is audited by the server (the same rule as the .docx).
import { t } from '../i18n.js';
import { get, ApiError } from '../api.js';
import { h, put, empty, field, formDialog } from '../dom.js';

const ROLE = { applicant: '申请人', respondent: '被申请人', other: '其他当事人' };

/** 2026-12-02 → 2026年12月2日, as the form writes it (the form is always in Chinese). */
export function chineseDate(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '');
  return m ? `${Number(m[1])}年${Number(m[2])}月${Number(m[3])}日` : iso || '';
}

/** The sheet itself: one <article> laid out like the paper form. */
export function agreementSheet(a) {
  const p = (text, cls) => h('p', { class: cls || '' }, text);
  return h('article', { class: 'agreement-sheet', lang: 'zh-CN', id: 'agreement-sheet' },
    h('h1', '人民调解协议书'),
    p(`编号：${a.number}`, 'right'),
    h('h2', '当事人'),
    h('table', { class: 'agreement-parties' },
      h('thead', h('tr', ['身份', '姓名', '性别', '公民身份号码', '住址'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', a.parties.map((x) => h('tr',
        h('td', ROLE[x.role] || x.role), h('td', x.name), h('td', x.gender || ''),
        h('td', { class: 'mono' }, x.id_number || ''), h('td', x.address || ''))))),
    h('h2', '纠纷主要事实、争议事项'),
    p(a.facts),
    h('h2', '经调解，当事人自愿达成如下协议：'),
    h('ol', { class: 'agreement-terms' }, a.terms.map((x) => h('li', x))),
    h('h2', '履行方式、时限'),
    p(a.performance),
    p(`本协议一式${a.parties.length + 1}份，当事人、调解组织各持一份，自各方当事人签名（盖章或按指印）、人民调解员签名并加盖调解组织印章之日起生效。`),
    h('h2', '当事人签名（盖章或按指印）'),
    a.parties.map((x) => p(`${ROLE[x.role] || x.role}：${x.name}　　签名：＿＿＿＿＿＿＿＿　　日期：＿＿＿＿年＿＿月＿＿日`, 'sign')),
    h('h2', '人民调解员签名'),
    a.mediators.map((m) => p(`${m}　　签名：＿＿＿＿＿＿＿＿`, 'sign')),
    p(`${a.centre}（印章）`, 'right seal'),
    p(chineseDate(a.date), 'right'));
}

/** Asks for the purpose of revealing the ID numbers for signature. */
function askPurpose(id) {
  return formDialog({
    title: t('agreement.reveal.title'),
    body: field(t('agreement.reveal.purpose'), h('textarea', { name: 'purpose', required: true, maxlength: 200, rows: 2 }), t('agreement.reveal.hint')),
    submitLabel: t('agreement.reveal.submit'),
    onSubmit: async (form) => {
      const purpose = form.elements.purpose.value.trim();
      return { purpose, agreement: await get(`disputes/${id}/agreement`, { purpose }) };
    },
  });
}

export async function render(ctx) {
  const { content } = ctx;
  const id = Number(ctx.params[0]);
  ctx.setTitle(t('agreement.title', { id }));
  let a;
  try {
    a = await get(`disputes/${id}/agreement`);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 409)) {
      put(content, empty(err.status === 404 ? t('err.404') : t('agreement.none'), null,
        h('a', { class: 'btn', href: `/console/disputes/${id}` }, t('dispute.back'))));
      return;
    }
    throw err;
  }
  let purpose = null;
  const sheetHost = h('div', { class: 'agreement-host' }, agreementSheet(a));
  const docx = h('a', { class: 'btn', id: 'agreement-docx', href: `/api/v1/disputes/${id}/agreement.docx`, download: '' }, '⤓ ', t('agreement.docx'));
  const revealed = h('p', { class: 'notice-bar warn', hidden: true, id: 'agreement-revealed' }, t('agreement.revealed'));
  const reveal = h('button', { type: 'button', class: 'btn', id: 'agreement-reveal', onclick: async () => {
    const r = await askPurpose(id);
    if (!r) return;
    purpose = r.purpose;
    put(sheetHost, agreementSheet(r.agreement));
    docx.href = `/api/v1/disputes/${id}/agreement.docx?${new URLSearchParams({ purpose })}`;
    revealed.hidden = false;
    reveal.hidden = true;
  } }, t('agreement.reveal'));
  put(content,
    h('div', { class: 'card-tools no-print agreement-tools' },
      h('a', { class: 'btn btn-small', href: `/console/disputes/${id}` }, '← ', t('dispute.back')),
      h('button', { type: 'button', class: 'btn btn-primary', id: 'agreement-print', onclick: () => window.print() }, t('agreement.print')),
      docx, a.can_reveal ? reveal : null),
    h('div', { class: 'no-print' }, revealed),
    sheetHost);
  // The revealed numbers live only in this page: leaving it drops them.
  return () => { purpose = null; };
}
