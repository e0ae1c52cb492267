// The seed's message log: each request and its answer (method, path, status, body), newest
// first, green for 2xx and red for everything else. At most LIMIT entries are kept. Beyond the
// seed, and only when there is one: the request's JSON body (POST /txn) and the answer's
// version (its X-KV-Version header, SPEC.md section 11), each on a line of its own.

import { $, el } from './dom.js';

const LIMIT = 200;

/** What a version means in an answer with this status. */
function versionNote(status) {
  if (status === 412) return ' (the key\'s current version; 0: absent)';
  return '';
}

export function logExchange(method, path, status, body, { version = null, requestBody = null } = {}) {
  const ok = status >= 200 && status < 300;
  const when = new Date();
  const hasVersion = version !== null && version !== undefined;
  const item = el('li', { class: 'entry ' + (ok ? 'ok' : 'err'), 'data-status': status, 'data-method': method,
    'data-version': hasVersion ? version : null },
    el('div', { class: 'line' },
      el('span', { class: 'label', text: 'Request:' }), ' ',
      el('strong', { class: 'method', text: method }), ' ',
      el('span', { class: 'path', text: path }),
      el('time', { class: 'when', datetime: when.toISOString(), text: when.toLocaleTimeString() })),
    requestBody === null ? null : el('div', { class: 'line' },
      el('span', { class: 'label', text: 'Body:' }), ' ',
      el('span', { class: 'reqbody', text: requestBody })),
    el('div', { class: 'line' },
      el('span', { class: 'label', text: 'Response:' }), ' ',
      el('strong', { class: 'status', text: status === 0 ? '—' : status }), ' ',
      el('span', { class: 'body', text: body })),
    hasVersion ? el('div', { class: 'line' },
      el('span', { class: 'label', text: 'Version:' }), ' ',
      el('strong', { class: 'version', text: version }),
      el('span', { class: 'vnote', text: versionNote(status) })) : null);
  const log = $('log');
  log.prepend(item);
  while (log.children.length > LIMIT) log.lastElementChild.remove();
}

export function clearLog() {
  $('log').replaceChildren();
}
