// SPDX-License-Identifier: Apache-2.0
// `tapvault mcp` driven by the official MCP SDK's client over stdio, and
// `tapvault serve`'s /mcp over Streamable HTTP: every tool called, every
// structuredContent validated by the SDK against the tool's outputSchema,
// paging returns each flow and call once, cancellation stops an export,
// bad arguments and bad JSON-RPC get errors that say what to fix.
//   node mcp_sdk.mjs TAPVAULT STORE_URL BIG_STORE_URL EXPORT_DIR CACHE_DIR SERVE_URL
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

const [tv, store, bigStore, exportDir, cacheDir, serveUrl] = process.argv.slice(2);
const T0 = 1790000000;
const W = { from: String(T0), to: String(T0 + 300) };
let checks = 0;
const ok = (cond, what) => { assert.ok(cond, what); checks++; };
const note = s => console.log('== ' + s);

async function connect(storeUrl, extra = []) {
  const transport = new StdioClientTransport({
    command: tv,
    args: ['mcp', '--store', storeUrl, '--export-dir', exportDir, '--cache-dir', cacheDir, '--allow-write', ...extra],
    stderr: 'inherit',
  });
  const client = new Client({ name: 'tapvault-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

// callTool validates structuredContent against the outputSchema the client
// cached from tools/list, and throws when it does not match
async function call(client, name, args, opts) {
  const r = await client.callTool({ name, arguments: args }, undefined, opts);
  if (r.isError) throw new Error(`${name}: ${r.content[0].text}`);
  ok(r.structuredContent && typeof r.structuredContent === 'object', `${name}: structuredContent`);
  ok(r.content[0].type === 'text' && r.content[0].text.length > 0, `${name}: text rendering`);
  return r.structuredContent;
}
async function toolError(client, name, args, pattern) {
  const r = await client.callTool({ name, arguments: args });
  ok(r.isError === true, `${name}(${JSON.stringify(args)}) must fail`);
  ok(pattern.test(r.content[0].text), `${name}: '${r.content[0].text}' should match ${pattern}`);
}

async function stdioSuite() {
  const client = await connect(store);
  ok(client.getServerVersion().name === 'tapvault', 'server name');
  note('tools/list: one page, every tool with input and output schemas');
  const list = await client.listTools();
  ok(!list.nextCursor, 'one page');
  const names = list.tools.map(t => t.name);
  const want = ['get_coverage', 'list_nodes', 'resolve', 'list_flows', 'top_talkers', 'list_api_calls', 'get_api_call',
    'export_pcap', 'verify_window', 'list_snapshots', 'get_snapshot', 'create_snapshot', 'delete_snapshot', 'trends'];
  for (const n of want) ok(names.includes(n), `tool ${n} listed`);
  for (const t of list.tools) ok(t.inputSchema.type === 'object' && t.outputSchema.type === 'object', `${t.name} schemas`);

  note('every tool');
  const cov = await call(client, 'get_coverage', W);
  ok(cov.coverage.nodes.length === 1 && cov.coverage.nodes[0].node === 'n1', 'coverage: node n1');
  ok(cov.coverage.nodes[0].packets > 0 && cov.dashboard.includes('#/coverage'), 'coverage: packets, dashboard link');
  const covWide = await call(client, 'get_coverage', { from: String(T0 - 3600), to: String(T0 + 300) });
  ok(covWide.coverage.not_captured.some(s => /nothing captured/.test(s)) && !covWide.coverage.complete,
    'coverage says what was not captured');
  const nodes = await call(client, 'list_nodes', {});
  ok(nodes.nodes[0].node === 'n1' && nodes.nodes[0].segments >= 5, 'nodes');
  const who = await call(client, 'resolve', { ip: '10.1.1.10', at: String(T0 + 10) });
  ok(who.matches.some(m => m.name === 'api-0' && m.namespace === 'shop'), 'resolve: 10.1.1.10 is api-0');
  const where = await call(client, 'resolve', { name: 'web-7d9f', namespace: 'shop', at: String(T0 + 10) });
  ok(where.matches.length === 5, `resolve: the workload's 5 pods (got ${where.matches.length})`);

  const tr = await call(client, 'trends', Object.assign({ kind: 'top', by: 'workload' }, W));
  ok(tr.series.length === 2 && tr.series[0].key === 'shop/api-0', `trends top: api-0 first (${tr.series.map(x => x.key)})`);
  ok(tr.series.reduce((a, x) => a + x.total, 0) === 193805, 'trends top: every byte of the window, from the indexes');
  ok(tr.series.every(x => x.values.length === tr.hours && x.values.reduce((a, b) => a + b, 0) === x.total), 'trends: hourly values add up');
  ok(tr.dashboard.includes('#/trends'), 'trends: dashboard link');
  await toolError(client, 'trends', Object.assign({ kind: 'horoscope' }, W), /kind must be one of/);
  await toolError(client, 'trends', Object.assign({ kind: 'new-peers' }, W), /needs a baseline/);

  note('list_flows: paging returns each flow once');
  const seen = new Set();
  let cursor, total = -1, pages = 0;
  do {
    const r = await call(client, 'list_flows', Object.assign({ limit: 37, sort: 'first' }, W, cursor ? { cursor } : {}));
    total = r.total;
    for (const f of r.flows) { ok(!seen.has(f.node + f.flow), `flow ${f.flow} once`); seen.add(f.node + f.flow); }
    cursor = r.next_cursor;
    pages++;
  } while (cursor);
  ok(total === 600 && seen.size === 600, `600 flows (300 TCP + 300 DNS) in ${pages} pages, got ${seen.size}/${total}`);
  const tcp = await call(client, 'list_flows', Object.assign({ protocol: 'tcp', workload: 'api-0', limit: 5 }, W));
  ok(tcp.total === 300 && tcp.flows[0].dst.name === 'api-0', 'list_flows filters by protocol and workload');
  const talk = await call(client, 'top_talkers', Object.assign({ by: 'workload' }, W));
  // the five web pods are one workload: all 600 flows; api-0 served the 300 HTTP ones
  ok(talk.groups[0].key === 'shop/web-7d9f' && talk.groups[0].flows === 600, `top talker web (${JSON.stringify(talk.groups[0])})`);
  const api = talk.groups.find(g => g.key === 'shop/api-0');
  ok(api && api.flows === 300, `api-0 in 300 flows (${JSON.stringify(api)})`);

  note('list_api_calls: dissected once, then paged from the cache');
  const calls = new Set();
  cursor = undefined;
  let first = true, cachedLater = true;
  do {
    const r = await call(client, 'list_api_calls', Object.assign({ protocol: 'http', limit: 100 }, W, cursor ? { cursor } : {}));
    if (!first) cachedLater &&= r.cached;
    first = false;
    for (const c of r.calls) { ok(!calls.has(c.id), `call ${c.id} once`); calls.add(c.id); }
    cursor = r.next_cursor;
  } while (cursor);
  ok(calls.size === 300 && cachedLater, `300 HTTP calls, later pages from the cache (${calls.size})`);
  const nf = await call(client, 'list_api_calls', Object.assign({ status: 404, method: 'GET', path: '/items/' }, W));
  ok(nf.total === 75 && nf.calls.every(c => c.status === 404), `75 answered 404 (got ${nf.total})`);
  const one = await call(client, 'get_api_call', Object.assign({ id: nf.calls[0].id, body_cap: 4 }, W));
  ok(one.call.response.status === 404 && one.call.response.content.text.length <= 4, 'get_api_call: body capped');
  ok(one.call.src.namespace === 'shop', 'get_api_call: ends named');

  note('export, verify, snapshots');
  const exp = await call(client, 'export_pcap', Object.assign({ file: 'all.pcapng' }, W));
  ok(exp.packets === 2700 && fs.existsSync(path.join(exportDir, 'all.pcapng')), `export: 2700 packets (${exp.packets})`);
  const flowExp = await call(client, 'export_pcap', Object.assign({ file: 'one.pcap', flow: tcp.flows[0].flow }, W));
  ok(flowExp.packets === 8, `one flow's 8 packets (${flowExp.packets})`);
  const ver = await call(client, 'verify_window', W);
  ok(ver.intact === true && ver.segments >= 5, 'verify: intact');
  const snap = await call(client, 'create_snapshot', Object.assign({ name: 'mcp-snap' }, W));
  ok(snap.snapshot.status === 'complete' && snap.snapshot.nodes[0] === 'n1', 'snapshot created');
  const snaps = await call(client, 'list_snapshots', {});
  const row = snaps.snapshots.find(s => s.name === 'mcp-snap');
  ok(row && row.from && row.to && row.created && row.bytes > 0, 'list_snapshots: the seed columns');
  ok((await call(client, 'get_snapshot', { name: 'mcp-snap' })).snapshot.name === 'mcp-snap', 'get_snapshot');
  ok((await call(client, 'delete_snapshot', { name: 'mcp-snap' })).deleted === true, 'delete_snapshot');
  await toolError(client, 'get_snapshot', { name: 'mcp-snap' }, /no snapshot/);

  note('bad input: clear tool errors, nothing written');
  await toolError(client, 'list_flows', Object.assign({ bogus: 1 }, W), /unknown argument arguments\.bogus/);
  await toolError(client, 'list_flows', Object.assign({ limit: 0 }, W), /limit must be at least 1/);
  await toolError(client, 'list_flows', { from: 'yesterday-ish' }, /from: /);
  await toolError(client, 'list_api_calls', { from: String(T0 - 7200), to: String(T0) }, /over this server's cap/);
  const page1 = await call(client, 'list_flows', Object.assign({ limit: 10 }, W));
  await toolError(client, 'list_flows', Object.assign({ limit: 10, protocol: 'udp', cursor: page1.next_cursor }, W),
    /belongs to another query/);
  await toolError(client, 'list_flows', Object.assign({ cursor: 'not-a-cursor!' }, W), /not a cursor/);
  for (const f of ['../escape.pcapng', '/tmp/abs.pcapng', '.hidden.pcapng', 'x.txt'])
    await toolError(client, 'export_pcap', Object.assign({ file: f }, W), /file: /);
  await toolError(client, 'create_snapshot', Object.assign({ name: '../up' }, W), /name: /);
  await toolError(client, 'resolve', { ip: 'not-an-ip' }, /not an IPv4 or IPv6 address/);
  ok(!fs.existsSync(path.join(exportDir, '..', 'escape.pcapng')) && !fs.existsSync('/tmp/abs.pcapng'), 'nothing escaped');
  await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), /Unknown tool/);
  checks++;
  await client.close();
}

async function cancelSuite() {
  note('cancellation stops a long export (and progress was reported)');
  const client = await connect(bigStore);
  const ac = new AbortController();
  let progress = 0;
  const p = client.callTool({ name: 'export_pcap', arguments: { from: String(T0), to: String(T0 + 700), file: 'big.pcapng' } }, undefined, {
    signal: ac.signal, onprogress: () => { progress++; if (progress === 2) ac.abort('test cancels'); }, timeout: 120000,
  });
  await assert.rejects(p, /cancel|abort/i);
  await new Promise(r => setTimeout(r, 1000));
  const left = fs.readdirSync(exportDir).filter(f => f.startsWith('big.pcapng'));
  ok(progress >= 2, `progress notifications (${progress})`);
  ok(left.length === 0, `a cancelled export leaves nothing (${left})`);
  await client.ping();
  checks++;
  await client.close();
}

// JSON-RPC the SDK would never send: raw lines on the server's stdin
function rawSuite() {
  note('malformed JSON-RPC and a huge line');
  return new Promise((resolve, reject) => {
    const child = spawn(tv, ['mcp', '--store', store, '--cache-dir', cacheDir], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', d => { out += d; });
    child.on('close', () => {
      try {
        const msgs = out.trim().split('\n').map(l => JSON.parse(l));
        const byId = id => msgs.find(m => m.id === id);
        ok(msgs.some(m => m.error && m.error.code === -32700), 'parse error for non-JSON');
        ok(msgs.some(m => m.error && m.error.code === -32600 && /over/.test(m.error.message)), 'a huge line refused');
        ok(byId(2).error.code === -32600, 'no jsonrpc member: invalid request');
        ok(byId(3).error.code === -32601, 'unknown method');
        ok(msgs.some(m => m.error && m.error.code === -32600 && /batch/.test(m.error.message)), 'batches refused');
        ok(byId(5).result && byId(5).id === 5, 'still answering after all that (ping)');
        resolve();
      } catch (e) { reject(e); }
    });
    child.stdin.write('this is not json\n');
    child.stdin.write('{"id":2,"method":"ping"}\n');
    child.stdin.write('{"jsonrpc":"2.0","id":3,"method":"no/such"}\n');
    child.stdin.write('[{"jsonrpc":"2.0","id":4,"method":"ping"}]\n');
    child.stdin.write('"' + 'x'.repeat(17 << 20) + '"\n');
    child.stdin.write('{"jsonrpc":"2.0","id":5,"method":"ping"}\n');
    child.stdin.end();
  });
}

async function httpSuite() {
  note('Streamable HTTP: the SDK against serve /mcp');
  const client = new Client({ name: 'tapvault-http-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(serveUrl + 'mcp')));
  const list = await client.listTools();
  ok(list.tools.some(t => t.name === 'list_flows'), 'tools over HTTP');
  const f = await call(client, 'list_flows', Object.assign({ limit: 3 }, W));
  ok(f.total === 600, 'list_flows over HTTP');
  await client.close();
  const evil = await fetch(serveUrl + 'mcp', { method: 'POST', headers: { Origin: 'http://evil.example', 'Content-Type': 'application/json' },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
  ok(evil.status === 403, `a foreign Origin is refused (${evil.status})`);
  const write = await fetch(serveUrl + 'api/tool/create_snapshot', { method: 'POST', body: JSON.stringify(Object.assign({ name: 'csrf' }, W)) });
  ok(write.status === 403, `a write without the CSRF token is refused (${write.status})`);
}

await stdioSuite();
await rawSuite();
await cancelSuite();
if (serveUrl) await httpSuite();
console.log(`PASS: ${checks} checks`);
