/**
 * The console in a real browser against a real platform: `smartcar up` with the simulator (30 cars ×20),
 * Debian's Chromium through playwright-core. What the page shows or changes is read back through the
 * CLI (`smartcar sql`, `table get`, `workflow history`, `overspeed`, `rules check`), not through the
 * console's own API. Screenshots of every page go to test-artifacts/console/ (gitignored).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, ROOT, startPlatform, waitUntil, type Platform } from './harness.ts';

const DAY = '20240301';
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'console');
const PAGES = ['overview', 'alerts', 'lake', 'topics', 'tables', 'notebooks', 'workflows', 'rules', 'analysis'];

let platform: Platform;
let chromium: { context: BrowserContext; close(): Promise<void> };
let page: Page;
const consoleErrors: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function replaceEditor(testId: string, text: string): Promise<void> {
  const content = page.getByTestId(testId).locator('.cm-content');
  await content.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  platform = await startPlatform({ cars: 30, speedup: 20, seed: 7, extra: ['--date', DAY] });
  chromium = await launchChromium();
  page = chromium.context.pages()[0] ?? (await chromium.context.newPage());
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  // The printed URL carries the token; the page keeps it.
  await page.goto(`${platform.base}/?token=${platform.token}`);
  await page.getByText('can change things').waitFor({ timeout: 30_000 });
  // Driving rows for the day, so the drive mart has something to build from.
  await waitUntil('driving rows in the table store', async () => {
    const r = await platform.cli(['table', 'scan', 'DriverCarInfo', '--data', platform.data, '--limit', '500', '--format', 'json']);
    return r.stdout.split('\n').filter(Boolean).length >= 500;
  }, 90_000, 1000);
}, 300_000);

afterAll(async () => {
  await chromium?.close();
  await platform?.stop();
}, 120_000);

describe.sequential('the console in Chromium against smartcar up', () => {
  it('loads every page without a console error, and keeps a screenshot of each', async () => {
    for (const p of PAGES) {
      await page.goto(`${platform.base}/#/${p}`);
      await page.locator('h1').first().waitFor();
      await page.waitForLoadState('networkidle').catch(() => {});
      await page.waitForTimeout(600);
      expect(await page.locator('.error').count(), `${p}: ${await page.locator('.error').allInnerTexts()}`).toBe(0);
      await shot(p);
    }
    expect(consoleErrors).toEqual([]);
  }, 180_000);

  it('refuses a mutating request without the token, file-reading SQL, and names the field of a bad request', async () => {
    const put = await fetch(`${platform.base}/api/rules/overspeed.epl`, { method: 'PUT', body: JSON.stringify({ text: 'x' }) });
    expect(put.status).toBe(401);
    const wrong = await fetch(`${platform.base}/api/workflows/drive/run`, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: '{}' });
    expect(wrong.status).toBe(403);
    for (const sql of ["select * from read_csv('/etc/passwd')", "copy (select 1) to '/tmp/smartcar-console-x.csv'", "attach '/tmp/x.db'", 'install httpfs', 'select 1; select 2']) {
      const r = await fetch(`${platform.base}/api/sql/run`, { method: 'POST', body: JSON.stringify({ sql }) });
      expect(r.status, sql).toBe(400);
      expect(((await r.json()) as { error: string }).error, sql).toMatch(/refused/);
    }
    expect(fs.existsSync('/tmp/smartcar-console-x.csv')).toBe(false);
    const bad = await fetch(`${platform.base}/api/lake/preview?lines=abc&path=x`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/query\.lines/);
    const outside = await fetch(`${platform.base}/api/lake/list?path=${encodeURIComponent('../state')}`);
    expect(outside.status).toBe(400);
    // A console on another address without a token is refused before it listens.
    const exposed = await platform.cli(['console', '--data', platform.data, '--host', '0.0.0.0', '--port', '0'], { SMARTCAR_CONSOLE_TOKEN: '' });
    expect(exposed.code).toBe(2);
    expect(exposed.stderr).toMatch(/SMARTCAR_CONSOLE_TOKEN/);
  }, 60_000);

  it('shows the picture and the result table smartcar ml cluster wrote', async () => {
    const run = await platform.cli(['ml', 'cluster', '--k', '6', '--seed', '3', '--json', '--data', platform.data]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { k: number; cars: number; clusters: { size: number }[] };
    await page.goto(`${platform.base}/#/analysis`);
    await page.reload(); // the page may already be open from the first test
    const figure = page.getByTestId('figure-cluster-pca');
    await figure.locator('canvas').first().waitFor({ timeout: 30_000 });
    // The page draws the option the CLI kept: one scatter series per non-empty cluster, every car a point.
    const option = JSON.parse((await figure.locator('.chart').getAttribute('data-option'))!) as { series: { data: unknown[] }[] };
    expect(option.series.length).toBe(result.clusters.filter((c) => c.size > 0).length);
    expect(option.series.reduce((n, s) => n + s.data.length, 0)).toBe(result.cars);
    const sql = await platform.cli(['sql', '--data', platform.data, '--format', 'json', 'select count(*) n, count(distinct cluster) k from smartcar_car_cluster']);
    const counted = JSON.parse(sql.stdout.trim().split('\n')[0]) as { n: number; k: number };
    expect(counted.n).toBe(result.cars);
    await page.getByText(`${counted.n.toLocaleString('en-US')} rows`).waitFor();
    const svg = await fetch(`${platform.base}/api/analysis/figures/cluster-pca/svg`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toMatch(/image\/svg\+xml/);
    expect(await svg.text()).toMatch(/^<svg[\s\S]*k-means, k = 6[\s\S]*<\/svg>$/);
    await shot('analysis-cluster');
  }, 120_000);

  it('runs a workflow from the page, and the run is in smartcar workflow history', async () => {
    await page.goto(`${platform.base}/#/workflows`);
    await page.getByLabel('day').fill(DAY);
    await page.getByTestId('run-drive').click();
    await page.getByTestId('job').getByText('succeeded').waitFor({ timeout: 120_000 });
    await shot('workflows-run');
    const h = await platform.cli(['workflow', 'history', 'drive', '--json', '--data', platform.data]);
    const runs = h.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { day: string; trigger: string; state: string; steps: { rows?: number }[] });
    expect(runs.some((r) => r.day === DAY && r.trigger === 'manual' && r.state === 'succeeded')).toBe(true);
  }, 180_000);

  it('draws the AvgSpeed notebook as bars equal to smartcar sql, and redraws when AvgSpeed changes', async () => {
    const sqlOf = (n: number) => `select area_number as area_num, avg(cast(speed as int)) as avg_speed from managed_smartcar_drive_info group by area_num having avg_speed >= ${n} order by avg_speed desc`;
    const oracle = async (n: number) => {
      const r = await platform.cli(['sql', '--format', 'json', '--data', platform.data, sqlOf(n)]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { area_num: string; avg_speed: number });
    };
    const all = await oracle(0);
    expect(all.length).toBeGreaterThan(3);
    const speeds = all.map((a) => a.avg_speed).sort((a, b) => a - b);
    const mid = Math.floor(speeds[Math.floor(speeds.length / 2)]);

    await page.goto(`${platform.base}/#/notebooks?id=avg-speed-per-area`);
    const para = page.getByTestId('paragraph-1');
    await para.getByTestId('run').click();
    const chart = page.getByTestId('chart-1');
    const bars = async () => {
      const opt = JSON.parse((await chart.getAttribute('data-option')) ?? '{}') as { xAxis: { data: string[] }; series: { data: number[] }[] };
      return opt.xAxis.data.map((k, i) => ({ area_num: k, avg_speed: opt.series[0].data[i] }));
    };
    await chart.waitFor({ timeout: 60_000 });
    await waitUntil('the chart at AvgSpeed=60', async () => JSON.stringify(await bars()) === JSON.stringify(await oracle(60)) || undefined, 30_000);
    expect(await chart.locator('canvas').count()).toBeGreaterThan(0);
    await shot('notebook-avgspeed-60');

    const input = para.getByLabel('AvgSpeed');
    await input.fill(String(mid));
    await input.press('Enter');
    const expected = await oracle(mid);
    expect(expected.length).toBeLessThan(all.length);
    await waitUntil(`the chart at AvgSpeed=${mid}`, async () => JSON.stringify(await bars()) === JSON.stringify(expected) || undefined, 30_000);
    await shot('notebook-avgspeed-changed');
  }, 180_000);

  it('shows a live overspeed alert that is in the hot store', async () => {
    await page.goto(`${platform.base}/#/alerts`);
    await page.getByText('live', { exact: true }).waitFor({ timeout: 20_000 });
    const row = page.getByTestId('live-alerts').locator('tbody tr').first();
    await row.waitFor({ timeout: 90_000 });
    const car = (await row.locator('td').nth(0).innerText()).trim();
    const at = (await row.locator('td').nth(1).innerText()).replace(/\D/g, '');
    const hot = await platform.cli(['overspeed', '--date', at.slice(0, 8), '--data', platform.data]);
    expect(hot.stdout).toContain(`${car}-${at}`);
    await shot('alerts-live');
  }, 120_000);

  it('puts one column of a DriverCarInfo row; a later scan and smartcar table get show it', async () => {
    await page.goto(`${platform.base}/#/tables`);
    await page.getByLabel('filters').fill('cf1:car_number=A0001');
    await page.getByLabel('limit').fill('5');
    await page.getByRole('button', { name: 'Scan' }).click();
    const first = page.getByTestId('scan-result').locator('tbody tr').first();
    await first.waitFor({ timeout: 60_000 });
    const key = (await first.locator('td').first().innerText()).trim();
    await first.click();
    const edit = page.getByTestId('row-edit');
    await edit.waitFor();
    await edit.getByLabel('column').selectOption('cf1:speed');
    await edit.getByLabel('value').fill('987');
    await edit.getByRole('button', { name: 'Put' }).click();
    await edit.getByText('saved cf1:speed = 987').waitFor();
    await page.getByLabel('filters').fill('cf1:speed=987');
    await page.getByLabel('limit').fill('50');
    await page.getByRole('button', { name: 'Scan' }).click();
    await page.getByTestId('scan-result').getByText(key).waitFor({ timeout: 60_000 });
    const got = await platform.cli(['table', 'get', 'DriverCarInfo', key, '--format', 'json', '--data', platform.data]);
    expect(JSON.parse(got.stdout)['cf1:speed']).toBe('987');
    await shot('tables-put');
  }, 120_000);

  it('shows a rule typo at the line and column smartcar rules check reports', async () => {
    await page.goto(`${platform.base}/#/rules`);
    const original = fs.readFileSync(path.join(platform.data, 'rules', 'overspeed.epl'), 'utf8');
    await page.getByTestId('rule-check').getByText('compiles').waitFor({ timeout: 30_000 });
    const typo = original.replace('GROUP BY', 'GRUOP BY');
    await replaceEditor('epl-editor', typo);
    const msg = page.getByTestId('rule-check').locator('.action-error');
    await msg.waitFor({ timeout: 10_000 });
    const f = path.join(platform.data, 'typo.epl');
    fs.writeFileSync(f, typo);
    const cli = await platform.cli(['rules', 'check', f]);
    expect(cli.code).toBe(1);
    const [, line, col] = /typo\.epl:(\d+):(\d+)/.exec(cli.stderr)!;
    expect(await msg.innerText()).toContain(`line ${line}, column ${col}`);
    await page.locator('.cm-lintRange-error').first().waitFor({ timeout: 5000 });
    await shot('rules-typo');
  }, 60_000);

  it('saves a rule from the page and the running stream raises different alerts', async () => {
    const original = fs.readFileSync(path.join(platform.data, 'rules', 'overspeed.epl'), 'utf8');
    const everyone = original.replace('HAVING AVG(speed) > 80', 'HAVING AVG(speed) >= 0');
    expect(everyone).not.toBe(original);
    await replaceEditor('epl-editor', everyone);
    await page.getByTestId('rule-check').getByText('compiles').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Test on recent data' }).click();
    await page.getByTestId('test-summary').waitFor({ timeout: 60_000 });
    await shot('rules-test');
    // Before: how many cars a window raised at most (a few of 30 go over 80 on average).
    const perWindow = async () => {
      const r = await platform.cli(['overspeed', '--date', DAY, '--data', platform.data]);
      const counts = new Map<string, number>();
      for (const m of r.stdout.matchAll(/\b[A-Z]\d{4}-(\d{14})\b/g)) {
        // The 30-second event-time window the alert belongs to.
        const w = m[1].slice(0, 12) + (Number(m[1].slice(12)) < 30 ? '00' : '30');
        counts.set(w, (counts.get(w) ?? 0) + 1);
      }
      return counts;
    };
    const before = await perWindow();
    const maxBefore = Math.max(0, ...before.values());
    expect(maxBefore).toBeLessThan(25);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/saved .*the stream reloads it/).waitFor({ timeout: 10_000 });
    expect(fs.readFileSync(path.join(platform.data, 'rules', 'overspeed.epl'), 'utf8')).toBe(everyone);
    // After the reload every car alerts in every window.
    await waitUntil('a window where every car raised an alert', async () => {
      const after = await perWindow();
      return [...after.entries()].some(([t, n]) => !before.has(t) && n >= 25) || undefined;
    }, 120_000, 2000);
  }, 200_000);
});
