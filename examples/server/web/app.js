// The demo page of the attachment API: upload, list, search, rename,
// delete. It talks only to the public API under the prefix the server
// wrote into <meta name="attachment-prefix">. Files over a threshold are
// uploaded resumably (resumable.js, tus).

import { resumableUploads, threshold, TusError } from './resumable.js';

const prefix = (document.querySelector('meta[name="attachment-prefix"]')?.content || '').replace(/\/+$/, '');
const api = prefix + '/';
const TOKEN_KEY = 'attachment-demo-token';
const THUMB_SIZE = 256;
const MAX_PARALLEL_UPLOADS = 3;
const params = new URLSearchParams(location.search);
// ?page_size=N sets the page size of the list (1 to 1000, default 20).
const pageSize = Math.min(1000, Math.max(1, parseInt(params.get('page_size'), 10) || 20));

const $ = (id) => document.getElementById(id);
const grid = $('grid');
const cardTemplate = $('card-template');
const cards = new Map(); // id -> <li>
let query = ''; // the search shown
let cursor = ''; // the next page's cursor, '' when there is none
let listSeq = 0; // the latest list request; older answers are dropped

// ---- API access -------------------------------------------------------

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

function authHeaders(headers = {}) {
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  return headers;
}

// APIError carries an RFC 9457 problem (title, detail, code, status).
class APIError extends Error {
  constructor({ title, detail = '', code = '', status = 0 }) {
    super(detail || title);
    this.title = title;
    this.detail = detail;
    this.code = code;
    this.status = status;
  }
}

function problemFromText(status, statusText, text) {
  let p = {};
  try {
    p = JSON.parse(text);
  } catch {
    // not JSON: keep the status line
  }
  return new APIError({
    title: p.title || statusText || `HTTP ${status}`,
    detail: p.detail || '',
    code: p.code || '',
    status,
  });
}

// request calls the API and answers the decoded JSON, or throws an
// APIError with the problem the API sent.
async function request(method, url, { json } = {}) {
  const headers = authHeaders({ Accept: 'application/json' });
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  let resp;
  try {
    resp = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  } catch (e) {
    throw new APIError({ title: 'Network error', detail: String(e?.message || e) });
  }
  if (!resp.ok) {
    throw problemFromText(resp.status, resp.statusText, await resp.text());
  }
  return resp.status === 204 ? null : resp.json();
}

// ---- messages ---------------------------------------------------------

function setStatus(text) {
  $('status').textContent = text;
}

function showError(err) {
  const e = err instanceof APIError ? err : new APIError({ title: 'Error', detail: String(err?.message || err) });
  $('error-title').textContent = e.title + (e.status ? ` (${e.status})` : '');
  $('error-detail').textContent = e.detail;
  $('error-code').textContent = e.code;
  $('error-code').hidden = !e.code;
  $('error').hidden = false;
  if (e.code === 'unauthorized') {
    $('token-box').open = true;
  }
}

function clearError() {
  $('error').hidden = true;
}

$('error-close').addEventListener('click', clearError);

// ---- formatting -------------------------------------------------------

function formatSize(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function typeLabel(rec) {
  const dot = rec.filename.lastIndexOf('.');
  if (dot > 0 && rec.filename.length - dot <= 5) {
    return rec.filename.slice(dot + 1).toUpperCase();
  }
  const sub = (rec.content_type || '').split(';')[0].split('/')[1] || 'file';
  return sub.replace(/^x-/, '').slice(0, 6).toUpperCase();
}

// ---- cards ------------------------------------------------------------

function addCard(rec, { prepend = false } = {}) {
  let li = cards.get(rec.id);
  if (!li) {
    li = cardTemplate.content.firstElementChild.cloneNode(true);
    wireCard(li);
    cards.set(rec.id, li);
    if (prepend) grid.prepend(li);
    else grid.append(li);
  }
  fillCard(li, rec);
  updateEmpty();
  return li;
}

function removeCard(id) {
  const li = cards.get(id);
  if (li) {
    li.remove();
    cards.delete(id);
  }
  pending.delete(id);
  updateEmpty();
}

function updateEmpty() {
  $('empty').textContent = query ? `No files match “${query}”.` : 'No files yet: upload some above.';
  $('empty').hidden = cards.size > 0;
}

function fillCard(li, rec) {
  const old = li.record;
  li.record = rec;
  li.dataset.id = rec.id;
  li.dataset.filename = rec.filename;
  li.querySelector('[data-testid=card-name]').textContent = rec.filename;
  li.querySelector('[data-testid=card-meta]').textContent = `${rec.content_type} · ${formatSize(rec.size)}`;
  li.querySelector('[data-testid=type-label]').textContent = typeLabel(rec);
  const dl = li.querySelector('[data-testid=download]');
  dl.href = rec.url;
  dl.download = rec.filename;
  dl.setAttribute('aria-label', `Download ${rec.filename}`);
  li.querySelector('[data-testid=rename]').setAttribute('aria-label', `Rename ${rec.filename}`);
  li.querySelector('[data-testid=delete]').setAttribute('aria-label', `Delete ${rec.filename}`);
  const input = li.querySelector('[data-testid=rename-input]');
  input.id = `rename-${rec.id}`;
  li.querySelector('.rename label').htmlFor = input.id;
  const img = li.querySelector('img[data-testid=thumb]');
  if (img) img.alt = `Thumbnail of ${rec.filename}`;
  if (!old) startThumbnail(li, rec);
}

// startThumbnail shows the thumbnail once the thumbnail processor is done,
// and a type label for what has no thumbnail.
function startThumbnail(li, rec) {
  const box = li.querySelector('[data-testid=thumb-box]');
  if (!rec.thumbnail_url) {
    box.dataset.thumb = 'none';
    return;
  }
  const st = rec.processing?.thumbnail;
  if (!st || st === 'completed') {
    loadThumbnail(li);
  } else if (st === 'failed' || st === 'canceled') {
    box.dataset.thumb = 'none';
  } else {
    box.classList.add('pending');
    box.dataset.thumb = 'pending';
    watch(rec.id);
  }
}

async function loadThumbnail(li) {
  const rec = li.record;
  const box = li.querySelector('[data-testid=thumb-box]');
  box.classList.remove('pending');
  box.dataset.thumb = 'loading';
  const img = document.createElement('img');
  img.dataset.testid = 'thumb';
  img.alt = `Thumbnail of ${rec.filename}`;
  img.decoding = 'async';
  img.addEventListener('load', () => {
    box.classList.add('has-img');
    box.dataset.thumb = 'loaded';
  });
  img.addEventListener('error', () => {
    // 204: no thumbnail can be made; show the type label.
    img.remove();
    box.classList.remove('has-img');
    box.dataset.thumb = 'none';
  });
  const url = `${rec.thumbnail_url}?size=${THUMB_SIZE}`;
  if (!token()) {
    img.src = url;
    box.append(img);
    return;
  }
  // An <img> cannot send the token: fetch the thumbnail and show a blob.
  try {
    const resp = await fetch(url, { headers: authHeaders() });
    if (!resp.ok) throw problemFromText(resp.status, resp.statusText, await resp.text());
    if (resp.status === 204) {
      box.dataset.thumb = 'none';
      return;
    }
    const blobURL = URL.createObjectURL(await resp.blob());
    img.addEventListener('load', () => URL.revokeObjectURL(blobURL), { once: true });
    img.src = blobURL;
    box.append(img);
  } catch (e) {
    box.dataset.thumb = 'none';
    showError(e);
  }
}

// ---- processing status: one POST /_status for every pending card ------

const pending = new Set();
let pollTimer = 0;

function watch(id) {
  pending.add(id);
  if (!pollTimer) pollTimer = setTimeout(poll, 400);
}

async function poll() {
  pollTimer = 0;
  const ids = [...pending].slice(0, 1000);
  if (ids.length === 0) return;
  let delay = 800;
  try {
    const out = await request('POST', `${prefix}/_status`, { json: { attachments: ids } });
    for (const id of ids) {
      const st = out[id];
      const li = cards.get(id);
      if (!st || st.error || !li) {
        pending.delete(id); // deleted meanwhile
        continue;
      }
      const th = st.processing?.thumbnail;
      if (!th || th === 'completed') {
        pending.delete(id);
        loadThumbnail(li);
      } else if (th === 'failed' || th === 'canceled') {
        pending.delete(id);
        const box = li.querySelector('[data-testid=thumb-box]');
        box.classList.remove('pending');
        box.dataset.thumb = 'none';
      }
    }
  } catch (e) {
    showError(e);
    delay = 5000;
  }
  if (pending.size && !pollTimer) pollTimer = setTimeout(poll, delay);
}

// ---- list, search, load more ------------------------------------------


async function loadList({ reset }) {
  const seq = ++listSeq;
  const q = new URLSearchParams({ limit: String(pageSize) });
  if (query) q.set('q', query);
  if (!reset && cursor) q.set('cursor', cursor);
  setStatus(reset ? 'Loading…' : 'Loading more…');
  grid.setAttribute('aria-busy', 'true');
  $('load-more').disabled = true;
  let page;
  try {
    page = await request('GET', `${api}?${q}`);
  } catch (e) {
    if (seq === listSeq) {
      setStatus('');
      $('load-more').disabled = false;
      grid.setAttribute('aria-busy', 'false');
      showError(e);
    }
    return;
  }
  if (seq !== listSeq) return; // a newer search answered or will answer
  if (reset) {
    grid.replaceChildren();
    cards.clear();
    pending.clear();
  }
  for (const rec of page.data) addCard(rec);
  cursor = page.has_more ? page.next_cursor || '' : '';
  $('load-more').hidden = !cursor;
  $('load-more').disabled = false;
  grid.setAttribute('aria-busy', 'false');
  grid.dataset.loaded = 'true';
  const n = cards.size;
  const what = `${n} ${n === 1 ? 'file' : 'files'}`;
  setStatus(`${query ? `${what} matching “${query}”` : what}${cursor ? ' shown, more available' : ''}`);
  updateEmpty();
}

let searchTimer = 0;
function search(q) {
  clearTimeout(searchTimer);
  query = q.trim();
  cursor = '';
  loadList({ reset: true });
}

$('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  search($('search').value);
});
$('search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => search($('search').value), 300);
});
$('load-more').addEventListener('click', () => loadList({ reset: false }));

// ---- upload -----------------------------------------------------------

const uploadQueue = [];
let uploading = 0;

function addFiles(files) {
  clearError();
  for (const file of files) {
    uploadQueue.push({ file, row: uploadRow(file) });
  }
  pump();
}

function uploadRow(file) {
  const li = document.createElement('li');
  li.dataset.testid = 'upload-row';
  li.dataset.filename = file.name;
  li.dataset.state = 'queued';
  const name = document.createElement('span');
  name.className = 'fname';
  name.textContent = file.name;
  name.title = file.name;
  const bar = document.createElement('progress');
  bar.max = 100;
  bar.value = 0;
  bar.dataset.testid = 'upload-progress';
  bar.setAttribute('aria-label', `Upload of ${file.name}`);
  const state = document.createElement('span');
  state.className = 'state';
  state.dataset.testid = 'upload-state';
  state.textContent = 'Queued';
  li.append(name, bar, state);
  $('uploads').append(li);
  return li;
}

function setRow(row, state, text, percent) {
  row.dataset.state = state;
  row.querySelector('.state').textContent = text;
  if (percent !== undefined) {
    row.querySelector('progress').value = percent;
  }
}

function pump() {
  while (uploading < MAX_PARALLEL_UPLOADS && uploadQueue.length) {
    const job = uploadQueue.shift();
    uploading++;
    upload(job).finally(() => {
      uploading--;
      pump();
      if (uploading === 0 && uploadQueue.length === 0) setStatus('Uploads finished');
    });
  }
}

// upload sends one file: resumably (tus) when it is larger than the
// threshold, else as multipart/form-data, reporting its progress.
function upload({ file, row }) {
  return file.size > threshold ? uploadResumable({ file, row }) : uploadForm({ file, row });
}

const resumable = resumableUploads({ api, authHeaders, onError: (e) => showError(tusProblem(e)) });

// tusProblem is the APIError of what a tus request answered.
function tusProblem(e) {
  if (!(e instanceof TusError)) return e;
  if (e.status === 0) return new APIError({ title: 'Network error', detail: e.message });
  return problemFromText(e.status, e.message, e.body);
}

// uploadResumable sends a large file in chunks, resuming an upload left
// by an earlier page when there is one, and shows the attachment made.
async function uploadResumable({ file, row }) {
  row.dataset.resumable = 'true';
  setRow(row, 'uploading', '0%', 0);
  const ui = {
    progress: (bytes) => {
      if (row.dataset.state === 'uploading') {
        const p = Math.floor((bytes / file.size) * 100);
        setRow(row, 'uploading', `${p}%`, p);
      }
    },
    state: (state, text) => setRow(row, state, text),
  };
  try {
    const url = await resumable.upload(file, ui);
    setRow(row, 'sent', 'Storing…', 100);
    const rec = await request('GET', `${url}/metadata`);
    setRow(row, 'done', 'Done', 100);
    if (!query || rec.filename.toLowerCase().includes(query.toLowerCase())) {
      addCard(rec, { prepend: true });
    }
    setStatus(`Uploaded ${rec.filename}`);
  } catch (e) {
    const err = tusProblem(e);
    setRow(row, 'error', err.code || 'Failed');
    showError(err);
  }
}

// uploadForm sends one file as multipart/form-data, reporting its progress.
function uploadForm({ file, row }) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', api);
    xhr.setRequestHeader('Accept', 'application/json');
    const t = token();
    if (t) xhr.setRequestHeader('Authorization', 'Bearer ' + t);
    setRow(row, 'uploading', '0%', 0);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && e.total > 0) {
        const p = Math.floor((e.loaded / e.total) * 100);
        setRow(row, 'uploading', `${p}%`, p);
      }
    });
    xhr.upload.addEventListener('load', () => setRow(row, 'sent', 'Storing…', 100));
    xhr.addEventListener('load', () => {
      if (xhr.status === 201) {
        let rec;
        try {
          rec = JSON.parse(xhr.responseText).attachments[0];
        } catch (e) {
          setRow(row, 'error', 'Failed');
          showError(e);
          resolve();
          return;
        }
        setRow(row, 'done', 'Done', 100);
        if (!query || rec.filename.toLowerCase().includes(query.toLowerCase())) {
          addCard(rec, { prepend: true });
        }
        setStatus(`Uploaded ${rec.filename}`);
      } else {
        const err = problemFromText(xhr.status, xhr.statusText, xhr.responseText);
        setRow(row, 'error', err.code || 'Failed');
        showError(err);
      }
      resolve();
    });
    const fail = (title) => () => {
      setRow(row, 'error', title);
      showError(new APIError({ title, detail: `upload of ${file.name}` }));
      resolve();
    };
    xhr.addEventListener('error', fail('Network error'));
    xhr.addEventListener('abort', fail('Upload aborted'));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

$('file-input').addEventListener('change', (e) => {
  addFiles(e.target.files);
  e.target.value = '';
});

const drop = $('drop-zone');
for (const type of ['dragenter', 'dragover']) {
  drop.addEventListener(type, (e) => {
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    drop.classList.add('over');
  });
}
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer?.files?.length) addFiles(e.dataTransfer.files);
});
// A file dropped beside the zone must not navigate away from the page.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => e.preventDefault());

// ---- rename, delete, download -----------------------------------------

function confirmDialog(text, okLabel) {
  const dialog = $('confirm');
  $('confirm-text').textContent = text;
  dialog.querySelector('[value=ok]').textContent = okLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}

function wireCard(li) {
  const form = li.querySelector('[data-testid=rename-form]');
  const input = form.querySelector('input');
  li.querySelector('[data-testid=rename]').addEventListener('click', () => {
    form.hidden = false;
    input.value = li.record.filename;
    input.focus();
    const dot = input.value.lastIndexOf('.');
    input.setSelectionRange(0, dot > 0 ? dot : input.value.length);
  });
  li.querySelector('[data-testid=rename-cancel]').addEventListener('click', () => {
    form.hidden = true;
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      form.hidden = true;
      li.querySelector('[data-testid=rename]').focus();
    }
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const rec = li.record;
    const filename = input.value.trim();
    if (!filename || filename === rec.filename) {
      form.hidden = true;
      return;
    }
    try {
      const updated = await request('PATCH', rec.url, { json: { filename } });
      fillCard(li, updated);
      form.hidden = true;
      clearError();
      setStatus(`Renamed ${rec.filename} to ${updated.filename}`);
    } catch (err) {
      showError(err);
    }
  });

  li.querySelector('[data-testid=delete]').addEventListener('click', async () => {
    const rec = li.record;
    if (!(await confirmDialog(`Delete “${rec.filename}”?`, 'Delete'))) return;
    try {
      try {
        await request('DELETE', rec.url);
      } catch (err) {
        if (!(err instanceof APIError) || err.code !== 'referenced') throw err;
        const current = await request('GET', `${rec.url}/metadata`);
        const refs = (current.refs || []).join(', ') || 'something';
        if (!(await confirmDialog(`“${rec.filename}” is still referenced by ${refs}. Delete it anyway?`, 'Delete anyway'))) return;
        await request('DELETE', `${rec.url}?force=true`);
      }
      removeCard(rec.id);
      clearError();
      setStatus(`Deleted ${rec.filename}`);
    } catch (err) {
      showError(err);
    }
  });

  li.querySelector('[data-testid=download]').addEventListener('click', async (e) => {
    if (!token()) return; // a plain link: the API answers Content-Disposition: attachment
    e.preventDefault();
    const rec = li.record;
    try {
      const resp = await fetch(rec.url, { headers: authHeaders() });
      if (!resp.ok) throw problemFromText(resp.status, resp.statusText, await resp.text());
      const blobURL = URL.createObjectURL(await resp.blob());
      const a = document.createElement('a');
      a.href = blobURL;
      a.download = rec.filename;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(blobURL), 10000);
    } catch (err) {
      showError(err);
    }
  });
}

// ---- token ------------------------------------------------------------

$('token').value = token();
$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('token').value.trim();
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
  clearError();
  setStatus(t ? 'Token saved for this tab' : 'Token forgotten');
  loadList({ reset: true });
});
$('token-clear').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  $('token').value = '';
  setStatus('Token forgotten');
});

// ---- start ------------------------------------------------------------

resumable.showUnfinished();
document.documentElement.dataset.ready = 'true';
loadList({ reset: true });
