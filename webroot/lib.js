// Pure helpers of the web client: no DOM, no network, no clock. The browser tests import this
// module directly to check them (WebClientIT.pureHelpersInTheBrowser).

/** A query string from an object, skipping undefined and null values. `+` never appears. */
export function query(params) {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(v))
    .join('&');
}

const TWO_64 = 2n ** 64n;

/**
 * Where an unsigned 64-bit ring position (a decimal string) sits on the circle, as a fraction of
 * a full turn in [0, 1). BigInt keeps the comparison exact; the fraction only has to be good
 * enough for drawing.
 */
export function turn(decimal) {
  const v = BigInt(decimal);
  if (v < 0n || v >= TWO_64) throw new RangeError('not an unsigned 64-bit value: ' + decimal);
  // Scale to 2^53 first so that the Number conversion is exact.
  return Number(v >> 11n) / 2 ** 53;
}

/** A point on a circle of radius r around (cx, cy), a turn of t clockwise from the top. */
export function onCircle(cx, cy, r, t) {
  const a = t * 2 * Math.PI;
  return { x: cx + r * Math.sin(a), y: cy - r * Math.cos(a) };
}

/**
 * The ring walk of SPEC.md section 4: from the key's hash, up the ring (wrapping), the first
 * point of each distinct follower, until `count` followers are found. `ring` is
 * [{point, id}] as /api/placement sends it. Returns [{point, id, rank}] in replica order; the
 * browser uses it to highlight the points that made each follower a replica.
 */
export function walk(ring, hash, count) {
  const h = BigInt(hash);
  const sorted = [...ring].sort((a, b) => cmp(BigInt(a.point), BigInt(b.point)));
  let start = sorted.findIndex((p) => BigInt(p.point) > h);
  if (start < 0) start = 0;
  const seen = new Set();
  const out = [];
  for (let i = 0; i < sorted.length && out.length < count; i++) {
    const p = sorted[(start + i) % sorted.length];
    if (seen.has(p.id)) continue;
    seen.add(p.id);
    out.push({ point: p.point, id: p.id, rank: out.length + 1 });
  }
  return out;
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares unsigned 64-bit decimal strings (for sorting followers by id). */
export function compareIds(a, b) {
  return cmp(BigInt(a), BigInt(b));
}

/**
 * Prometheus text format, reduced to what the dashboard needs: every sample as
 * {name, labels, value}. Comments, blank lines and malformed lines are skipped.
 */
export function parsePrometheus(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[4]);
    if (Number.isNaN(value)) continue;
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l;
      while ((l = re.exec(m[3])) !== null) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1], labels, value });
  }
  return out;
}

/**
 * Requests answered, from /metrics samples: {total, byType} from one counter family, the
 * node's own `kvstore_requests_total{type, status}` when it has one, else the first family
 * named like `*requests*_total` (never a sum across families, which would count a request
 * twice). byType sums over statuses, keyed by the `type` label. Null when there is none.
 */
export function requestCounts(samples) {
  const families = [...new Set(samples.map((s) => s.name).filter((n) => /requests?.*_total$/.test(n)))];
  if (families.length === 0) return null;
  const name = families.includes('kvstore_requests_total') ? 'kvstore_requests_total' : families[0];
  const byType = {};
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    total += s.value;
    const type = s.labels.type ?? s.labels.method ?? 'all';
    byType[type] = (byType[type] || 0) + s.value;
  }
  return { total, byType };
}

/** A rate per second between two samples {t (ms), v}, or null when it cannot be known. */
export function rate(prev, cur) {
  if (!prev || !cur || prev.v === null || cur.v === null || cur.t <= prev.t) return null;
  const dv = cur.v - prev.v;
  if (dv < 0) return null; // the node restarted: counters began again
  return (dv * 1000) / (cur.t - prev.t);
}

/** 88211 -> "86.1 KiB". */
export function bytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
}

/** How long ago, from two epoch-millisecond times: "just now", "4 s ago", "3 min ago". */
export function ago(then, now) {
  if (then === null || then === undefined) return 'never';
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 1) return 'just now';
  if (s < 120) return s + ' s ago';
  if (s < 7200) return Math.round(s / 60) + ' min ago';
  return Math.round(s / 3600) + ' h ago';
}

/** A rate for display: "0", "0.5", "12", "1.2k". */
export function perSecond(r) {
  if (r === null || r === undefined) return '—';
  if (r >= 1000) return (r / 1000).toFixed(1) + 'k';
  if (r >= 10 || r === 0) return String(Math.round(r));
  return r.toFixed(1);
}

/**
 * Where keys move while the leader rebalances (SPEC.md section 10): the hash ranges whose
 * replica set differs between the ring the keys move from (`baseRing`) and the target ring,
 * with the followers that gain each. Both rings are [{point, id}] as /api/placement sends them;
 * `count` is the number of replicas per key. Between two consecutive points of either ring no
 * walk changes, so one hash per such range decides it: a key hashing in [from, to) walks up to
 * the same replicas. Adjacent ranges with the same gainers are merged. Returns
 * [{from, to, gainers}] in ring order (`to` at or below `from` wraps past 2^64 - 1; from == to is
 * the whole ring), gainers in ascending id order.
 */
export function movedRanges(baseRing, targetRing, count) {
  if (!baseRing || !targetRing || baseRing.length === 0 || targetRing.length === 0 || count < 1) return [];
  const points = [...new Set([...baseRing, ...targetRing].map((p) => p.point))].sort((a, b) => cmp(BigInt(a), BigInt(b)));
  const ranges = [];
  for (let i = 0; i < points.length; i++) {
    const from = points[i];
    const to = points[(i + 1) % points.length];
    const before = new Set(walk(baseRing, from, count).map((h) => h.id));
    const gainers = walk(targetRing, from, count).map((h) => h.id).filter((id) => !before.has(id)).sort(compareIds);
    if (gainers.length === 0) continue;
    const last = ranges[ranges.length - 1];
    if (last && last.to === from && last.gainers.join(',') === gainers.join(',')) last.to = to;
    else ranges.push({ from, to, gainers });
  }
  // The last range may continue into the first across 0.
  if (ranges.length > 1) {
    const first = ranges[0];
    const last = ranges[ranges.length - 1];
    if (last.to === first.from && last.gainers.join(',') === first.gainers.join(',')) {
      first.from = last.from;
      ranges.pop();
    }
  }
  return ranges;
}

/**
 * The leader's `rebalancing` for a person: null when no key is moving, else {text, fraction}
 * (fraction in [0, 1], null when the number of keys is not known). `keys` is the leader's
 * estimate, so `copied` may pass it; the fraction stops at 1. Its `bytes` count every copy since
 * the leader started, not this move's, so they are left out of the text.
 */
export function rebalanceSummary(r, now) {
  if (!r) return null;
  const keys = typeof r.keys === 'number' ? r.keys : null;
  const copied = typeof r.copied === 'number' ? r.copied : 0;
  const fraction = keys && keys > 0 ? Math.min(1, copied / keys) : keys === 0 ? 1 : null;
  let text = 'view ' + r.view + ': ' + copied + ' of about ' + (keys ?? '?') + ' key' + (keys === 1 ? '' : 's') + ' copied';
  if (fraction !== null) text += ' (' + Math.round(fraction * 100) + '%)';
  if (typeof r.since === 'number') text += ', started ' + ago(r.since, now);
  return { text, fraction };
}

/**
 * The body of POST /txn (SPEC.md section 11) from the transaction panel's rows:
 * conditions [{key, version}] with the version as typed, operations [{op, key, val}] for each
 * branch, and an optional rid. Returns {json} (the text to send) or {error, at} when a
 * condition's version is not a whole number (`at` is that condition's index). Keys and values
 * go as typed: the leader judges them. Empty branches are left out; a transaction with no
 * condition and no operation is refused here (there is nothing to run).
 */
export function txnBody(conditions, thenOps, elseOps, rid) {
  const body = {};
  if (conditions.length > 0) {
    const ifs = [];
    for (let i = 0; i < conditions.length; i++) {
      const v = String(conditions[i].version).trim();
      if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v))) {
        return { error: 'Condition ' + (i + 1) + ' needs a version: a whole number, 0 for "the key is absent".', at: i };
      }
      ifs.push({ key: conditions[i].key, version: Number(v) });
    }
    body.if = ifs;
  }
  const ops = (list) => list.map((o) => (o.op === 'put' ? { op: 'put', key: o.key, val: o.val } : { op: o.op, key: o.key }));
  if (thenOps.length > 0) body.then = ops(thenOps);
  if (elseOps.length > 0) body.else = ops(elseOps);
  if (!body.if && !body.then && !body.else) return { error: 'Nothing to run: add a condition or an operation.', at: null };
  if (rid !== undefined && rid !== null && rid !== '') body.rid = rid;
  return { json: JSON.stringify(body) };
}
