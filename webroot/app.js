// The seed's web client: key and value fields, the role's buttons, and a message log of every
// request and answer (newest first, green for 2xx, red otherwise). Everything the server sends
// back is shown as text, never as markup.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { role: null };

function query(params) {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(v))
    .join('&');
}

function logEntry(method, path, status, body) {
  const li = document.createElement('li');
  li.className = status >= 200 && status < 300 ? 'ok' : 'err';
  li.textContent = method + ' ' + path + '  →  ' + status + (body ? '  ' + body : '');
  $('log').prepend(li);
}

async function send(method, path) {
  let status = 0, body = '';
  try {
    const r = await fetch(path, { method, cache: 'no-store' });
    status = r.status;
    body = await r.text();
  } catch (e) {
    body = 'network error: ' + e.message;
  }
  logEntry(method, path, status, body);
  return { status, body };
}

const actions = {
  REGISTER: () => send('POST', '/register?' + query({ key: $('key').value, val: $('value').value })),
  GET: () => send('GET', '/?' + query({ key: $('key').value })),
  PUT: () => send('PUT', '/?' + query({ key: $('key').value, val: $('value').value })),
  DELETE: () => send('DELETE', '/?' + query({ key: $('key').value })),
  COMMIT: () => send('POST', '/commit'),
  ABORT: () => send('POST', '/abort'),
};

function buttons(role) {
  const names = role === 'leader' ? ['REGISTER', 'GET', 'PUT', 'DELETE'] : ['GET', 'PUT', 'DELETE', 'COMMIT', 'ABORT'];
  const box = $('buttons');
  box.textContent = '';
  for (const name of names) {
    const b = document.createElement('button');
    b.type = 'button';
    b.id = 'btn-' + name.toLowerCase();
    b.textContent = name;
    b.addEventListener('click', actions[name]);
    box.appendChild(b);
  }
}

async function init() {
  let role = 'leader', where = location.host;
  try {
    const r = await fetch('/api/status', { cache: 'no-store' });
    if (r.ok) {
      const s = await r.json();
      role = s.role;
      where = s.host + ':' + s.port;
    }
  } catch (e) { /* offline: keep the leader's buttons */ }
  state.role = role;
  $('role').textContent = role === 'leader' ? 'TPCLeader' : 'TPCFollower';
  $('node').textContent = where;
  document.title = (role === 'leader' ? 'TPCLeader' : 'TPCFollower') + ' ' + where;
  buttons(role);
  $('clear').addEventListener('click', () => { $('log').textContent = ''; });
}

init();
