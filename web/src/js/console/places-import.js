// 场所导入: the import page (residents-import.js) for the places register.
import { t } from '../i18n.js';
import { importPage } from './residents-import.js';

export async function render(ctx) {
  importPage(ctx, {
    url: '/api/v1/places/import',
    template: '/api/v1/places/import/template',
    templateName: '场所导入模板.xlsx',
    title: 'pimport.title',
    lead: 'pimport.lead',
    fileHint: 'pimport.fileHint',
    summary: (r) => t('pimport.done', { rows: r.rows, places: r.written, refused: r.refused }),
  });
}
