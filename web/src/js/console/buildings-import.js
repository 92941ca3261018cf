// 楼栋房屋导入: the import page (residents-import.js) for buildings and their houses.
import { t } from '../i18n.js';
import { importPage } from './residents-import.js';

export async function render(ctx) {
  importPage(ctx, {
    url: '/api/v1/buildings/import',
    template: '/api/v1/buildings/import/template',
    templateName: '楼栋房屋导入模板.xlsx',
    title: 'bimport.title',
    lead: 'bimport.lead',
    fileHint: 'bimport.fileHint',
    summary: (r) => t('bimport.done', { rows: r.rows, buildings: r.buildings ?? 0, houses: r.houses ?? 0, refused: r.refused }),
  });
}
