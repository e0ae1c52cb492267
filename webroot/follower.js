// A follower's view: its prepared transactions with COMMIT and ABORT for each, its counters (log
// size, keys, epoch), its membership (state: joining, up, draining or evicted; the view; the
// copy of the keys it gains; SPEC.md section 10), and the keys changed by hand. From
// GET /api/status every second.
//
// A leader's transaction is decided with POST /commit?tx=T&epoch=E (or /abort), E being this
// follower's epoch; the hand-driven one with POST /commit or /abort and no tx, as in the seed.

import { $, el, every, setText } from './dom.js';
import { ago, bytes, query } from './lib.js';
import { getJson } from './net.js';

const POLL_MILLIS = 1000;

/** What each state means for a person looking at this follower, or '' for plain up. */
const STATE_NOTES = {
  new: 'Not a member yet: it registers with its leader.',
  joining: 'Joining: it copies the keys the ring gives it and takes writes meanwhile; it serves reads (its own key GETs) once the copy is complete.',
  draining: 'Draining: the leader is moving its keys to the other members; then it is evicted.',
  evicted: 'Evicted: it holds no keys and answers its own key GETs with 503 until it is restarted (or, when the leader evicted it for silence, until it registers again).',
};

/** The follower's `copy` status as text: how many keys it copied, and whether it still is. */
export function copyText(c) {
  if (!c) return '—';
  const what = c.keys + ' key' + (c.keys === 1 ? '' : 's') + ', ' + bytes(c.bytes);
  let text = c.running ? 'copying (round ' + c.round + '): ' + what + ' so far' : c.keys > 0 ? 'done: ' + what : 'nothing copied';
  if (c.problem) text += '; problem: ' + c.problem;
  return text;
}

export function followerView(onStatus, act) {
  for (const id of ['pending-panel', 'follower-panel']) $(id).hidden = false;
  let epoch = null;

  const stat = (name) => $('follower-stats').querySelector(`[data-stat="${name}"]`);

  function decide(tx, commit) {
    const verb = commit ? '/commit' : '/abort';
    const path = tx === 'manual' ? verb : verb + '?' + query({ tx, epoch });
    return act('POST', path);
  }

  function item(t) {
    const manual = t.tx === 'manual';
    const what = (manual ? 'the manual transaction' : 'transaction ' + t.tx) + ' on key ' + t.key;
    return el('li', { 'data-tx': t.tx, class: 'tx' + (manual ? ' manual' : '') },
      el('div', { class: 'txhead' },
        el('strong', { class: 'txid', text: manual ? 'manual' : 'tx ' + t.tx }), ' ',
        el('span', { class: 'op', text: t.op }), ' ',
        el('span', { class: 'since', 'data-since': t.since })),
      el('dl', { class: 'kv' },
        el('dt', { text: 'Key' }), el('dd', { class: 'key data', text: t.key }),
        t.op === 'PUT' ? el('dt', { text: 'Value' }) : null,
        t.op === 'PUT' ? el('dd', { class: 'value data', text: t.value ?? '' }) : null),
      el('div', { class: 'buttons' },
        el('button', { type: 'button', class: 'commit', 'aria-label': 'COMMIT ' + what, text: 'COMMIT', on: { click: () => decide(t.tx, true) } }),
        el('button', { type: 'button', class: 'abort', 'aria-label': 'ABORT ' + what, text: 'ABORT', on: { click: () => decide(t.tx, false) } })));
  }

  let shown = '';
  function renderPending(s, now) {
    const all = [];
    if (s.manual) all.push(s.manual);
    for (const t of [...(s.pending || [])].sort((a, b) => a.since - b.since)) all.push(t);
    const signature = JSON.stringify(all.map((t) => [t.tx, t.op, t.key, t.value ?? null]));
    const list = $('pending');
    if (signature !== shown) {
      // Rebuilt only when the set changes, so a focused button survives the refreshes.
      shown = signature;
      list.replaceChildren(...all.map(item));
    }
    for (const cell of list.querySelectorAll('.since')) {
      const since = Number(cell.dataset.since);
      setText(cell, ago(since, now));
      cell.title = new Date(since).toLocaleString();
    }
    $('pending').hidden = all.length === 0;
    $('pending-note').hidden = all.length !== 0;
  }

  function renderHand(keys) {
    const list = $('hand');
    const signature = JSON.stringify(keys);
    if (list.dataset.shown !== signature) {
      list.dataset.shown = signature;
      list.replaceChildren(...keys.map((k) => el('li', { class: 'data', text: k })));
    }
    $('hand-note').hidden = keys.length !== 0;
  }

  async function poll() {
    const r = await getJson('/api/status');
    onStatus(r);
    if (!r.json) {
      if (r.status === 401) setText($('pending-note'), 'Enter the cluster secret (Credentials, above) to see this follower.');
      return;
    }
    const s = r.json;
    epoch = s.epoch;
    const leaderLink = s.leader ? el('a', { href: 'http://' + s.leader + '/', text: s.leader }) : '—';
    const leaderCell = stat('leader');
    if (leaderCell.textContent !== (s.leader || '—')) leaderCell.replaceChildren(leaderLink);
    setText(stat('epoch'), s.epoch);
    setText(stat('state'), s.state ?? '—');
    stat('state').className = s.state && s.state !== 'up' ? 'warn' : '';
    setText(stat('view'), s.view ?? '—');
    setText(stat('version'), s.version ?? '—');
    setText(stat('copy'), copyText(s.copy));
    document.body.dataset.memberState = s.state ?? '';
    const note = $('follower-state-note');
    const noteText = STATE_NOTES[s.state] || '';
    setText(note, noteText);
    note.hidden = noteText === '';
    setText(stat('keys'), s.keys);
    setText(stat('logBytes'), bytes(s.logBytes));
    stat('logBytes').title = s.logBytes + ' bytes';
    setText(stat('ready'), s.ready ? 'yes' : 'no');
    setText(stat('registered'), s.registered ? 'yes' : 'no');
    setText($('pending-note'), 'None: nothing waits for phase 2.');
    renderPending(s, Date.now());
    renderHand(s.changedByHand || []);
  }

  const poller = every(POLL_MILLIS, poll);
  return { refresh: () => poller.now() };
}
