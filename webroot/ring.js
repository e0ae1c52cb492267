// The hash ring as SVG: 0 at the top, growing clockwise to 2^64. Each follower's points are
// dots in its colour (hollow when it is down); for the key being typed, a needle at its hash, an
// arc walking up the ring to its primary, and a numbered ring around the point that made each
// replica. Every position is computed from the unsigned 64-bit decimal strings with BigInt.

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

/**
 * Draws into `root` (the <svg>). `ring` is [{point, id}], `members` a Map id -> {host, port, up},
 * `placement` null or {hash, replicas}.
 */
export function drawRing(root, ring, members, placement) {
  const title = root.querySelector('title');
  const parts = [title];
  const colour = colours([...members.keys(), ...ring.map((p) => p.id)]);
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

  const few = ring.length <= 12;
  for (const p of ring) {
    const m = members.get(p.id);
    const pos = onCircle(CX, CY, R, turn(p.point));
    const up = !m || m.up !== false;
    const name = m ? m.host + ':' + m.port : 'id ' + p.id;
    parts.push(svg('circle', {
      class: 'pt' + (up ? '' : ' down'),
      cx: pos.x, cy: pos.y, r: 7,
      fill: up ? colour.get(p.id) : '#ffffff',
      stroke: colour.get(p.id),
      'data-id': p.id, 'data-point': p.point,
    }, svg('title', { text: name + (up ? '' : ' (down)') + '\nid ' + p.id + '\npoint ' + p.point })));
    if (few && m) {
      // Outside the ring, anchored away from it so that the text never covers a point.
      const lp = onCircle(CX, CY, R + 14, turn(p.point));
      const anchor = lp.x > CX + 20 ? 'start' : lp.x < CX - 20 ? 'end' : 'middle';
      const dy = lp.y < CY - R + 20 ? -4 : lp.y > CY + R - 20 ? 14 : 4;
      parts.push(svg('text', { class: 'ptlabel', x: lp.x, y: lp.y + dy, 'text-anchor': anchor, text: String(m.port) }));
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

/** The legend under the ring: one entry per follower, replicas marked. */
export function legendItems(members, ringIds, replicas) {
  const colour = colours([...members.keys(), ...ringIds]);
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
    return el('li', { class: r ? 'is-replica' : '', 'data-id': id },
      swatch,
      el('span', { text: name }),
      m && m.up === false ? el('span', { class: 'down-text', text: ' down' }) : null,
      r ? el('span', { class: 'rank-text', text: r === 1 ? ' replica 1 (primary)' : ' replica ' + r }) : null);
  });
}
