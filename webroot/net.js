// Talking to the node this page came from: every request carries the credentials kept in this
// tab's sessionStorage (never localStorage), and every answer comes back as {status, body,
// version} (status 0 when the node could not be reached; version is the answer's X-KV-Version,
// SPEC.md section 11, or null when it has none).

const SECRET = 'kvstore.secret';
const TOKEN = 'kvstore.token';

export const credentials = {
  secret: () => sessionStorage.getItem(SECRET) || '',
  token: () => sessionStorage.getItem(TOKEN) || '',
  save(secret, token) {
    if (secret) sessionStorage.setItem(SECRET, secret);
    else sessionStorage.removeItem(SECRET);
    if (token) sessionStorage.setItem(TOKEN, token);
    else sessionStorage.removeItem(TOKEN);
  },
  forget() {
    sessionStorage.removeItem(SECRET);
    sessionStorage.removeItem(TOKEN);
  },
};

const unauthorizedListeners = [];

/** Called with (method, path) whenever the node answers 401. */
export function onUnauthorized(fn) {
  unauthorizedListeners.push(fn);
}

function headers() {
  const h = {};
  const s = credentials.secret();
  const t = credentials.token();
  if (s) h['X-KV-Secret'] = s;
  if (t) h['Authorization'] = 'Bearer ' + t;
  return h;
}

/**
 * One request; never throws. A 401 is reported to the listeners unless `quiet` (for optional
 * probes such as GET /metrics, which must not nag for credentials). `json` is a request body
 * sent as application/json (POST /txn); without it the request has no body, as before.
 */
export async function request(method, path, { timeoutMillis = 15000, quiet = false, json = undefined } = {}) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMillis);
  try {
    const h = headers();
    const init = { method, headers: h, cache: 'no-store', credentials: 'omit', signal: ctl.signal };
    if (json !== undefined) {
      h['Content-Type'] = 'application/json';
      init.body = json;
    }
    const r = await fetch(path, init);
    const body = await r.text();
    if (r.status === 401 && !quiet) for (const fn of unauthorizedListeners) fn(method, path);
    return { status: r.status, body, type: r.headers.get('content-type') || '', version: r.headers.get('x-kv-version') };
  } catch (e) {
    const why = e.name === 'AbortError' ? 'no answer within ' + timeoutMillis / 1000 + ' s' : e.message;
    return { status: 0, body: 'network error: ' + why, type: '', version: null };
  } finally {
    clearTimeout(timer);
  }
}

/** GET of a JSON view: {status, json} (json null unless 200 with a JSON body). */
export async function getJson(path) {
  const r = await request('GET', path);
  let json = null;
  if (r.status === 200) {
    try {
      json = JSON.parse(r.body);
    } catch (e) {
      json = null;
    }
  }
  return { status: r.status, body: r.body, json };
}
