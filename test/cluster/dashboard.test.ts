/**
 * The health port's dashboard in a real browser: Debian's headless Chromium (installed by
 * test/system-servers.js), driven by playwright-core, on a 2-worker cluster under light load.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runApp, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { startLoad, type Load } from '../helpers/load.ts';

/** Where the screenshot goes (gitignored); CLUTCH_TEST_ARTIFACTS moves it. */
const ARTIFACTS = process.env.CLUTCH_TEST_ARTIFACTS ?? fileURLToPath(new URL('../.work/artifacts', import.meta.url));

/** What a row of the processes table shows, cell by cell ({} while there is no such row). */
async function row(page: Page, selector: string): Promise<Record<string, string>> {
  const cells = page.locator(`${selector} td`);
  const shown: Record<string, string> = {};
  for (let i = 0; i < (await cells.count()); i++) {
    const name = ((await cells.nth(i).getAttribute('class')) ?? '').split(' ')[0]!;
    shown[name] = (await cells.nth(i).textContent()) ?? '';
  }
  return shown;
}

/** Looks at the page every 200 ms until `ok` holds; fails with the last look past `timeoutMs`. */
async function until<T>(look: () => Promise<T>, ok: (seen: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await look();
    if (ok(seen)) return seen;
    if (Date.now() > deadline) throw new Error(`the page did not show it within ${timeoutMs} ms; last look: ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const WORKER0 = 'tr[data-role=worker][data-slot="0"]';
const RPS0 = '.card[data-slot="0"] svg[data-chart="requests/s"] path.rps';

describe('the dashboard (docs/operations.md, "The dashboard")', { timeout: 90_000 }, () => {
  let app: AppProcess | undefined;
  let browser: Browser | undefined;
  let load: Load | undefined;
  after(async () => {
    load?.stop();
    await browser?.close().catch(() => {});
    app?.kill();
  });

  it('shows every process with live numbers and charts, a killed worker as restarted (crash), and keeps going through a reload', async (t) => {
    const started = await startFixture('dashboard', ['--workers', '2', '--health-port', '0']);
    app = started.app;
    const { info } = started;
    assert.ok(info.health, 'the ready message carries the health URL');
    load = startLoad(`${info.url}/`, { connections: 2, durationMs: 80_000, paceMs: 50 });

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      // Chromium refuses to run as root inside its sandbox.
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.setDefaultTimeout(20_000);
    await page.goto(`${info.health}/dashboard`);

    for (const selector of ['tr[data-role=master]', 'tr[data-role=agent]', 'tr[data-role=worker][data-slot="0"]', 'tr[data-role=worker][data-slot="1"]'])
      await page.waitForSelector(selector);
    const master = await row(page, 'tr[data-role=master]');
    assert.equal(master.pid, String(info.pid));
    assert.equal((await row(page, 'tr[data-role=agent]')).pid, String(info.agent));
    const first = await row(page, WORKER0);
    assert.ok(info.workers.map(String).includes(first.pid ?? ''), `worker 0 is one of ${info.workers.join(', ')}`);
    assert.equal(first.state, 'ready');
    assert.match(first.rss ?? '', /MB$/);

    // A second look: the numbers moved (uptime, and the request rate the load drives), and a chart is drawn.
    const second = await until(
      () => row(page, WORKER0),
      (r) => r.uptime !== first.uptime,
    );
    assert.notEqual(second.uptime, first.uptime, 'live: the uptime changed between two looks');
    const chart = await until(
      async () => ({
        d: (await page.locator(RPS0).getAttribute('d')) ?? '',
        rate: (await page.locator('.card[data-slot="0"] .chart b').first().textContent()) ?? '',
      }),
      (c) => /L/.test(c.d) && parseFloat(c.rate) > 0,
    );
    assert.match(chart.d, /^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+)+/, 'the requests chart has a line');
    await page.waitForSelector('#schedules tr[data-key$="app/schedule/tick.js"]');

    // A worker killed from outside comes back, and the page says why.
    process.kill(Number(first.pid), 'SIGKILL');
    const back = await until(
      () => row(page, WORKER0),
      (r) => r.pid !== undefined && r.pid !== first.pid && /^1 \(crash, /.test(r.restarts ?? '') && r.state === 'ready',
    );
    assert.match(back.restarts!, /^1 \(crash, \d+s ago\)$/);
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = `${ARTIFACTS}/dashboard.png`;
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);

    // A reload with the page open: it keeps polling, shows the new processes and the reload.
    const args = app.child.spawnargs;
    const reload = await runApp(['reload', args[args.indexOf('start') + 1]!, '--title', args[args.indexOf('--title') + 1]!], 60_000);
    assert.equal(reload.code, 0, reload.stderr);
    const replaced = /agent (\d+), workers ([\d, ]+)/.exec(reload.stdout);
    assert.ok(replaced, reload.stdout);
    await until(
      async () => ({ agent: await page.locator('tr[data-role=agent] td.pid').textContent(), reload: await page.locator('#last-reload b').textContent() }),
      (seen) => seen.agent === replaced[1] && /ago \(1 in all\)/.test(seen.reload ?? ''),
    );
    for (const pid of replaced[2]!.split(', ')) assert.ok(await page.$(`tr[data-role=worker] td.pid:text-is("${pid}")`), `worker ${pid} is listed`);
    assert.match((await row(page, 'tr[data-role=worker][data-slot="1"]')).restarts ?? '', /\(reload, /);
    assert.deepEqual(pageErrors, [], 'no script error on the page');

    // Read-only: nothing but GET (and HEAD) is answered.
    assert.equal((await fetch(`${info.health}/dashboard/data`, { method: 'POST' })).status, 405);
  });
});
