// The key browser: GET /api/keys?prefix=P&after=K&limit=N, one page at a time. "Next" follows
// the answer's `next`; "Previous" goes back through the cursors already seen. On the leader the
// keys are the cluster's, on a follower its own.

import { $, el, setText } from './dom.js';
import { query } from './lib.js';
import { getJson } from './net.js';

export function keyBrowser(onPick) {
  const cursors = [null]; // cursors[i] is the `after` of page i
  let page = 0;
  let next = null;
  let seq = 0;

  async function load() {
    const mine = ++seq;
    const prefix = $('prefix').value;
    const limit = $('limit').value;
    const path = '/api/keys?' + query({ prefix: prefix === '' ? undefined : prefix, after: cursors[page] ?? undefined, limit });
    const r = await getJson(path);
    if (mine !== seq) return; // a newer request is on its way
    const list = $('keys');
    if (!r.json) {
      list.replaceChildren();
      setText($('keys-note'), r.status === 401 ? 'This node wants credentials (401).' : 'Cannot list keys: ' + r.status + ' ' + r.body);
      $('keys-next').disabled = true;
      $('keys-prev').disabled = page === 0;
      return;
    }
    next = r.json.next;
    const items = r.json.keys.map((k) =>
      el('li', {}, el('button', { type: 'button', class: 'keylink', title: 'Use this key', text: k, on: { click: () => onPick(k) } })));
    list.replaceChildren(...items);
    const shown = r.json.keys.length;
    setText($('keys-note'), shown === 0
      ? (page === 0 ? 'No keys' + (prefix ? ' with this prefix.' : '.') : 'No more keys.')
      : 'Page ' + (page + 1) + ': ' + shown + ' key' + (shown === 1 ? '' : 's') + (prefix ? ' starting with the prefix' : '') + (next === null ? ', the last page.' : '.'));
    $('keys-next').disabled = next === null;
    $('keys-prev').disabled = page === 0;
  }

  $('keys-form').addEventListener('submit', (e) => {
    e.preventDefault();
    cursors.length = 1;
    page = 0;
    load();
  });
  $('keys-next').addEventListener('click', () => {
    if (next === null) return;
    cursors[page + 1] = next;
    cursors.length = page + 2;
    page++;
    load();
  });
  $('keys-prev').addEventListener('click', () => {
    if (page === 0) return;
    page--;
    load();
  });
  $('limit').addEventListener('change', () => {
    cursors.length = 1;
    page = 0;
    load();
  });
  $('keys-panel').hidden = false;
  load();
  return { refresh: load };
}
