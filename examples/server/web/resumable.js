// Resumable uploads for the demo page, over tus 1.0.0 (core, creation,
// termination) at {prefix}/uploads/. A file larger than the threshold is
// created with a POST and sent in PATCHes of chunkSize bytes. Its upload
// URL is kept in localStorage under name:size:lastModified, so that after
// a reload (or a crash of the browser) picking the same file again goes
// on from the offset the server has. A dropped connection, a 5xx, 409 or
// 423 pauses the upload: it waits (1 s doubling to 10 s, or Retry-After),
// asks the server for its offset (HEAD) and goes on.

const TUS_VERSION = '1.0.0';
const STORE_PREFIX = 'attachment-demo-upload ';
const MiB = 1 << 20;
const params = new URLSearchParams(location.search);

function sizeParam(name, fallback) {
  const n = parseInt(params.get(name), 10);
  return n > 0 ? n : fallback;
}

// ?resumable_threshold=BYTES: larger files go through tus (default 8 MiB).
export const threshold = sizeParam('resumable_threshold', 8 * MiB);
// ?chunk_size=BYTES: the bytes of one PATCH (default 8 MiB).
export const chunkSize = sizeParam('chunk_size', 8 * MiB);

// TusError is an answer that is not the one wanted (status 0: no answer).
// retry says whether waiting and asking again may help.
export class TusError extends Error {
  constructor(status, message, { retryAfter = 0, body = '' } = {}) {
    super(message);
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter; // seconds, 0 when not given
    this.retry = status === 0 || status >= 500 || status === 409 || status === 423;
  }
}

function tusError(method, xhrOrResp, body) {
  const status = xhrOrResp.status;
  const get = (h) => (xhrOrResp.getResponseHeader ? xhrOrResp.getResponseHeader(h) : xhrOrResp.headers.get(h));
  const ra = parseInt(get('Retry-After') || '', 10);
  return new TusError(status, `${method} answered ${status}`, { retryAfter: ra > 0 ? ra : 0, body });
}

const fileKey = (file) => `${file.name}:${file.size}:${file.lastModified}`;

// ---- the record of unfinished uploads, in localStorage -----------------

function saved(key) {
  try {
    return JSON.parse(localStorage.getItem(STORE_PREFIX + key) || 'null');
  } catch {
    return null;
  }
}

function save(key, entry) {
  localStorage.setItem(STORE_PREFIX + key, JSON.stringify(entry));
}

function forget(key) {
  localStorage.removeItem(STORE_PREFIX + key);
}

function savedEntries() {
  const out = [];
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (!k.startsWith(STORE_PREFIX)) continue;
    const e = saved(k.slice(STORE_PREFIX.length));
    if (e && e.url) out.push({ key: k.slice(STORE_PREFIX.length), ...e });
  }
  return out;
}

// ---- the protocol ------------------------------------------------------

const sleep = (s) => new Promise((resolve) => setTimeout(resolve, s * 1000));

// metadataHeader is Upload-Metadata: each value in base64 of its UTF-8.
function metadataHeader(pairs) {
  const b64 = (s) => btoa(Array.from(new TextEncoder().encode(s), (b) => String.fromCharCode(b)).join(''));
  return Object.entries(pairs)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${b64(v)}`)
    .join(',');
}

export function resumableUploads({ api, authHeaders, onError }) {
  const active = new Set(); // keys being uploaded by this page
  const list = document.getElementById('unfinished');
  const box = document.getElementById('unfinished-box');

  // call makes a request without a body to send in pieces: fetch.
  async function call(method, url, headers = {}) {
    let resp;
    try {
      resp = await fetch(url, {
        method,
        headers: authHeaders({ 'Tus-Resumable': TUS_VERSION, ...headers }),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (e) {
      throw new TusError(0, `${method}: ${e?.message || e}`);
    }
    return resp;
  }

  // create makes the upload (POST) and answers its URL.
  async function create(file) {
    const resp = await call('POST', `${api}uploads/`, {
      'Upload-Length': String(file.size),
      'Upload-Metadata': metadataHeader({ filename: file.name, filetype: file.type }),
    });
    const loc = resp.headers.get('Location');
    if (resp.status !== 201 || !loc) throw tusError('POST', resp, await resp.text());
    return new URL(loc, location.href).href;
  }

  // head answers the server's state of the upload, or null when it is
  // gone (404, 410).
  async function head(url) {
    const resp = await call('HEAD', url);
    if (resp.status === 404 || resp.status === 410) return null;
    const offset = parseInt(resp.headers.get('Upload-Offset') || '', 10);
    if (!resp.ok || !(offset >= 0)) throw tusError('HEAD', resp, '');
    return {
      offset,
      length: parseInt(resp.headers.get('Upload-Length') || '-1', 10),
      location: resp.headers.get('Location') || '',
    };
  }

  // patch sends the chunk at offset with an XMLHttpRequest, for its
  // progress events, and answers the new offset and, once the upload is
  // complete, the attachment's Location.
  function patch(url, file, offset, ui) {
    const end = Math.min(file.size, offset + chunkSize);
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PATCH', url);
      const headers = authHeaders({
        'Tus-Resumable': TUS_VERSION,
        'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream',
      });
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      xhr.upload.addEventListener('progress', (e) => ui.progress(offset + e.loaded));
      xhr.upload.addEventListener('load', () => {
        if (end === file.size) ui.state('sent', 'Storing…');
      });
      xhr.addEventListener('load', () => {
        const next = parseInt(xhr.getResponseHeader('Upload-Offset') || '', 10);
        if (xhr.status !== 204 || !(next >= 0)) {
          reject(tusError('PATCH', xhr, xhr.responseText));
          return;
        }
        resolve({ offset: next, location: xhr.getResponseHeader('Location') || '' });
      });
      for (const ev of ['error', 'abort', 'timeout']) {
        xhr.addEventListener(ev, () => reject(new TusError(0, `PATCH: ${ev}`)));
      }
      xhr.send(file.slice(offset, end));
    });
  }

  // upload sends file, resuming the upload kept for it if there is one,
  // and answers the attachment's URL. ui.progress(bytes) and
  // ui.state(state, text) show how it goes.
  async function upload(file, ui) {
    const key = fileKey(file);
    if (active.has(key)) throw new TusError(409, `${file.name} is being uploaded already`);
    active.add(key);
    removeRow(key);
    let url = saved(key)?.url || '';
    let offset = url ? -1 : 0; // -1: ask the server
    let delay = 1;
    try {
      for (;;) {
        try {
          if (!url) {
            ui.state('uploading', 'Starting…');
            url = await create(file);
            save(key, { url, name: file.name, size: file.size, started: Date.now() });
            offset = 0;
          }
          if (offset < 0) {
            const st = await head(url);
            if (!st || (st.length >= 0 && st.length !== file.size)) {
              // Gone (expired, discarded) or another file: start afresh.
              forget(key);
              url = '';
              continue;
            }
            if (st.location) {
              forget(key);
              return st.location;
            }
            offset = st.offset;
          }
          ui.state('uploading', `${Math.floor((offset / file.size) * 100)}%`);
          ui.progress(offset);
          const r = await patch(url, file, offset, ui);
          delay = 1;
          if (r.location) {
            forget(key);
            return r.location;
          }
          offset = r.offset;
        } catch (e) {
          if (!(e instanceof TusError) || !e.retry) throw e;
          ui.state('paused', 'paused, retrying');
          await sleep(e.retryAfter || delay);
          delay = Math.min(10, delay * 2);
          offset = url ? -1 : 0;
        }
      }
    } catch (e) {
      if (e instanceof TusError && (e.status === 404 || e.status === 410)) forget(key);
      throw e;
    } finally {
      active.delete(key);
    }
  }

  // ---- unfinished uploads left by an earlier page ----------------------

  function removeRow(key) {
    for (const li of list.querySelectorAll('[data-testid=unfinished-row]')) {
      if (li.dataset.key === key) li.remove();
    }
    box.hidden = list.children.length === 0;
  }

  function showUnfinished() {
    for (const e of savedEntries()) {
      if (active.has(e.key)) continue;
      const li = document.createElement('li');
      li.dataset.testid = 'unfinished-row';
      li.dataset.key = e.key;
      li.dataset.filename = e.name;
      const name = document.createElement('span');
      name.className = 'fname';
      name.textContent = e.name;
      name.title = e.name;
      const state = document.createElement('span');
      state.className = 'state';
      state.dataset.testid = 'unfinished-state';
      state.textContent = 'pick the same file to resume';
      const discard = document.createElement('button');
      discard.type = 'button';
      discard.className = 'danger';
      discard.dataset.testid = 'unfinished-discard';
      discard.textContent = 'Discard';
      discard.setAttribute('aria-label', `Discard the unfinished upload of ${e.name}`);
      discard.addEventListener('click', () => discardUpload(e));
      li.append(name, state, discard);
      list.append(li);
      // How far it got, or that it is gone.
      head(e.url).then(
        (st) => {
          if (!st || st.location) {
            forget(e.key);
            removeRow(e.key);
            return;
          }
          li.dataset.offset = String(st.offset);
          state.textContent = `${Math.floor((st.offset / e.size) * 100)}% sent: pick the same file to resume`;
        },
        () => {}, // offline or no token yet: keep it
      );
    }
    box.hidden = list.children.length === 0;
  }

  // discardUpload ends an unfinished upload on the server (DELETE),
  // waiting a little while another request still holds it.
  async function discardUpload(e) {
    for (let attempt = 1; ; attempt++) {
      try {
        const resp = await call('DELETE', e.url);
        if (!resp.ok && resp.status !== 404 && resp.status !== 410) throw tusError('DELETE', resp, await resp.text());
        forget(e.key);
        removeRow(e.key);
        return;
      } catch (err) {
        if (!(err instanceof TusError) || !err.retry || attempt === 5) {
          onError(err);
          return;
        }
        await sleep(err.retryAfter || attempt);
      }
    }
  }

  return { upload, showUnfinished };
}
