// The transaction panel (leader only; SPEC.md section 11): conditions (a key and the version it
// must have, 0 for absent) and two branches of operations (put, delete or get on a key), run as
// one POST /txn. Rows are added and removed by buttons; every field is a labelled input, so the
// panel works with the keyboard alone (Enter in any field runs it). The request body and the
// JSON answer go to the message log; a line under the panel says which branch ran.

import { $, el, setText } from './dom.js';
import { txnBody } from './lib.js';

const OPS = ['put', 'delete', 'get'];

export function txnPanel(run) {
  $('txn-panel').hidden = false;
  let serial = 0;

  const rows = (branch) => $('txn-' + branch).querySelector('.txn-rows');

  /** A caption and its field in one label, so the field is labelled wherever the row wraps. */
  function field(caption, input, cls) {
    return el('label', { class: 'txn-cell ' + cls }, el('span', { class: 'cap', text: caption }), input);
  }

  function removeButton(branch, row) {
    return el('button', {
      type: 'button', class: 'txn-remove', text: 'Remove',
      'aria-label': branch === 'if' ? 'Remove this condition' : 'Remove this operation',
      on: {
        click: () => {
          row.remove();
          $('txn-add-' + branch).focus();
        },
      },
    });
  }

  function addCondition(key = '', version = '') {
    const n = ++serial;
    const row = el('li', { class: 'txn-row cond', 'data-row': n });
    row.append(
      field('Key', el('input', { id: 'txn-' + n + '-key', class: 'txn-key', spellcheck: 'false', autocapitalize: 'off', value: key }), 'key'),
      field('Version', el('input', { id: 'txn-' + n + '-version', class: 'txn-version', inputmode: 'numeric', value: version }), 'version'),
      removeButton('if', row));
    rows('if').append(row);
    return row;
  }

  function addOperation(branch, op = 'put', key = '', val = '') {
    const n = ++serial;
    const row = el('li', { class: 'txn-row op', 'data-row': n });
    const select = el('select', { id: 'txn-' + n + '-op', class: 'txn-op' },
      ...OPS.map((o) => el('option', { value: o, text: o, selected: o === op })));
    const valueCell = field('Value', el('input', { id: 'txn-' + n + '-val', class: 'txn-val', spellcheck: 'false', autocapitalize: 'off', value: val }), 'val');
    const showValue = () => {
      valueCell.hidden = select.value !== 'put';
    };
    select.addEventListener('change', showValue);
    row.append(
      field('Op', select, 'opcell'),
      field('Key', el('input', { id: 'txn-' + n + '-key', class: 'txn-key', spellcheck: 'false', autocapitalize: 'off', value: key }), 'key'),
      valueCell,
      removeButton(branch, row));
    showValue();
    rows(branch).append(row);
    return row;
  }

  function focusFirst(row) {
    const f = row.querySelector('input, select');
    if (f) f.focus();
  }

  function reset() {
    for (const b of ['if', 'then', 'else']) rows(b).replaceChildren();
    addOperation('then');
    setText($('txn-result'), '');
    $('txn-result').removeAttribute('data-succeeded');
  }

  function read(branch) {
    return [...rows(branch).children].map((row) => ({
      key: row.querySelector('.txn-key').value,
      version: row.querySelector('.txn-version') ? row.querySelector('.txn-version').value : undefined,
      op: row.querySelector('.txn-op') ? row.querySelector('.txn-op').value : undefined,
      val: row.querySelector('.txn-val') ? row.querySelector('.txn-val').value : undefined,
    }));
  }

  async function submit(e) {
    e.preventDefault();
    const built = txnBody(read('if'), read('then'), read('else'), $('txn-rid').value);
    const result = $('txn-result');
    result.removeAttribute('data-succeeded');
    if (built.error) {
      setText(result, built.error);
      result.className = 'txn-result err';
      if (built.at !== null) rows('if').children[built.at].querySelector('.txn-version').focus();
      return;
    }
    setText(result, 'Running…');
    result.className = 'txn-result';
    const r = await run(built.json);
    let answer = null;
    if (r.status === 200) {
      try {
        answer = JSON.parse(r.body);
      } catch (err) {
        answer = null;
      }
    }
    if (answer && typeof answer.succeeded === 'boolean') {
      result.dataset.succeeded = String(answer.succeeded);
      result.className = 'txn-result ok';
      setText(result, (answer.succeeded ? 'The conditions held: Then ran' : 'A condition failed: Else ran')
        + (answer.version !== undefined ? ', version ' + answer.version : '') + ' (the answer is in the message log).');
    } else {
      result.className = 'txn-result err';
      setText(result, 'Refused: ' + (r.status === 0 ? '' : r.status + ' ') + r.body);
    }
  }

  $('txn-add-if').addEventListener('click', () => focusFirst(addCondition()));
  $('txn-add-then').addEventListener('click', () => focusFirst(addOperation('then')));
  $('txn-add-else').addEventListener('click', () => focusFirst(addOperation('else', 'get')));
  $('txn-reset').addEventListener('click', reset);
  $('txn-form').addEventListener('submit', submit);
  reset();
  return { addCondition, addOperation, reset };
}
