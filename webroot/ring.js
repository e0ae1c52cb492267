// The hash ring as SVG: 0 at the top, growing clockwise to 2^64. Each follower's points are
// dots in its colour (hollow when it is down); for the key being typed, a needle at its hash, an
// arc walking up the ring to its primary, and a numbered ring around the point that made each
// replica. Every position is computed from the unsigned 64-bit decimal strings with BigInt.
//
// While keys move (SPEC.md section 10) the ring they move from is drawn too: its points that the
// target ring no longer has are hollow and dashed ("leaving"), the target's new points get a
// halo ("joining"), and outside the track an arc in the gainer's colour covers each hash range
// a follower is gaining, one lane per gainer. Shapes and dashes carry the meaning as well as
// colour, and every mark has a <title> in words.

import { el, svg } from './dom.js';
import { compareIds, onCircle, turn, walk } from './lib.js';

const CX = 160;
const CY = 160;
const R = 118;

// Okabe-Ito, minus the yellow that is unreadable on white.
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#7F5200'];

/** A colour per follower id, stable for a given set of followers (ascending id order). */
export function colours(ids) {
  const sorted = [...new Set(ids)].sort(compareIds);
  const m = new Map();
  sorted.forEach((id, i) => m.set(id, COLOURS[i % COLOURS.length]));
  return m;
}

/** An SVG arc along a circle of radius r, clockwise from one ring position to another. */
function arc(r, from, to) {
  const t0 = turn(from);
  let sweep = turn(to) - t0;
  if (sweep <= 0) sweep += 1; // wraps past 0 (from == to: the whole ring, drawn short of closing)
  if (sweep >= 1) sweep = 0.9999;
  const a = onCircle(CX, CY, r, t0);
  const b = onCircle(CX, CY, r, t0 + sweep);
  return `M ${a.x} ${a.y} A ${r} ${r} 0 ${sweep > 0.5 ? 1 : 0} 1 ${b.x} ${b.y}`;
}

/**
 * Draws into `root` (the <svg>). `ring` is [{point, id}] (the target ring), `members` a Map
 * id -> {host, port, up, state}, `placement` null or {hash, replicas}, and `move` null or
 * {view, baseRing, ranges} while keys move (ranges from lib.js movedRanges).
 */
export function drawRing(root, ring, members, placement, move = null) {
  const title = root.querySelector('title');
  const parts = [title];
  const base = move ? move.baseRing : [];
  const colour = colours([...members.keys(), ...ring.map((p) => p.id), ...base.map((p) => p.id)]);
  const nameOf = (id) => {
    const m = members.get(id);
    return m ? m.host + ':' + m.port : 'id ' + id;
  };
  parts.push(svg('circle', { class: 'track', cx: CX, cy: CY, r: R }));
  for (const [t, label] of [[0, '0'], [0.25, '2⁶²'], [0.5, '2⁶³'], [0.75, '3·2⁶²']]) {
    const a = onCircle(CX, CY, R - 10, t);
    const b = onCircle(CX, CY, R + 10, t);
    parts.push(svg('line', { class: 'tick', x1: a.x, y1: a.y, x2: b.x, y2: b.y }));
    const c = onCircle(CX, CY, R - 34, t);
    parts.push(svg('text', { class: 'ticklabel', x: c.x, y: c.y + 4, 'text-anchor': 'middle', text: label }));
  }

  const hits = placement ? walk(ring, placement.hash, placement.replicas.length) : [];
  if (placement) {
    const t = turn(placement.hash);
    const tip = onCircle(CX, CY, R, t);
    if (hits.length > 0) {
      // The walk from the key's hash up to its primary, clockwise.
      const end = turn(hits[0].point);
      let sweep = end - t;
      if (sweep <= 0) sweep += 1;
      const e = onCircle(CX, CY, R, end);
      parts.push(svg('path', {
        class: 'walk',
        d: `M ${tip.x} ${tip.y} A ${R} ${R} 0 ${sweep > 0.5 ? 1 : 0} 1 ${e.x} ${e.y}`,
      }));
    }
    const foot = onCircle(CX, CY, R * 0.6, t); // short of the centre, which holds the hash as text
    parts.push(svg('line', { class: 'needle', x1: foot.x, y1: foot.y, x2: tip.x, y2: tip.y }));
    parts.push(svg('circle', { class: 'keymark', cx: tip.x, cy: tip.y, r: 5, 'data-hash': placement.hash },
      svg('title', { text: 'key hash ' + placement.hash })));
  }

  if (move) {
    // The gained ranges, one lane per gainer outside the track.
    const lanes = new Map();
    for (const range of move.ranges) {
      for (const id of range.gainers) {
        if (!lanes.has(id)) lanes.set(id, lanes.size);
        const r = R + 9 + 6 * Math.min(lanes.get(id), 3);
        parts.push(svg('path', {
          class: 'gain', d: arc(r, range.from, range.to), stroke: colour.get(id),
          'data-gainer': id, 'data-from': range.from, 'data-to': range.to,
        }, svg('title', { text: nameOf(id) + ' gains the keys hashing from ' + range.from + ' up to ' + range.to })));
      }
    }
    // The points the target ring no longer has: the ring the keys move from.
    const target = new Set(ring.map((p) => p.point + '/' + p.id));
    for (const p of base) {
      if (target.has(p.point + '/' + p.id)) continue;
      const pos = onCircle(CX, CY, R, turn(p.point));
      parts.push(svg('circle', {
        class: 'pt base', cx: pos.x, cy: pos.y, r: 7, fill: '#ffffff', stroke: colour.get(p.id),
        'data-id': p.id, 'data-point': p.point,
      }, svg('title', { text: nameOf(p.id) + ' (leaving: its keys move to the others)\nid ' + p.id + '\npoint ' + p.point })));
    }
  }
  const baseKeys = new Set(base.map((p) => p.point + '/' + p.id));

  const few = ring.length <= 12;
  const labels = []; // {x, y} of the port labels placed so far
  for (const p of ring) {
    const m = members.get(p.id);
    const pos = onCircle(CX, CY, R, turn(p.point));
    const up = !m || m.up !== false;
    const name = m ? m.host + ':' + m.port : 'id ' + p.id;
    const joining = move && !baseKeys.has(p.point + '/' + p.id);
    if (joining) {
      parts.push(svg('circle', { class: 'halo', cx: pos.x, cy: pos.y, r: 11, stroke: colour.get(p.id), 'data-id': p.id }));
    }
    parts.push(svg('circle', {
      class: 'pt' + (up ? '' : ' down'),
      cx: pos.x, cy: pos.y, r: 7,
      fill: up ? colour.get(p.id) : '#ffffff',
      stroke: colour.get(p.id),
      'data-id': p.id, 'data-point': p.point,
    }, svg('title', { text: name + (up ? '' : ' (down)') + (joining ? ' (joining: gaining keys)' : '') + '\nid ' + p.id + '\npoint ' + p.point })));
    if (few && m) {
      // Outside the ring, anchored away from it so that the text never covers a point; a label
      // that would sit on one already placed (two points close together) moves a line away.
      const lp = onCircle(CX, CY, R + 14, turn(p.point));
      let y = lp.y + (lp.y < CY - R + 20 ? -4 : lp.y > CY + R - 20 ? 14 : 4);
      let hit;
      for (let tries = 0; tries < 4 && (hit = labels.find((q) => Math.abs(q.y - y) < 13 && Math.abs(q.x - lp.x) < 40)); tries++) {
        y = hit.y + (y >= hit.y ? 13 : -13);
      }
      labels.push({ x: lp.x, y });
      const anchor = lp.x > CX + 20 ? 'start' : lp.x < CX - 20 ? 'end' : 'middle';
      parts.push(svg('text', { class: 'ptlabel', x: lp.x, y, 'text-anchor': anchor, text: String(m.port) }));
    }
  }

  for (const h of hits) {
    const pos = onCircle(CX, CY, R, turn(h.point));
    parts.push(svg('circle', { class: 'replica', cx: pos.x, cy: pos.y, r: 12, 'data-id': h.id, 'data-rank': h.rank }));
    const lp = onCircle(CX, CY, R - 26, turn(h.point));
    parts.push(svg('text', { class: 'rank', x: lp.x, y: lp.y + 5, 'text-anchor': 'middle', text: String(h.rank) }));
  }

  const centre = placement ? 'hash' : ring.length + ' point' + (ring.length === 1 ? '' : 's');
  parts.push(svg('text', { class: 'centre', x: CX, y: CY - 4, 'text-anchor': 'middle', text: centre }));
  if (placement) {
    parts.push(svg('text', { class: 'centre small', x: CX, y: CY + 14, 'text-anchor': 'middle', text: placement.hash }));
  }
  root.replaceChildren(...parts);
}

/** The legend under the ring: one entry per follower with its state when not plain up, replicas marked. */
export function legendItems(members, ringIds, replicas, move = null) {
  const colour = colours([...members.keys(), ...ringIds]);
  const gaining = new Set(move ? move.ranges.flatMap((r) => r.gainers) : []);
  const rank = new Map((replicas || []).map((r, i) => [r.id, i + 1]));
  const ids = [...new Set([...members.keys(), ...ringIds])].sort(compareIds);
  return ids.map((id) => {
    const m = members.get(id);
    const name = m ? m.host + ':' + m.port : 'id ' + id;
    const r = rank.get(id);
    const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.backgroundColor = colour.get(id); // CSSOM: allowed by the page's CSP, unlike style=""
    if (m && m.up === false) swatch.style.backgroundColor = '#ffffff';
    swatch.style.borderColor = colour.get(id);
    const state = m && m.state && m.state !== 'up' && m.state !== 'down' ? m.state : null;
    return el('li', { class: r ? 'is-replica' : '', 'data-id': id },
      swatch,
      el('span', { text: name }),
      m && m.up === false ? el('span', { class: 'down-text', text: ' down' }) : null,
      state ? el('span', { class: 'state-text', text: ' ' + state }) : null,
      !m && move ? el('span', { class: 'state-text', text: ' leaving' }) : null,
      gaining.has(id) ? el('span', { class: 'state-text', text: ' gaining keys' }) : null,
      r ? el('span', { class: 'rank-text', text: r === 1 ? ' replica 1 (primary)' : ' replica ' + r }) : null);
  });
}
