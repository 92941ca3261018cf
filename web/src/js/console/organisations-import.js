// 组织导入: the import page (residents-import.js) for the organisations register.
import { t } from '../i18n.js';
import { importPage } from './residents-import.js';

export async function render(ctx) {
  importPage(ctx, {
    url: '/api/v1/organisations/import',
    template: '/api/v1/organisations/import/template',
    templateName: '组织导入模板.xlsx',
    title: 'oimport.title',
    lead: 'oimport.lead',
    fileHint: 'oimport.fileHint',
    summary: (r) => t('oimport.done', { rows: r.rows, organisations: r.written, refused: r.refused }),
  });
}
