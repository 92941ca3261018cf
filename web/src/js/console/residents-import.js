// 居民导入: choose an .xlsx or CSV file and a mode, upload it with a progress bar
// (XMLHttpRequest reports upload progress; fetch does not), then the report as a table of
// row / column / reason. The template downloads from the same page. The page is every
// register's import (`importPage`): places use it too.
import { t, has } from '../i18n.js';
import { ApiError, csrfToken } from '../api.js';
import { h, put, field, icon } from '../dom.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** POSTs `file` to the import with upload progress; resolves to the report, rejects with ApiError. */
function upload(url, file, query, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${url}?${query}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', file.name.toLowerCase().endsWith('.csv') ? 'text/csv' : XLSX);
    xhr.setRequestHeader('X-CSRF-Token', csrfToken());
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, { message: 'network' }));
    xhr.onload = () => {
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = { message: xhr.responseText.slice(0, 200) };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body));
    };
    xhr.send(file);
  });
}

/** A bad row's reason in the user's language: by its key and values, else as the server said it. */
function rowReason(e) {
  const key = `reason.${e.reason_key}`;
  return e.reason_key && has(key) ? t(key, { ...(e.params || {}), field: e.column }) : e.reason;
}

function reportTable(report) {
  const errors = report.errors || [];
  if (!errors.length) return null;
  return h('div', { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', t('rimport.errors', { n: report.errors_total }))),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive', id: 'rimport-errors' },
      h('thead', h('tr', ['rimport.row', 'rimport.column', 'rimport.reason'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', errors.map((e) => h('tr', {},
        h('td', { 'data-label': t('rimport.row'), class: 'mono' }, String(e.row)),
        h('td', { 'data-label': t('rimport.column') }, e.column),
        h('td', { 'data-label': t('rimport.reason'), title: e.reason }, rowReason(e))))))));
}

/** The residents' import. */
export async function render(ctx) {
  importPage(ctx, {
    url: '/api/v1/residents/import',
    template: '/api/v1/residents/import/template',
    templateName: '居民导入模板.xlsx',
    title: 'rimport.title',
    lead: 'rimport.lead',
    fileHint: 'rimport.fileHint',
    summary: (r) => t('rimport.done', { rows: r.rows, residents: r.residents, households: r.households, buildings: r.buildings, houses: r.houses, refused: r.refused }),
  });
}

/**
 * An import page: `cfg` names the upload and template URLs, the template's file name, the
 * i18n keys of the title, lead and file hint, and how a report is summed up.
 */
export function importPage(ctx, cfg) {
  const input = h('input', { type: 'file', id: 'rimport-file', accept: `.csv,.xlsx,text/csv,${XLSX}`, required: true });
  const mode = h('select', { name: 'mode', id: 'rimport-mode' },
    h('option', { value: 'all_or_nothing' }, t('rimport.allOrNothing')),
    h('option', { value: 'valid_rows' }, t('rimport.validRows')));
  const bar = h('progress', { id: 'rimport-progress', max: 1, value: 0, hidden: true, 'aria-label': t('rimport.uploading') });
  const result = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, t('rimport.submit'));
  const form = h('form', { novalidate: true },
    h('div', { class: 'drop' }, field(t('rimport.file'), input, t(cfg.fileHint))),
    h('div', { class: 'form-grid' }, field(t('rimport.mode'), mode, t('rimport.modeHint'))),
    h('div', { style: { marginTop: '12px', display: 'flex', gap: '8px', alignItems: 'center' } },
      submit,
      h('a', { class: 'btn', href: cfg.template, download: cfg.templateName, id: 'rimport-template' }, icon('download', 16), t('rimport.template')),
      bar));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = input.files && input.files[0];
    if (!file) {
      input.focus();
      return;
    }
    submit.disabled = true;
    submit.classList.add('busy');
    bar.hidden = false;
    bar.value = 0;
    put(result);
    const q = new URLSearchParams({ mode: mode.value, name: file.name.slice(0, 200) });
    try {
      const r = await upload(cfg.url, file, q, (p) => { bar.value = p; });
      put(result, h('div', { class: r.refused ? 'form-error' : 'form-ok', role: 'status' }, cfg.summary(r)), reportTable(r));
    } catch (err) {
      const report = err.body && err.body.report;
      put(result, h('div', { class: 'form-error', role: 'alert' }, report ? t('rimport.refused', { refused: report.refused }) : err.describe()),
        report ? reportTable(report) : null);
    } finally {
      submit.disabled = false;
      submit.classList.remove('busy');
      bar.hidden = true;
    }
  });
  put(ctx.content,
    h('section', { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', t(cfg.title))),
      h('p', { class: 'muted' }, t(cfg.lead)),
      form),
    result);
}
