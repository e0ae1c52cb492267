// The seed's message log: each request and its answer (method, path, status, body), newest
// first, green for 2xx and red for everything else. At most LIMIT entries are kept.

import { $, el } from './dom.js';

const LIMIT = 200;

export function logExchange(method, path, status, body) {
  const ok = status >= 200 && status < 300;
  const when = new Date();
  const item = el('li', { class: 'entry ' + (ok ? 'ok' : 'err'), 'data-status': status, 'data-method': method },
    el('div', { class: 'line' },
      el('span', { class: 'label', text: 'Request:' }), ' ',
      el('strong', { class: 'method', text: method }), ' ',
      el('span', { class: 'path', text: path }),
      el('time', { class: 'when', datetime: when.toISOString(), text: when.toLocaleTimeString() })),
    el('div', { class: 'line' },
      el('span', { class: 'label', text: 'Response:' }), ' ',
      el('strong', { class: 'status', text: status === 0 ? '—' : status }), ' ',
      el('span', { class: 'body', text: body })));
  const log = $('log');
  log.prepend(item);
  while (log.children.length > LIMIT) log.lastElementChild.remove();
}

export function clearLog() {
  $('log').replaceChildren();
}
