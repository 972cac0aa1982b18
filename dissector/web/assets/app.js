// SPDX-License-Identifier: Apache-2.0
// tapvault dashboard: one page per hash route (#/coverage?from=..&to=..),
// everything from the server's /api/tool/NAME (the MCP tools' structured
// results). Captured bytes are attacker-controlled: text only, never HTML.
'use strict';

const state = { session: null, token: null, renders: 0 };

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) e.append(k instanceof Node ? k : document.createTextNode(k === null || k === undefined ? '' : String(k)));
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function route() {
  const h = location.hash.replace(/^#\/?/, '') || 'coverage';
  const [page, q] = h.split('?');
  return { page, params: new URLSearchParams(q || '') };
}
function go(page, params) {
  location.hash = '#/' + page + '?' + params.toString();
}
function windowParams() {
  const p = new URLSearchParams();
  p.set('from', document.getElementById('w-from').value || '-15m');
  p.set('to', document.getElementById('w-to').value || 'now');
  const n = document.getElementById('w-nodes').value.trim();
  if (n) p.set('nodes', n);
  if (document.getElementById('tz-local').checked) p.set('tz', 'local');
  return p;
}
function windowArgs(params) {
  const a = { from: params.get('from') || '-15m', to: params.get('to') || 'now' };
  const n = params.get('nodes');
  if (n) a.nodes = n.split(',').filter(Boolean);
  return a;
}
function fmtTime(t, params) {
  if (!t) return '-';
  if (params && params.get('tz') === 'local') return new Date(Date.parse(t)).toLocaleString();
  return t.replace(/\.\d+Z$/, 'Z');
}
function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}

async function api(path, opts) {
  const headers = Object.assign({}, (opts && opts.headers) || {});
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  const r = await fetch(path, Object.assign({}, opts, { headers }));
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}
function tool(name, args, write) {
  const headers = { 'Content-Type': 'application/json' };
  if (write) headers['X-CSRF-Token'] = state.session.csrf;
  return api('/api/tool/' + name, { method: 'POST', headers, body: JSON.stringify(args) });
}
function downloadUrl(path, params) {
  const p = new URLSearchParams(params);
  if (state.token) p.set('token', state.token);
  return path + '?' + p.toString();
}
function status(text, bad) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = bad ? 'warn' : '';
}
function notCaptured(cov) {
  if (!cov || !cov.not_captured || !cov.not_captured.length) return el('p', {}, 'Coverage complete over the window.');
  return el('div', { class: 'warn', id: 'not-captured' }, el('strong', {}, 'Not captured:'),
    el('ul', {}, cov.not_captured.slice(0, 20).map(t => el('li', {}, t))));
}

// ---- Coverage: one lane per node, gaps, snapshots, drag to select ----
async function pageCoverage(main, params) {
  const args = windowArgs(params);
  const [cov, snaps] = await Promise.all([tool('get_coverage', args), tool('list_snapshots', {})]);
  const c = cov.coverage;
  const from = Date.parse(c.from), to = Date.parse(c.to);
  const W = 900, laneH = 26, top = 24, left = 120;
  const H = top + c.nodes.length * laneH + 30;
  const x = t => left + (W - left - 10) * (t - from) / (to - from);
  const s = svg('svg', { width: W, height: H, class: 'lanes', id: 'lanes' });
  c.nodes.forEach((n, i) => {
    const y = top + i * laneH;
    const label = svg('text', { x: 4, y: y + 16, class: 'lane-label' });
    label.textContent = n.node;
    s.append(label);
    s.append(svg('rect', { x: left, y: y + 4, width: W - left - 10, height: laneH - 8, class: 'covered' }));
    for (const g of n.gaps) {
      const a = x(Date.parse(g.from)), b = x(Date.parse(g.to));
      s.append(svg('rect', { x: a, y: y + 4, width: Math.max(1, b - a), height: laneH - 8, class: 'gap' }));
    }
  });
  for (const sn of snaps.snapshots) {
    if (!sn.from || !sn.to) continue;
    const a = Math.max(left, x(Date.parse(sn.from))), b = Math.min(W - 10, x(Date.parse(sn.to)));
    if (b <= a) continue;
    const r = svg('rect', { x: a, y: 4, width: b - a, height: H - 34, class: 'snap' });
    const t = svg('title', {});
    t.textContent = 'snapshot ' + sn.name;
    r.append(t);
    s.append(r);
  }
  const axis = [from, (from + to) / 2, to].map((t, i) => {
    const e = svg('text', { x: i === 0 ? left : i === 1 ? (left + W) / 2 - 60 : W - 170, y: H - 8, class: 'lane-label' });
    e.textContent = fmtTime(new Date(t).toISOString(), params);
    return e;
  });
  s.append(...axis);
  const sel = svg('rect', { x: 0, y: top, width: 0, height: H - top - 30, class: 'sel' });
  s.append(sel);
  const info = el('div', { class: 'panel', id: 'selection' }, 'Drag across the lanes to select a window.');
  let start = null;
  const tAt = px => from + (Math.min(Math.max(px, left), W - 10) - left) * (to - from) / (W - left - 10);
  const px = ev => ev.clientX - s.getBoundingClientRect().left;
  s.addEventListener('mousedown', ev => { start = px(ev); sel.setAttribute('x', start); sel.setAttribute('width', 0); });
  s.addEventListener('mousemove', ev => {
    if (start === null) return;
    const p = px(ev);
    sel.setAttribute('x', Math.min(p, start));
    sel.setAttribute('width', Math.abs(p - start));
  });
  s.addEventListener('mouseup', ev => {
    if (start === null) return;
    const a = tAt(Math.min(start, px(ev))), b = tAt(Math.max(start, px(ev)));
    start = null;
    if (b - a < 1) return;
    selectWindow(info, new Date(a).toISOString(), new Date(b).toISOString(), args.nodes, params);
  });
  main.replaceChildren(el('h2', {}, 'Coverage'), el('p', {}, cov.summary || ''), s, info, notCaptured(c),
    el('h3', {}, 'Nodes'), nodeTable(c, params));
}
function nodeTable(c, params) {
  return el('table', { id: 'nodes' }, el('tr', {}, ['node', 'segments', 'packets', 'stored', 'covered', 'gaps', 'drops', 'capture filter'].map(h => el('th', {}, h))),
    c.nodes.map(n => el('tr', {}, el('td', {}, n.node), el('td', {}, n.segments), el('td', {}, n.packets), el('td', {}, fmtBytes(n.bytes)),
      el('td', {}, (100 * n.covered_fraction).toFixed(1) + '%'), el('td', {}, n.gaps.length),
      el('td', {}, n.drops ? n.drops.kernel + n.drops.interface : 0),
      el('td', {}, (n.capture || []).map(r => (r.interfaces || []).map(i => i.name + (i.filter ? ': ' + i.filter : '')).join(', ')).filter(Boolean)[0] || 'no capture record'))));
}
async function selectWindow(info, from, to, nodes, params) {
  const args = { from, to };
  if (nodes) args.nodes = nodes;
  info.replaceChildren('Selected ' + fmtTime(from, params) + ' – ' + fmtTime(to, params) + ' …');
  try {
    const t = await tool('top_talkers', Object.assign({ by: 'node' }, args));
    const packets = t.groups.reduce((s, g) => s + g.packets, 0), bytes = t.groups.reduce((s, g) => s + g.bytes, 0);
    const q = { from, to };
    if (nodes) q.nodes = nodes.join(',');
    const create = el('form', { id: 'create-snapshot', on: { submit: async ev => {
      ev.preventDefault();
      const name = create.querySelector('[name=name]').value;
      try {
        await tool('create_snapshot', Object.assign({ name }, args), true);
        status('snapshot ' + name + ' created');
        go('snapshots', windowParams());
      } catch (e) { status(e.message, true); }
    } } }, el('input', { name: 'name', placeholder: 'snapshot name', required: 'required' }),
    el('button', { type: 'submit', disabled: state.session.allow_write ? null : 'disabled' }, 'Create snapshot'),
    state.session.allow_write ? '' : ' (read-only server)');
    info.replaceChildren(el('p', { id: 'selection-stats' }, `${fmtTime(from, params)} – ${fmtTime(to, params)}: ${packets} packets, ${fmtBytes(bytes)}, ${t.flows} flows`),
      el('a', { id: 'download-pcap', href: downloadUrl('/api/pcap', q), download: '' }, 'Download PCAP'), ' ',
      el('a', { href: '#/flows?' + new URLSearchParams(q).toString() }, 'Flows'), ' ',
      el('a', { href: '#/entries?' + new URLSearchParams(q).toString() }, 'Entries'), create);
  } catch (e) { info.replaceChildren(el('p', { class: 'warn' }, e.message)); }
}

// ---- Snapshots ----
async function pageSnapshots(main, params) {
  const r = await tool('list_snapshots', {});
  const rows = r.snapshots.map(s => {
    const q = { from: s.from || '', to: s.to || '' };
    if (s.nodes && s.nodes.length) q.nodes = s.nodes.join(',');
    const del = el('button', { disabled: state.session.allow_write ? null : 'disabled', on: { click: async () => {
      if (!confirm('Delete snapshot ' + s.name + '?')) return;
      try { await tool('delete_snapshot', { name: s.name }, true); status('deleted ' + s.name); render(); } catch (e) { status(e.message, true); }
    } } }, 'Delete');
    return el('tr', { class: 'snapshot' }, el('td', {}, s.name), el('td', {}, fmtBytes(s.bytes)), el('td', {}, fmtTime(s.from, params)),
      el('td', {}, fmtTime(s.to, params)), el('td', {}, s.status + (s.retention ? ' (' + s.retention.mode + ' until ' + s.retention.until + ')' : '') + (s.legal_hold ? ', legal hold' : '')),
      el('td', {}, fmtTime(s.created, params)), el('td', {}, (s.nodes || []).join(', ')),
      el('td', {}, el('a', { href: downloadUrl('/api/snapshot', { name: s.name }) }, 'Download'), ' ',
        s.from ? el('a', { href: downloadUrl('/api/pcap', q) }, 'PCAP') : '', ' ', del));
  });
  main.replaceChildren(el('h2', {}, 'Snapshots'), el('p', {}, 'Create one by selecting a window on the Coverage page.'),
    el('table', { id: 'snapshots' }, el('tr', {}, ['name', 'size', 'start', 'end', 'status', 'created', 'nodes', ''].map(h => el('th', {}, h))), rows));
}

// ---- Flows and Entries: filters, server-side paging ----
function filterForm(fields, params, page) {
  const f = el('form', { class: 'filters', id: 'filters', on: { submit: ev => {
    ev.preventDefault();
    const p = new URLSearchParams(params);
    p.delete('cursor');
    for (const k of fields) { const v = f.querySelector('[name=' + k + ']').value.trim(); if (v) p.set(k, v); else p.delete(k); }
    go(page, p);
  } } }, fields.map(k => el('input', { name: k, placeholder: k, value: params.get(k) || '', size: 10 })), el('button', { type: 'submit' }, 'Filter'));
  return f;
}
function filterArgs(fields, params, ints) {
  const a = windowArgs(params);
  for (const k of fields) {
    const v = params.get(k);
    if (v) a[k] = ints.includes(k) ? parseInt(v, 10) : (v === 'true' ? true : v === 'false' ? false : v);
  }
  if (params.get('cursor')) a.cursor = params.get('cursor');
  return a;
}
function pager(r, params, page) {
  const next = r.next_cursor ? el('a', { id: 'next-page', href: '#/' + page + '?' + (() => { const p = new URLSearchParams(params); p.set('cursor', r.next_cursor); return p.toString(); })() }, 'Next page') : '';
  return el('p', {}, `${r.total} in all, from ${r.offset + 1}. `, params.get('cursor') ? el('button', { on: { click: () => history.back() } }, 'Previous page') : '', ' ', next);
}
function endText(e) {
  return e.name ? (e.namespace ? e.namespace + '/' : '') + e.name + ' (' + e.ip + ':' + e.port + ')' : e.ip + ':' + e.port;
}
async function pageFlows(main, params) {
  const fields = ['ip', 'port', 'protocol', 'namespace', 'workload', 'sort'];
  const r = await tool('list_flows', Object.assign(filterArgs(fields, params, ['port']), { limit: 50 }));
  const rows = r.flows.map(f => el('tr', { class: 'row flow' }, el('td', {}, f.node), el('td', {}, endText(f.src)), el('td', {}, endText(f.dst)),
    el('td', {}, f.protocol), el('td', {}, fmtTime(f.first, params)), el('td', {}, f.packets), el('td', {}, fmtBytes(f.bytes)),
    el('td', {}, el('a', { href: downloadUrl('/api/pcap', Object.assign({ flow: f.flow }, (({ from, to }) => ({ from, to }))(windowArgs(params)))) }, 'PCAP'))));
  main.replaceChildren(el('h2', {}, 'Flows'), filterForm(fields, params, 'flows'), notCaptured(r.coverage), pager(r, params, 'flows'),
    el('table', { id: 'flows' }, el('tr', {}, ['node', 'src', 'dst', 'proto', 'first', 'packets', 'bytes', ''].map(h => el('th', {}, h))), rows));
}
async function pageEntries(main, params) {
  const fields = ['protocol', 'method', 'path', 'status', 'host', 'src', 'dst', 'failed'];
  const args = filterArgs(fields, params, ['status']);
  const r = await tool('list_api_calls', Object.assign({}, args, { limit: 50 }));
  const detail = el('div', { class: 'panel detail', id: 'entry-detail' }, 'Select a row for its headers, body and timing.');
  const w = windowArgs(params);
  const rows = r.calls.map(c => el('tr', { class: 'row entry', on: { click: async () => {
    try {
      const d = await tool('get_api_call', Object.assign({ id: c.id, body_cap: 2048 }, w));
      const call = d.call, req = call.request || {}, resp = call.response || {};
      const headers = h => (h || []).map(x => x.name + ': ' + x.value).join('\n');
      const body = m => {
        const text = m && (m.postData || m.content);
        if (text) return text.text || '(no body)';
        const v = m && (m.args || m.value || m.answers || m.messages);
        return v ? JSON.stringify(v, null, 1) : '(no body)';
      };
      detail.replaceChildren(el('h3', {}, c.protocol + ' ' + (c.method || '') + ' ' + (c.path || '')),
        el('p', {}, `${call.startTime} · ${call.elapsedTime} ms · ${endText(call.src)} → ${endText(call.dst)}${call.error ? ' · ' + call.error : ''}`),
        el('h4', {}, 'Request'), el('pre', {}, headers(req.headers)), el('pre', {}, body(req)),
        el('h4', {}, 'Response ' + (resp.status || resp.rcode || '')), el('pre', {}, headers(resp.headers)), el('pre', {}, body(resp)));
    } catch (e) { detail.replaceChildren(el('p', { class: 'warn' }, e.message)); }
  } } }, el('td', {}, fmtTime(c.startTime, params)), el('td', {}, c.protocol), el('td', {}, c.method), el('td', {}, c.path),
  el('td', {}, c.status), el('td', {}, c.src), el('td', {}, c.dst), el('td', {}, c.elapsedTime)));
  const q = (({ from, to }) => ({ from, to }))(w);
  main.replaceChildren(el('h2', {}, 'Entries'), filterForm(fields, params, 'entries'),
    el('p', {}, el('a', { id: 'export-jsonl', href: downloadUrl('/api/entries', Object.assign({ format: 'jsonl' }, q)) }, 'Export JSONL'), ' ',
      el('a', { id: 'export-har', href: downloadUrl('/api/entries', Object.assign({ format: 'har' }, q)) }, 'Export HAR')),
    notCaptured(r.coverage), pager(r, params, 'entries'),
    el('table', { id: 'entries' }, el('tr', {}, ['start', 'protocol', 'method', 'path', 'status', 'src', 'dst', 'ms'].map(h => el('th', {}, h))), rows), detail);
}

// ---- Trends: bytes per hour per key as sparklines, and the findings ----
const TREND_KINDS = ['top', 'anomalies', 'beacons', 'new-peers', 'long'];
const TREND_KEYS = ['service', 'workload', 'namespace', 'node'];
function sparkline(values) {
  const W = 240, H = 30, n = Math.max(1, values.length), max = Math.max(1, ...values);
  const g = svg('svg', { width: W, height: H, class: 'sparkline' });
  const bw = W / n;
  values.forEach((v, i) => {
    if (!v) return;
    const h = Math.max(1, v * H / max);
    g.append(svg('rect', { x: (i * bw).toFixed(2), y: (H - h).toFixed(2), width: Math.max(0.6, bw - (bw > 3 ? 1 : 0)).toFixed(2), height: h.toFixed(2), class: 'spark' }));
  });
  return g;
}
async function pageTrends(main, params) {
  const args = windowArgs(params);
  if (!params.get('from')) delete args.from; // the tool's default: the last week (new-peers: 37 days)
  const kind = params.get('kind') || 'top', by = params.get('by') || 'service';
  const form = el('form', { class: 'filters', id: 'trend-form', on: { submit: ev => {
    ev.preventDefault();
    const p = new URLSearchParams(params);
    p.set('kind', form.querySelector('[name=kind]').value);
    p.set('by', form.querySelector('[name=by]').value);
    go('trends', p);
  } } }, el('select', { name: 'kind' }, TREND_KINDS.map(k => el('option', { value: k, selected: k === kind ? 'selected' : null }, k))),
  el('select', { name: 'by' }, TREND_KEYS.map(k => el('option', { value: k, selected: k === by ? 'selected' : null }, 'by ' + k))),
  el('button', { type: 'submit' }, 'Show'));
  let r;
  try { r = await tool('trends', Object.assign({ kind, by }, args)); } catch (e) {
    main.replaceChildren(el('h2', {}, 'Trends'), form, el('p', { class: 'warn', id: 'trend-error' }, e.message)); return;
  }
  const rows = r.series.map(s => el('tr', { class: 'trend' }, el('td', {}, s.key), el('td', {}, sparkline(s.values)),
    el('td', {}, fmtBytes(s.total)), el('td', {}, 'peak ' + fmtBytes(Math.max(0, ...s.values)) + '/h')));
  const findings = (r.findings || []).map(f => el('li', { class: 'finding' },
    el('strong', {}, f.kind + (f.score !== undefined ? ' ' + Number(f.score).toFixed(2) : '')), ': ' + f.what));
  main.replaceChildren(el('h2', {}, 'Trends'), form,
    el('p', {}, `${r.summary}. ${fmtTime(r.from, params)} – ${fmtTime(r.to, params)}, ${r.hours} hours (${r.hours_with_data} with data, ${r.built_in_memory} not rolled up yet).`),
    rows.length ? el('table', { id: 'trends' }, el('tr', {}, ['key', 'bytes per hour', 'total', ''].map(h => el('th', {}, h))), rows) : '',
    el('h3', {}, 'Findings'), findings.length ? el('ul', { id: 'findings' }, findings) : el('p', { id: 'findings' }, 'None.'));
}

const pages = { coverage: pageCoverage, snapshots: pageSnapshots, flows: pageFlows, entries: pageEntries, trends: pageTrends };

async function render() {
  const { page, params } = route();
  document.getElementById('w-from').value = params.get('from') || '';
  document.getElementById('w-to').value = params.get('to') || '';
  document.getElementById('w-nodes').value = params.get('nodes') || '';
  document.getElementById('tz-local').checked = params.get('tz') === 'local';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.id === 'nav-' + page);
  const main = document.getElementById('page');
  const fn = pages[page] || pageCoverage;
  try {
    status('');
    await fn(main, params);
    document.body.dataset.page = page;
    document.body.dataset.ready = String(++state.renders);
  } catch (e) {
    main.replaceChildren(el('p', { class: 'warn', id: 'error' }, e.message));
    document.body.dataset.ready = String(++state.renders);
  }
}

async function start() {
  const q = new URLSearchParams(location.search);
  state.token = q.get('token') || sessionStorage.getItem('tapvault-token');
  if (state.token) sessionStorage.setItem('tapvault-token', state.token);
  try { state.session = await api('/api/session'); } catch (e) { document.getElementById('page').textContent = e.message; return; }
  document.getElementById('mode').textContent = state.session.allow_write ? 'read-write' : 'read-only';
  document.getElementById('window').addEventListener('submit', ev => { ev.preventDefault(); go(route().page, windowParams()); });
  document.getElementById('tz-local').addEventListener('change', () => go(route().page, windowParams()));
  window.addEventListener('hashchange', render);
  render();
}
start();
