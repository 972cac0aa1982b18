// SPDX-License-Identifier: Apache-2.0
// The dashboard in a real browser: Debian's chromium driven by playwright-core.
//   node tests/web/dashboard.mjs TAPVAULT STORE_URL SERVE_URL FROM TO ARTIFACT_DIR WORK_DIR READ_ONLY_URL
// Coverage: lanes drawn, a drag selects a window, its PCAP downloads and is
// packet for packet what `tapvault pcap` writes for the same window; the
// form creates a snapshot that Snapshots (and `snapshot ls`) then lists;
// Entries filter and page on the server, a row opens its detail; Flows
// filter. A screenshot of every page goes to ARTIFACT_DIR.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [tv, store, base, from, to, artifacts, work, readOnlyBase] = process.argv.slice(2);
const here = path.dirname(new URL(import.meta.url).pathname);
let checks = 0;
function check(cond, what) {
  if (!cond) throw new Error('FAIL: ' + what);
  checks++;
}
function note(s) { console.log('== ' + s); }

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const consoleErrors = [];
  // A failed request logs a console error without its address: keep the
  // address, and expect exactly the two refusals asked for below.
  page.on('console', m => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) consoleErrors.push(m.text()); });
  const badResponses = [];
  page.on('response', r => { if (r.status() >= 400) badResponses.push(r.status() + ' ' + new URL(r.url()).pathname); });
  page.on('pageerror', e => consoleErrors.push(String(e)));

  // Each render bumps body[data-ready]; wait for the one after `prev`.
  const ready = () => page.evaluate(() => Number(document.body.dataset.ready || 0));
  async function waitRender(prev, pageName) {
    await page.waitForFunction(([p, name]) => Number(document.body.dataset.ready || 0) > p &&
      (!name || document.body.dataset.page === name), [prev, pageName], { timeout: 60000 });
  }
  async function open(route, pageName) {
    const prev = await ready().catch(() => 0);
    await page.goto(base + route);
    await waitRender(page.url() === base + route ? 0 : prev, pageName);
  }
  const shot = name => page.screenshot({ path: path.join(artifacts, name + '.png'), fullPage: true });
  const win = new URLSearchParams({ from, to }).toString();

  note('Coverage: a lane per node, the window\'s figures');
  await open('#/coverage?' + win, 'coverage');
  check(await page.locator('#lanes .lane-label').first().textContent() === 'n1', 'a lane named n1');
  check(await page.locator('#lanes rect.covered').count() === 1, 'one covered lane');
  check(await page.locator('#nodes tr').count() === 2, 'node table has one node row');
  const nodeRow = await page.locator('#nodes tr').nth(1).locator('td').allTextContents();
  check(nodeRow[0] === 'n1' && Number(nodeRow[2]) > 0, 'node row names n1 with packets: ' + nodeRow);
  check(await page.locator('#mode').textContent() === 'read-write', 'mode shows read-write');
  await shot('coverage');

  note('drag across the lanes to select a window');
  const box = await page.locator('#lanes').boundingBox();
  const y = box.y + 24 + 13;
  await page.mouse.move(box.x + 125, y);
  await page.mouse.down();
  await page.mouse.move(box.x + 400, y, { steps: 5 });
  await page.mouse.move(box.x + box.width - 15, y, { steps: 5 });
  await page.mouse.up();
  await page.locator('#selection-stats').waitFor({ timeout: 30000 });
  const stats = await page.locator('#selection-stats').textContent();
  const m = stats.match(/: (\d+) packets, .*, (\d+) flows/);
  check(m && Number(m[1]) > 0 && Number(m[2]) > 0, 'selection shows packets and flows: ' + stats);
  await shot('coverage-selected');

  note('Download PCAP, then the same window with tapvault pcap');
  const href = await page.locator('#download-pcap').getAttribute('href');
  const q = new URL(href, base).searchParams;
  check(q.get('from') && q.get('to') && q.get('from') > from && q.get('to') <= to, 'the selected window is inside the page\'s: ' + href);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-pcap').click()]);
  const got = path.join(work, 'dashboard.pcapng');
  await download.saveAs(got);
  check(!(await download.failure()), 'download finished');
  const ref = path.join(work, 'cli.pcapng');
  execFileSync(tv, ['pcap', '--store', store, '--from', q.get('from'), '--to', q.get('to'), '-o', ref], { stdio: 'inherit' });
  const cmp = execFileSync('python3', ['-c', `
import sys; sys.path.insert(0, ${JSON.stringify(path.join(here, '../lib'))})
import pcaps
a = [p[1:] for p in pcaps.read(sys.argv[1])]
b = [p[1:] for p in pcaps.read(sys.argv[2])]
print(len(a), len(b), int(a == b))
`, got, ref]).toString().trim().split(' ').map(Number);
  check(cmp[0] > 0 && cmp[0] === cmp[1] && cmp[2] === 1, `dashboard PCAP equals tapvault pcap packet for packet (${cmp[0]} vs ${cmp[1]})`);
  check(cmp[0] === Number(m[1]), `the selection's packet count (${m[1]}) is the PCAP's (${cmp[0]})`);

  note('Create snapshot from the selection');
  await page.locator('#create-snapshot [name=name]').fill('incident-42');
  const prev = await ready();
  await page.locator('#create-snapshot button[type=submit]').click();
  await waitRender(prev, 'snapshots');
  const row = page.locator('#snapshots tr.snapshot', { hasText: 'incident-42' });
  check(await row.count() === 1, 'incident-42 listed on Snapshots');
  const cells = await row.locator('td').allTextContents();
  check(cells[4] === 'complete' && cells[6] === 'n1' && cells[2] === q.get('from').replace(/\.\d+Z$/, 'Z'),
    'row has status, nodes and window start: ' + cells);
  const ls = execFileSync(tv, ['snapshot', 'ls', '--store', store, '--json']).toString();
  check(JSON.parse(ls).some(s => s.name === 'incident-42' && s.status === 'complete'), 'snapshot ls sees it');
  await shot('snapshots');

  note('a bad snapshot name is refused with a message, nothing written');
  await open('#/coverage?' + win, 'coverage');
  await page.mouse.move(box.x + 125, y);
  await page.mouse.down();
  await page.mouse.move(box.x + 300, y, { steps: 5 });
  await page.mouse.up();
  await page.locator('#selection-stats').waitFor();
  await page.locator('#create-snapshot [name=name]').fill('../escape');
  await page.locator('#create-snapshot button[type=submit]').click();
  await page.waitForFunction(() => document.getElementById('status').className === 'warn', null, { timeout: 30000 });
  const err = await page.locator('#status').textContent();
  check(/name/i.test(err), 'the refusal names the problem: ' + err);
  check(!JSON.parse(execFileSync(tv, ['snapshot', 'ls', '--store', store, '--json']).toString()).some(s => s.name.includes('escape')),
    'nothing was written');

  note('Entries: server-side filter, paging and detail');
  await open('#/entries?' + win, 'entries');
  const total = async () => Number((await page.locator('#page p', { hasText: 'in all' }).textContent()).match(/(\d+) in all/)[1]);
  check(await total() === 600, 'all 600 calls in the window (300 HTTP + 300 DNS)');
  check(await page.locator('#entries tr.entry').count() === 50, 'one page of 50');
  await shot('entries');
  let p = await ready();
  await page.locator('#filters [name=status]').fill('404');
  await page.locator('#filters [name=protocol]').fill('http');
  await page.locator('#filters button').click();
  await waitRender(p, 'entries');
  check(await total() === 75, 'status 404 leaves every fourth of 300: ' + await total());
  check(page.url().includes('status=404'), 'the filter is in the URL');
  const statuses = await page.locator('#entries tr.entry td:nth-child(5)').allTextContents();
  check(statuses.length === 50 && statuses.every(s => s === '404'), 'every row on the page is a 404');
  p = await ready();
  await page.locator('#next-page').click();
  await waitRender(p, 'entries');
  const page2 = await page.locator('#entries tr.entry td:nth-child(5)').allTextContents();
  check(page2.length === 25 && page2.every(s => s === '404'), 'the second page holds the other 25');
  await page.locator('#entries tr.entry').first().click();
  await page.locator('#entry-detail h4', { hasText: 'Response 404' }).waitFor({ timeout: 30000 });
  const detail = await page.locator('#entry-detail').textContent();
  check(/GET/.test(detail) && /ms/.test(detail), 'the detail shows method and timing');
  await shot('entries-filtered');

  note('Flows: from the indexes, filtered by workload (the web-7d9f ReplicaSet)');
  await open('#/flows?' + win, 'flows');
  check(await total() > 0, 'flows listed');
  p = await ready();
  await page.locator('#filters [name=workload]').fill('web-7d9f');
  await page.locator('#filters button').click();
  await waitRender(p, 'flows');
  const flowRows = await page.locator('#flows tr.flow').evaluateAll(rs => rs.map(r => r.cells[1].textContent + ' ' + r.cells[2].textContent));
  check(flowRows.length > 0 && flowRows.every(r => r.includes('shop/web-7d9f-')), 'every flow left has a web pod at one end: ' + flowRows.slice(0, 3));
  const firstRow = page.locator('#flows tr.flow').first();
  const rowPackets = Number(await firstRow.locator('td').nth(5).textContent());
  const [flowDl] = await Promise.all([page.waitForEvent('download'), firstRow.locator('a', { hasText: 'PCAP' }).click()]);
  const flowPcap = path.join(work, 'flow.pcapng');
  await flowDl.saveAs(flowPcap);
  const flowCount = Number(execFileSync('python3', ['-c', `
import sys; sys.path.insert(0, ${JSON.stringify(path.join(here, '../lib'))})
import pcaps
print(len(list(pcaps.read(sys.argv[1]))))
`, flowPcap]).toString());
  check(flowCount === rowPackets, `a flow's PCAP holds its ${rowPackets} packets (got ${flowCount})`);
  await shot('flows');

  note('Trends: a sparkline per service from the rollups');
  await open('#/trends?' + win, 'trends');
  const trendRows = await page.locator('#trends tr.trend').count();
  check(trendRows === 2, 'two servers (api-0 and the DNS address) have series: ' + trendRows);
  check(await page.locator('#trends svg.sparkline').count() === 2 && await page.locator('#trends rect.spark').count() >= 2,
    'each with a sparkline');
  await shot('trends');
  p = await ready();
  await page.locator('#trend-form [name=kind]').selectOption('new-peers');
  await page.locator('#trend-form button').click();
  await waitRender(p, 'trends');
  check(/needs a baseline/.test(await page.locator('#trend-error').textContent()), 'new-peers over 5 minutes asks for a baseline');
  check(page.url().includes('kind=new-peers'), 'the trend kind is in the URL');

  note('a permalink reopens the same state');
  await open('#/flows?' + win + '&workload=web-7d9f', 'flows');
  const link = page.url();
  const page3 = await context.newPage();
  await page3.goto(link);
  await page3.waitForFunction(() => document.body.dataset.page === 'flows' && document.body.dataset.ready);
  check(await page3.locator('#filters [name=workload]').inputValue() === 'web-7d9f', 'filter restored from the URL');
  await page3.close();

  note('a read-only server: no write control is live');
  const ro = await context.newPage();
  await ro.goto(readOnlyBase + '#/coverage?' + win);
  await ro.waitForFunction(() => document.body.dataset.page === 'coverage');
  check(await ro.locator('#mode').textContent() === 'read-only', 'mode shows read-only');
  const rbox = await ro.locator('#lanes').boundingBox();
  await ro.mouse.move(rbox.x + 125, rbox.y + 37);
  await ro.mouse.down();
  await ro.mouse.move(rbox.x + 500, rbox.y + 37, { steps: 5 });
  await ro.mouse.up();
  await ro.locator('#selection-stats').waitFor();
  check(await ro.locator('#create-snapshot button').isDisabled(), 'Create snapshot disabled');
  await ro.goto(readOnlyBase + '#/snapshots?' + win);
  await ro.waitForFunction(() => document.body.dataset.page === 'snapshots');
  check(await ro.locator('#snapshots button', { hasText: 'Delete' }).first().isDisabled(), 'Delete disabled');
  const forced = await ro.evaluate(async () => (await fetch('/api/tool/create_snapshot', { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'forced', from: '-1h', to: 'now' }) })).status);
  check(forced === 403 || forced === 404, 'a forced write is refused: ' + forced);
  await ro.close();

  check(badResponses.join(', ') === '400 /api/tool/create_snapshot, 400 /api/tool/trends',
    'the only refused requests were the bad snapshot name and new-peers without a baseline: ' + badResponses.join(', '));
  check(consoleErrors.length === 0, 'no console errors: ' + consoleErrors.join(' | '));
  console.log(`PASS: ${checks} checks`);
} finally {
  await browser.close();
}
