// A photo picker: takes photos from the camera or the album, uploads each at once, shows thumbnails.
import { t } from './i18n.js';
import { h, put } from './dom.js';
import { uploadPhoto } from './api.js';
import { retryable } from './outbox.js';

let seq = 0;

/** Returns {el, hashes(), busy()}: `hashes()` resolves once every upload has finished. */
export function photoPicker({ max = 4, label = t('photo.take'), capture = true } = {}) {
  const items = []; // {promise, hash, url}
  const status = h('div', { class: 'hint', 'aria-live': 'polite' });
  const id = `photo-input-${++seq}`;
  const input = h('input', { type: 'file', id, accept: 'image/*', capture: capture ? 'environment' : null, multiple: max > 1, 'aria-label': label });
  const add = h('label', { class: 'photo-add', for: id }, h('span', { class: 'plus', 'aria-hidden': 'true' }, '+'), h('span', t('photo.add')), input);
  const row = h('div', { class: 'photo-picker' }, add);
  const el = h('div', row, status);

  function refresh() {
    add.hidden = items.length >= max;
  }

  input.addEventListener('change', () => {
    const files = Array.from(input.files || []).slice(0, max - items.length);
    input.value = '';
    for (const file of files) {
      const url = URL.createObjectURL(file);
      const item = { hash: null, url, file };
      const remove = h('button', { type: 'button', 'aria-label': t('photo.remove'), title: t('photo.remove') }, '×');
      const thumb = h('div', { class: 'photo-thumb' }, h('img', { src: url, alt: file.name || t('photo.add') }), remove);
      remove.addEventListener('click', () => {
        items.splice(items.indexOf(item), 1);
        thumb.remove();
        URL.revokeObjectURL(url);
        refresh();
        add.querySelector('input').focus();
      });
      row.insertBefore(thumb, add);
      status.textContent = t('photo.uploading');
      item.promise = uploadPhoto(file).then(
        (r) => {
          item.hash = r.hash;
          thumb.dataset.hash = r.hash;
          if (items.every((i) => i.hash || i.failed)) status.textContent = '';
        },
        (err) => {
          item.failed = true;
          if (retryable(err)) {
            // No signal: the photo goes with the report when it is sent from the outbox.
            status.textContent = t('photo.later');
          } else {
            thumb.style.outline = '2px solid #c62828';
            status.textContent = t('photo.failed', { message: err.describe ? err.describe() : err.message });
          }
          throw err;
        });
      // hashes() reads the outcome later; an early failure is not an unhandled rejection.
      item.promise.catch(() => {});
      items.push(item);
    }
    refresh();
  });

  return {
    el,
    input,
    async hashes() {
      await Promise.all(items.map((i) => i.promise));
      return items.map((i) => i.hash).filter(Boolean);
    },
    /** The picked files, for a report kept in the outbox. */
    files: () => items.map((i) => i.file),
    clear() {
      items.length = 0;
      for (const th of row.querySelectorAll('.photo-thumb')) th.remove();
      put(status);
      refresh();
    },
    count: () => items.length,
  };
}
