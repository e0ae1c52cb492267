// The leader's live view: its counters and rates, the membership (view, each follower's state:
// up, down, joining, draining or evicted, and the rebalance's progress; SPEC.md section 10),
// and the hash ring with the typed key's hash and replicas, and, while keys move, the ring they
// move from and the ranges each follower gains. Everything comes from GET /api/status (every
// second), GET /api/placement?key=K (as the key is typed, when the view changes, and every
// second while keys move) and, when the node has it, GET /metrics for request rates.

import { $, debounce, el, every, setText, svg } from './dom.js';
import { ago, bytes, compareIds, movedRanges, parsePrometheus, perSecond, query, rate, rebalanceSummary, requestCounts } from './lib.js';
import { getJson, request } from './net.js';
import { drawRing, legendItems } from './ring.js';

const POLL_MILLIS = 1000;
const SPARK_POINTS = 60;
// Any valid key: /api/placement is the only source of the ring, and it wants a key.
const RING_PROBE_KEY = 'ring';

export function leaderView(onStatus) {
  for (const id of ['ring-panel', 'cluster-panel', 'followers-panel']) $(id).hidden = false;

  let members = new Map();    // id -> {host, port, up, state, lastSeen, pendingPhase2}
  let ring = [];              // [{point, id}]: the target ring
  let move = null;            // while keys move: {view, baseRing, ranges}
  let placement = null;       // the typed key's {key, hash, replicas, current}, or null
  let membersKey = '';        // the follower ids and states the ring was last drawn for
  let placementSeq = 0;
  let prev = null;            // the previous counter sample
  let metrics = undefined;    // undefined: not probed yet; false: none; true: GET /metrics works
  const spark = [];

  const stat = (name) => $('leader-stats').querySelector(`[data-stat="${name}"]`);

  function redraw() {
    drawRing($('ring'), ring, members, placement, move);
    const ringIds = [...ring, ...(move ? move.baseRing : [])].map((p) => p.id);
    $('legend').replaceChildren(...legendItems(members, ringIds, placement && placement.replicas, move));
    const rows = placement ? placement.replicas.map((r, i) =>
      el('li', { 'data-id': r.id },
        el('span', { text: r.host + ':' + r.port }),
        el('span', { class: 'hint', text: (i === 0 ? ' primary' : '') + ' id ' + r.id }))) : [];
    $('replicas').replaceChildren(...rows);
    const note = $('ring-moving');
    note.hidden = !move;
    if (move) {
      let text = 'Keys are moving (view ' + move.view + '): dashed hollow points are the ring they move from; '
        + 'the coloured arcs outside the ring are the hash ranges each follower is gaining ('
        + move.ranges.length + (move.ranges.length === 1 ? ' range' : ' ranges') + ').';
      const cur = placement && placement.current;
      if (cur && placement.replicas && cur.map((c) => c.id).join() !== placement.replicas.map((r) => r.id).join()) {
        text += ' Until the copy ends, this key\'s latest value is held by ' + cur.map((c) => c.host + ':' + c.port).join(', ') + '.';
      }
      setText(note, text);
    }
  }

  async function refreshPlacement() {
    const mine = ++placementSeq;
    const key = $('key').value;
    const r = await getJson('/api/placement?' + query({ key: key === '' ? RING_PROBE_KEY : key }));
    if (mine !== placementSeq) return;
    if (r.json) {
      ring = r.json.ring || [];
      const count = r.json.replicas ? r.json.replicas.length : 1;
      move = r.json.baseRing ? { view: r.json.view, baseRing: r.json.baseRing, ranges: movedRanges(r.json.baseRing, ring, count) } : null;
      $('ring').dataset.moving = String(!!move);
      $('ring').dataset.view = r.json.view ?? '';
      placement = key === '' ? null : r.json;
      setText($('placement-text'), key === ''
        ? 'Type a key to see its hash and its replicas.'
        : 'Its hash is ' + r.json.hash + '; its replicas, in order:');
    } else {
      placement = null;
      setText($('placement-text'), key === '' ? 'The ring appears once followers have registered (' + r.status + ' ' + r.body + ').'
        : 'No placement: ' + r.status + ' ' + r.body);
    }
    $('placement').dataset.key = key;
    $('placement').dataset.state = r.json ? 'ok' : 'error';
    redraw();
  }

  const typed = debounce(120, refreshPlacement);
  $('key').addEventListener('input', typed);

  /** A follower's state as text: the leader's word for it, with a mark that does not rely on colour. */
  function stateText(f) {
    const state = f.state || (f.up ? 'up' : 'down');
    if (state === 'evicted') return '× evicted';
    if (state === 'down' || (state === 'up' && !f.up)) return f.refused ? '○ refused: ' + f.refused : '○ down';
    if (state === 'joining') return '◐ joining' + (f.up ? '' : ', down');
    if (state === 'draining') return '◑ draining' + (f.up ? '' : ', down');
    return '● up';
  }

  function stateClass(text) {
    return text.startsWith('●') ? 'up' : text.startsWith('○') ? 'down' : text.startsWith('×') ? 'gone' : 'moving';
  }

  /**
   * One row per follower: the members (ascending id), then the evicted addresses (SPEC.md
   * section 10: the leader lists them apart, without an id). Rows are kept and updated in place,
   * so a focused link survives the refreshes.
   */
  function renderFollowers(list, evicted, now) {
    const body = $('followers').tBodies[0];
    const seen = new Set();
    const sorted = [...list].sort((a, b) => compareIds(a.id, b.id));
    const all = [
      ...sorted.map((f) => ({ row: 'id:' + f.id, f })),
      ...[...evicted].sort((a, b) => (a.host + ':' + a.port < b.host + ':' + b.port ? -1 : 1))
        .map((e) => ({ row: 'evicted:' + e.host + ':' + e.port, f: { ...e, state: 'evicted', up: false } })),
    ];
    for (const { row: rowKey, f } of all) {
      seen.add(rowKey);
      let row = [...body.rows].find((tr) => tr.dataset.row === rowKey);
      if (!row) {
        const address = f.host + ':' + f.port;
        row = el('tr', { 'data-row': rowKey, 'data-id': f.id ?? null },
          el('td', { 'data-label': 'Address' }, el('a', { href: 'http://' + address + '/', text: address })),
          el('td', { class: 'mono id', 'data-label': 'Id', text: f.id ?? '—' }),
          el('td', { class: 'state', 'data-label': 'State' }),
          el('td', { class: 'seen', 'data-label': 'Last contact' }),
          el('td', { class: 'num p2', 'data-label': 'Phase 2 pending' }));
      }
      const state = row.querySelector('.state');
      // A follower that came back with another identity (a lost disk) is held down, with why.
      const text = stateText(f);
      setText(state, text);
      state.className = 'state ' + stateClass(text);
      row.dataset.up = String(!!f.up);
      row.dataset.state = f.state || (f.up ? 'up' : 'down');
      const seenCell = row.querySelector('.seen');
      if (f.state === 'evicted') {
        setText(seenCell, 'evicted ' + ago(f.since, now));
        seenCell.title = f.since ? 'evicted at ' + new Date(f.since).toLocaleString() : '';
        setText(row.querySelector('.p2'), '—');
      } else {
        setText(seenCell, ago(f.lastSeen, now));
        seenCell.title = f.lastSeen ? new Date(f.lastSeen).toLocaleString() : 'never answered';
        setText(row.querySelector('.p2'), f.pendingPhase2 ?? 0);
      }
      body.append(row); // keeps the order; moving a node keeps its focus
    }
    for (const row of [...body.rows]) if (!seen.has(row.dataset.row)) row.remove();
  }

  function renderRebalance(s, now) {
    const box = $('rebalance');
    const summary = rebalanceSummary(s.rebalancing, now);
    box.dataset.moving = String(!!summary);
    box.dataset.view = s.rebalancing ? s.rebalancing.view : '';
    setText($('rebalance-text'), summary ? summary.text : 'no key is moving.');
    $('rebalance-text').title = s.rebalancing && typeof s.rebalancing.bytes === 'number'
      ? 'bytes copied by gaining followers since the leader started: ' + bytes(s.rebalancing.bytes) : '';
    const bar = $('rebalance-progress');
    bar.hidden = !summary || summary.fraction === null;
    if (summary && summary.fraction !== null) bar.value = summary.fraction;
  }

  function renderSpark() {
    const max = Math.max(1, ...spark);
    const pts = spark.map((v, i) => `${(i * 120) / (SPARK_POINTS - 1)},${26 - (v / max) * 24}`).join(' ');
    $('spark').replaceChildren(
      svg('title', { text: 'writes per second (commits + aborts), last minute; peak ' + perSecond(max) }),
      svg('polyline', { class: 'sparkline', points: pts }));
  }

  async function sampleMetrics() {
    if (metrics === false) return null;
    const r = await request('GET', '/metrics', { quiet: true });
    if (r.status === 401 || r.status === 0) return null; // ask again once credentials or the node are back
    const counts = r.status === 200 && !r.type.includes('html') ? requestCounts(parsePrometheus(r.body)) : null;
    if (metrics === undefined) metrics = counts !== null;
    return counts;
  }

  async function poll() {
    const r = await getJson('/api/status');
    onStatus(r);
    if (!r.json) return;
    const s = r.json;
    const t = performance.now();
    const now = Date.now();
    const requests = await sampleMetrics();
    const cur = { t, commits: s.commits, aborts: s.aborts, requests };
    const commitRate = prev && rate({ t: prev.t, v: prev.commits }, { t, v: cur.commits });
    const abortRate = prev && rate({ t: prev.t, v: prev.aborts }, { t, v: cur.aborts });
    const requestRate = prev && prev.requests && requests ? rate({ t: prev.t, v: prev.requests.total }, { t, v: requests.total }) : null;
    const byType = [];
    if (prev && prev.requests && requests) {
      for (const [type, v] of Object.entries(requests.byType)) {
        const r = rate({ t: prev.t, v: prev.requests.byType[type] ?? 0 }, { t, v });
        if (r !== null) byType.push(type + ' ' + perSecond(r) + '/s');
      }
    }
    prev = cur;

    const list = s.followers || [];
    const up = list.filter((f) => f.up).length;
    setText(stat('epoch'), s.epoch);
    setText(stat('view'), s.view ?? '—');
    setText(stat('version'), s.version ?? '—');
    setText(stat('up'), up + ' of ' + (s.capacity ?? list.length));
    setText(stat('commits'), s.commits ?? '—');
    setText(stat('aborts'), s.aborts ?? '—');
    setText(stat('commitRate'), perSecond(commitRate));
    setText(stat('abortRate'), perSecond(abortRate));
    setText(stat('requestRate'), metrics ? perSecond(requestRate) : 'no /metrics');
    stat('requestRate').title = metrics ? 'from GET /metrics: ' + (byType.join(', ') || 'no requests yet') : 'the node has no GET /metrics';
    setText(stat('pendingTransactions'), s.pendingTransactions ?? '—');
    setText(stat('pendingPhase2'), s.pendingPhase2 ?? '—');
    setText(stat('queueDepth'), s.queueDepth ?? '—');
    setText(stat('redundancy'), s.redundancy + (s.vnodes > 1 ? ', ' + s.vnodes + ' vnodes' : ''));
    setText(stat('logBytes'), bytes(s.logBytes));
    stat('up').className = up < list.length ? 'warn' : '';

    if (commitRate !== null && commitRate !== false) {
      spark.push((commitRate || 0) + (abortRate || 0));
      while (spark.length > SPARK_POINTS) spark.shift();
      renderSpark();
    }

    setText($('followers-note'), s.ready
      ? (s.standby ? 'A standby leader: it serves once it takes over.' : '')
      : 'Waiting for followers: ' + (s.registered ?? list.length) + ' of ' + s.capacity + ' registered.');
    renderFollowers(list, s.evicted || [], now);
    renderRebalance(s, now);

    members = new Map(list.map((f) => [f.id, f]));
    // The ring is fetched again when the followers, the view or the moving state change, and
    // every poll while keys move (the key's current holders change as the copy runs); a change
    // of state alone (up, down, joining) only redraws it.
    const ids = list.map((f) => f.id).sort().join(',') + '|' + (s.view ?? '') + '|' + !!s.rebalancing;
    const key = ids + '|' + list.map((f) => f.id + ':' + (f.state || '') + (f.up ? '+' : '-')).sort().join(',');
    if (key !== membersKey || ring.length === 0 || s.rebalancing || move) {
      const idsChanged = !membersKey.startsWith(ids + '|');
      membersKey = key;
      if (idsChanged || ring.length === 0 || s.rebalancing || move) await refreshPlacement();
      else redraw();
    }
  }

  const poller = every(POLL_MILLIS, poll);
  return {
    refresh: () => poller.now(),
    placement: refreshPlacement,
  };
}
