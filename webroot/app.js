// The web client, served by every node at /: the seed's page (key and value fields, the role's
// buttons, the message log) and a live view of the node. It asks GET /api/status which role it
// is talking to; a follower with a cluster secret answers 401 even to that, so a 401 there means
// a follower that wants the secret.
//
// Data from the server is only ever shown as text (see dom.js). The page loads nothing from
// anywhere but its own node (the CSP in index.html says so).

import { $, setText } from './dom.js';
import { followerView } from './follower.js';
import { keyBrowser } from './keys.js';
import { leaderView } from './leader.js';
import { query } from './lib.js';
import { clearLog, logExchange } from './log.js';
import { credentials, getJson, onUnauthorized, request } from './net.js';
import { txnPanel } from './txn.js';

const ROLE_NAMES = { leader: 'TPCLeader', follower: 'TPCFollower' };
const BUTTONS = {
  leader: ['REGISTER', 'GET', 'PUT', 'DELETE'],
  follower: ['GET', 'PUT', 'DELETE', 'COMMIT', 'ABORT'],
};

let view = null;  // the role's live view: {refresh()}
let keys = null;  // the key browser: {refresh()}

/* --- Requests made by the person, logged --- */

async function act(method, path, json) {
  const r = await request(method, path, { quiet: true, json });
  logExchange(method, path, r.status, r.body, { version: r.version, requestBody: json === undefined ? null : json });
  if (r.status === 401) askForCredentials(true, path);
  if (view) view.refresh();
  if (keys && r.status >= 200 && r.status < 300 && method !== 'GET') keys.refresh();
  return r;
}

const key = () => $('key').value;
const value = () => $('value').value;

/**
 * The leader's optional write parameters (SPEC.md section 11) from "Conditions and retries":
 * ifVersion and rid, each only when its field is filled in. With both empty a PUT or DELETE is
 * exactly the seed's request. A follower's page has no such fields (undefined: left out).
 */
function writeOptions() {
  if ($('write-options').hidden) return {};
  const ifVersion = $('if-version').value.trim();
  const rid = $('rid').value.trim();
  return { ifVersion: ifVersion === '' ? undefined : ifVersion, rid: rid === '' ? undefined : rid };
}

const ACTIONS = {
  REGISTER: () => act('POST', '/register?' + query({ key: key(), val: value() })),
  GET: () => act('GET', '/?' + query({ key: key() })),
  PUT: () => act('PUT', '/?' + query({ key: key(), val: value(), ...writeOptions() })),
  DELETE: () => act('DELETE', '/?' + query({ key: key(), ...writeOptions() })),
  COMMIT: () => act('POST', '/commit'),
  ABORT: () => act('POST', '/abort'),
};

/** The summary of "Conditions and retries" says what is set, so a closed panel hides nothing. */
function showWriteOptions() {
  const o = writeOptions();
  const set = [];
  if (o.ifVersion !== undefined) set.push('ifVersion ' + o.ifVersion);
  if (o.rid !== undefined) set.push('rid ' + o.rid);
  setText($('write-options-set'), set.length ? '(set: ' + set.join(', ') + ')' : '');
}

function setUpWriteOptions() {
  $('write-options').hidden = false;
  for (const id of ['if-version', 'rid']) $(id).addEventListener('input', showWriteOptions);
  $('rid-lookup').addEventListener('click', () => act('GET', '/api/writes?' + query({ rid: $('rid').value.trim() })));
  $('rid-new').addEventListener('click', () => {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    $('rid').value = 'web-' + [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
    showWriteOptions();
  });
}

function buttons(role) {
  const box = $('buttons');
  box.replaceChildren();
  for (const name of BUTTONS[role]) {
    const b = document.createElement('button');
    b.type = 'button';
    b.id = 'btn-' + name.toLowerCase();
    b.textContent = name;
    b.addEventListener('click', ACTIONS[name]);
    box.append(b);
  }
}

/* --- Credentials (sessionStorage only) --- */

function setUpCredentials() {
  $('secret').value = credentials.secret();
  $('token').value = credentials.token();
  $('auth-form').addEventListener('submit', (e) => {
    e.preventDefault();
    credentials.save($('secret').value, $('token').value);
    prompted = false;
    $('auth-why').hidden = true;
    $('auth').open = false;
    if (view) view.refresh();
    if (keys) keys.refresh();
  });
  $('auth-forget').addEventListener('click', () => {
    credentials.forget();
    $('secret').value = '';
    $('token').value = '';
  });
  onUnauthorized(() => askForCredentials(false));
}

let prompted = false; // background refreshes open the credentials once, not on every 401

/**
 * Opens the credentials with the reason. `always` for a person's own request, which also moves
 * the focus to the field that request needs: the secret on a follower or for /register, else
 * the client token.
 */
function askForCredentials(always, path) {
  if (prompted && !always) return;
  prompted = true;
  const why = $('auth-why');
  setText(why, 'The node answered 401 error: unauthorized. Enter the cluster secret (for a follower, or to register) or the client token (for keys, when the leader has one).');
  why.hidden = false;
  $('auth').open = true;
  if (always) {
    const secret = document.body.dataset.role === 'follower' || (path || '').startsWith('/register');
    $(secret ? 'secret' : 'token').focus();
  }
}

/* --- Who we are talking to --- */

let bannerShown = '';

function onStatus(r) {
  const banner = $('banner');
  let text = '';
  if (r.status === 0) text = 'Cannot reach this node: ' + r.body + '. Retrying…';
  else if (r.status === 401) text = 'This node wants the cluster secret: open Credentials.';
  else if (!r.json) text = 'GET /api/status answered ' + r.status + ' ' + r.body;
  else if (r.json.standby) text = 'A standby leader: it answers clients once it takes over.';
  else if (!r.json.ready) text = r.json.role === 'leader' ? 'Not ready: waiting for followers to register.' : 'Not ready yet.';
  if (text !== bannerShown) {
    bannerShown = text;
    setText(banner, text);
    banner.hidden = text === '';
  }
  if (r.json) {
    setText($('node'), r.json.host + ':' + r.json.port);
    document.body.dataset.ready = String(!!r.json.ready);
  }
}

function mount(role, where) {
  document.body.dataset.role = role;
  setText($('role'), ROLE_NAMES[role]);
  setText($('node'), where);
  document.title = ROLE_NAMES[role] + ' ' + where + ' · kvstore';
  buttons(role);
  view = role === 'leader' ? leaderView(onStatus) : followerView(onStatus, act);
  if (role === 'leader') {
    setUpWriteOptions();
    txnPanel((json) => act('POST', '/txn', json));
  }
  keys = keyBrowser((k) => {
    $('key').value = k;
    $('key').dispatchEvent(new Event('input'));
    $('key').focus();
  });
}

async function start() {
  const r = await getJson('/api/status');
  if (r.json && (r.json.role === 'leader' || r.json.role === 'follower')) {
    mount(r.json.role, r.json.host + ':' + r.json.port);
    onStatus(r);
    performance.mark('kvstore-ready');
  } else if (r.status === 401) {
    // Only a follower guards /api/status (SPEC.md section 6).
    mount('follower', location.host);
    onStatus(r);
    performance.mark('kvstore-ready');
  } else {
    onStatus(r);
    setTimeout(start, 2000);
  }
}

function init() {
  $('clear').addEventListener('click', clearLog);
  // Enter sends: from the Value field (with a value) a PUT, from the Key field a GET. (Two text
  // fields and no submit button: the browser would not submit the form by itself.)
  $('request-form').addEventListener('submit', (e) => e.preventDefault());
  $('key').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      ACTIONS.GET();
    }
  });
  $('value').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      (value() !== '' ? ACTIONS.PUT : ACTIONS.GET)();
    }
  });
  setUpCredentials();
  start();
}

init();
