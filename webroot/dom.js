// Building the page from data without ever parsing it as markup: elements are created one by
// one and data goes in as text (textContent) or as attribute values, never through innerHTML.

export const $ = (id) => document.getElementById(id);

const SVG_NS = 'http://www.w3.org/2000/svg';

function fill(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = String(v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return node;
}

/** el('td', {class: 'x', text: data}) or el('p', {}, 'text', child, ...). */
export function el(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Sets the text of an element only when it changed (keeps screen readers and selection calm). */
export function setText(node, text) {
  const t = String(text);
  if (node.textContent !== t) node.textContent = t;
}

/**
 * Runs fn now and then every `millis` after it finishes, one run at a time; skips the work while
 * the tab is hidden. `now()` asks for a run as soon as the current one (if any) is done.
 */
export function every(millis, fn) {
  let timer = null;
  let running = false;
  let again = false;
  const run = async () => {
    clearTimeout(timer);
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      if (!document.hidden) await fn();
    } catch (e) {
      console.error(e);
    }
    running = false;
    if (again) {
      again = false;
      run();
      return;
    }
    timer = setTimeout(run, millis);
  };
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) run();
  });
  run();
  return { now: run };
}

/** Calls fn once input has been quiet for `millis`. */
export function debounce(millis, fn) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), millis);
  };
}
