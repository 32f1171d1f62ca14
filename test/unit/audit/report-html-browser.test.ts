// `carbonscale audit report DIR --html FILE` as a person sees it: the page is rendered by a real headless Chromium
// (Debian's, driven by playwright-core through its executablePath; scripts/setup.d/chromium.sh installs it), and
// every number read from the DOM is checked against DuckDB's own reading of the Parquet files and against
// `audit verify`. A screenshot of each case goes to test-artifacts/report-html/ (the path is printed).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { verifyAuditDir, type VerifyResult } from '../../../operator/audit/verify.ts';
import { duckTruth, type DuckTruth } from './report-html-duckdb.ts';
import { writeTrail } from './report-html-trail.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const ARTIFACTS = path.join(process.env.CARBONSCALE_TEST_ARTIFACTS ?? path.join(ROOT, 'test-artifacts'), 'report-html');
const REL = 1e-9;

function chromiumPath(): string {
  const p = process.env.CARBONSCALE_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(p))
    throw new Error(
      `no Chromium at ${p}: the report browser test needs Debian's chromium (run scripts/setup.d/chromium.sh via scripts/test.sh, ` +
        'or apt-get install chromium), or set CARBONSCALE_CHROMIUM to a Chromium binary',
    );
  return p;
}

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'operator/cli.ts'), ...args], { cwd: os.tmpdir() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

interface Rendered {
  page: Page;
  errors: string[];
  requests: string[];
}

async function open(browser: Browser, file: string): Promise<Rendered> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, errors, requests };
}

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`      screenshot: ${file}`);
}

const metric = (page: Page, key: string): Promise<string | null> =>
  page.locator(`[data-metric="${key}"]`).first().getAttribute('data-value');
const metricNum = async (page: Page, key: string): Promise<number> => Number(await metric(page, key));

function close(actual: number, expected: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: page ${actual}, DuckDB ${expected}`).to.be.at.most(
    REL * Math.max(1, Math.abs(expected)),
  );
}

/** [data-start, data-value] of every point of a chart series, in document order. */
async function points(page: Page, chart: string, series: string): Promise<[number, number][]> {
  return page
    .locator(`#${chart} circle.point[data-series="${series}"]`)
    .evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-start')), Number(e.getAttribute('data-value'))]));
}

/** Removes the second usage file of the trail: the chain then has a gap that audit verify must report. */
async function removeSecondUsageFile(dir: string): Promise<void> {
  const udir = (await readdir(dir)).find((d) => d.endsWith('=usage')) as string;
  const day = path.join(dir, udir, 'dt=2023-01-01');
  const parts = (await readdir(day)).filter((f) => f.endsWith('.parquet')).sort();
  expect(parts.length, 'the gapped trail needs several usage files').to.be.greaterThan(2);
  await unlink(path.join(day, parts[1] as string));
}

describe('audit report --html in headless Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let tmp: string;

  /** Per case: the CLI's result and the page it wrote. The three reports run side by side (the slow part). */
  const runs = new Map<string, { dir: string; html: string; res: Awaited<ReturnType<typeof cli>> }>();

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'report-html-'));
    const launched = chromium.launch({ executablePath: chromiumPath(), headless: true });
    // An hour across midnight: one point per minute, and two days in the daily table.
    await writeTrail(path.join(tmp, 'clean'), { intervals: 60, intervalMs: 60_000, startIndex: 23 * 60 + 30 });
    await writeTrail(path.join(tmp, 'gapped'), { intervals: 30, intervalMs: 60_000, maxRowsPerFile: 40 });
    await removeSecondUsageFile(path.join(tmp, 'gapped'));
    await writeTrail(path.join(tmp, 'pending'), { intervals: 30, intervalMs: 60_000, close: false });
    const cases: [string, string[]][] = [
      ['clean', []],
      ['gapped', ['--allow-unverified']],
      ['pending', []],
    ];
    await Promise.all(
      cases.map(async ([name, extra]) => {
        const dir = path.join(tmp, name);
        const html = path.join(tmp, `${name}.html`);
        const csv = path.join(tmp, `${name}.csv`);
        runs.set(name, { dir, html, res: await cli(['audit', 'report', dir, '--html', html, '--csv', csv, ...extra]) });
      }),
    );
    browser = await launched;
  });

  const run = (name: string): { dir: string; html: string; res: Awaited<ReturnType<typeof cli>> } => {
    const x = runs.get(name);
    if (!x) throw new Error(`no run ${name}`);
    expect(x.res.status, `audit report ${name}: ${x.res.stderr}${x.res.stdout}`).to.equal(0);
    return x;
  };
  after(async () => {
    await browser?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  describe('one hour of 1-minute intervals across midnight, a clean trail', () => {
    let dir: string;
    let html: string;
    let r: Rendered;
    let truth: DuckTruth;
    let verified: VerifyResult;
    let step: number;
    before(async () => {
      ({ dir, html } = run('clean'));
      verified = await verifyAuditDir(dir);
      r = await open(browser, html);
      step = Number(await r.page.locator('main').getAttribute('data-step-ms'));
      truth = duckTruth(dir, step);
    });

    it('loads with no console error, no request beyond the file itself, and a title that says it verified', async () => {
      expect(r.errors).to.deep.equal([]);
      expect(r.requests).to.deep.equal([pathToFileURL(html).href]);
      expect(await r.page.title()).to.match(
        /carbonscale audit report, 2023-01-01 23:30 UTC to 2023-01-02 00:30 UTC \(verified\)/,
      );
      expect(await r.page.locator('[role=alert]').count()).to.equal(0);
      await screenshot(r.page, 'one-hour-clean');
    });

    it('headline totals equal DuckDB over the Parquet files and the counts audit verify reports', async () => {
      const p = r.page;
      const t = truth.totals;
      close(await metricNum(p, 'total_co2e_g'), t.total_co2e_g, 'total gCO2e');
      close(await metricNum(p, 'baseline_total_co2e_g'), t.baseline_total_co2e_g, 'baseline gCO2e');
      close(await metricNum(p, 'savings_co2e_g'), t.savings_co2e_g, 'saved gCO2e');
      close(await metricNum(p, 'saved_share'), t.savings_co2e_g / t.baseline_total_co2e_g, 'saved share');
      close(await metricNum(p, 'energy_facility_kwh'), t.energy_facility_kwh, 'energy kWh');
      close(await metricNum(p, 'measured_energy_share'), t.measured_kwh / t.energy_facility_kwh, 'measured share');
      expect(t.measured_kwh).to.be.greaterThan(0); // the trail has metered intervals: the split is exercised
      expect(await metricNum(p, 'services')).to.equal(t.services);
      expect(await metricNum(p, 'period_start')).to.equal(t.first_start_ms);
      expect(await metricNum(p, 'period_end')).to.equal(t.last_end_ms);
      expect(await metric(p, 'verify')).to.equal('ok');
      expect(verified.ok).to.equal(true);
      expect(await metricNum(p, 'verified_usage_rows'))
        .to.equal(verified.rows.usage)
        .and.to.equal(t.rows);
      expect(await metricNum(p, 'verified_decision_rows')).to.equal(verified.rows.decision);
      expect(await metricNum(p, 'verified_files')).to.equal(verified.files);
      expect(await metricNum(p, 'pending_rows')).to.equal(0);
      // The rounded text shows the same number: 1,330 for 1329.7, never more than three significant digits.
      const text = (await p.locator('[data-metric="total_co2e_g"]').textContent()) ?? '';
      expect(Math.abs(Number(text.replace(/,/g, '')) - t.total_co2e_g)).to.be.below(0.5 + t.total_co2e_g * 0.005);
    });

    it('draws one point per accounting interval and series, whose values are the per-interval sums', async () => {
      const p = r.page;
      expect(step).to.equal(60_000);
      expect(await p.locator('main').getAttribute('data-per-interval')).to.equal('true');
      expect(truth.emissions).to.have.length(60);
      const em = await points(p, 'chart-emissions', 'emissions');
      const bl = await points(p, 'chart-emissions', 'baseline');
      expect(em.map((x) => x[0])).to.deep.equal(truth.emissions.map((x) => x[0]));
      truth.emissions.forEach(([, total, baseline], i) => {
        close((em[i] as [number, number])[1], total, `emissions at bucket ${i}`);
        close((bl[i] as [number, number])[1], baseline, `baseline at bucket ${i}`);
      });
      close(
        em.reduce((a, x) => a + x[1], 0),
        truth.totals.total_co2e_g,
        'Σ emission points',
      );
      const ci = await points(p, 'chart-intensity', 'ci:GB');
      expect(ci.map((x) => x[0])).to.deep.equal(truth.intensity.map((x) => x[1]));
      truth.intensity.forEach(([, , v], i) => close((ci[i] as [number, number])[1], v, `intensity ${i}`));
    });

    it('variant lanes have one cell per service, interval and variant served, and the budget one point per eco interval', async () => {
      const p = r.page;
      const cells = await p
        .locator('#chart-variants rect.cell')
        .evaluateAll((els) =>
          els.map((e) => [e.getAttribute('data-start'), e.getAttribute('data-variant'), e.getAttribute('data-share')]),
        );
      expect(cells).to.have.length(truth.cells.length);
      const want = new Set(truth.cells.map(([, b, v, share]) => `${b}|${v}|${share}`));
      for (const [b, v, share] of cells)
        expect(want.has(`${b}|${v}|${Number(share)}`), `${b} ${v} ${share}`).to.equal(true);
      // The eco services swapped to the smaller variant and back: both colours are there.
      expect(new Set(cells.map((c) => c[1]))).to.deep.equal(new Set(['llama-70b', 'llama-8b-int8']));
      const budget = await p
        .locator('#chart-budget circle.point')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
      expect(budget).to.have.length(truth.budget.length);
      expect(budget.sort((a, b) => a - b)).to.deep.equal(truth.budget.map((x) => x[2] * 100).sort((a, b) => a - b));
      expect(Math.max(...budget)).to.be.greaterThan(0);
    });

    it('charts are rendered SVG with accessible names; the table has human column names and the per-service sums', async () => {
      const p = r.page;
      for (const id of ['chart-intensity', 'chart-emissions', 'chart-variants', 'chart-budget']) {
        const svg = p.locator(`#${id} svg`);
        expect(await svg.getAttribute('role')).to.equal('img');
        const box = await svg.boundingBox();
        expect(box && box.width > 600 && box.height > 80, `${id} rendered size ${JSON.stringify(box)}`).to.equal(true);
        const [t, d] = ((await svg.getAttribute('aria-labelledby')) ?? '').split(' ');
        expect(((await p.locator(`[id="${t}"]`).textContent()) ?? '').length).to.be.greaterThan(10);
        expect(((await p.locator(`[id="${d}"]`).textContent()) ?? '').length).to.be.greaterThan(30);
      }
      expect(await p.locator('html').getAttribute('lang')).to.equal('en');
      expect(await p.locator('h1').textContent()).to.equal('carbonscale audit report');
      const headers = await p.locator('#by-day-service thead th').allTextContents();
      expect(headers).to.include.members(['Emissions (gCO2e)', 'Saved vs baseline (gCO2e)', 'Energy (kWh)', 'Service']);
      const rows = await p.locator('#by-day-service tbody tr').evaluateAll((trs) =>
        trs.map((tr) => ({
          day: tr.querySelector('[data-col="day"]')?.textContent,
          svc: tr.querySelector('[data-col="service"]')?.textContent,
          total: Number(tr.querySelector('[data-col="total_co2e_g"]')?.getAttribute('data-value')),
          kwh: Number(tr.querySelector('[data-col="energy_facility_kwh"]')?.getAttribute('data-value')),
          intervals: Number(tr.querySelector('[data-col="intervals"]')?.getAttribute('data-value')),
          totalText: tr.querySelector('[data-col="total_co2e_g"]')?.textContent ?? '',
        })),
      );
      expect(rows.map((x) => [x.day, x.svc])).to.deep.equal(truth.groups.map((g) => [g[0], g[1]]));
      rows.forEach((row, i) => {
        const g = truth.groups[i] as DuckTruth['groups'][number];
        close(row.total, g[2], `table total ${g[1]}`);
        close(row.kwh, g[3], `table kWh ${g[1]}`);
        expect(row.intervals).to.equal(g[4]);
        // Sensible precision: at most three significant digits below 1,000, whole numbers above.
        expect(row.totalText.replace(/[,.]/g, '').replace(/^0+/, '').length, row.totalText).to.be.at.most(
          Math.max(3, Math.floor(Math.log10(row.total)) + 1),
        );
      });
      // The whole-period table: one row per service, its sums over the days.
      const perService = await p
        .locator('#by-service tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => [
            tr.querySelector('[data-col="service"]')?.textContent ?? '',
            Number(tr.querySelector('[data-col="total_co2e_g"]')?.getAttribute('data-value')),
          ]),
        );
      const want = new Map<string, number>();
      for (const g of truth.groups) want.set(g[1], (want.get(g[1]) ?? 0) + g[2]);
      expect(perService.map((x) => x[0])).to.deep.equal([...want.keys()].sort());
      for (const [svc, total] of perService) close(Number(total), want.get(String(svc)) ?? NaN, `period total ${svc}`);
      const foot = Number(
        await p.locator('#by-day-service tfoot [data-col="total_co2e_g"]').getAttribute('data-value'),
      );
      close(foot, truth.totals.total_co2e_g, 'table totals row');
    });
  });

  it("a trail with a file removed: the page says prominently that it does not verify, with audit verify's problems", async () => {
    const { dir, html } = run('gapped');
    const verified = await verifyAuditDir(dir);
    expect(verified.ok).to.equal(false);
    const r = await open(browser, html);
    expect(r.errors).to.deep.equal([]);
    expect(await r.page.title()).to.match(/DOES NOT VERIFY/);
    const alert = r.page.locator('#verify-alert');
    expect(await alert.getAttribute('role')).to.equal('alert');
    expect(await alert.isVisible()).to.equal(true);
    const text = (await alert.textContent()) ?? '';
    expect(text).to.include(`audit verify found ${verified.problems.length} problem`);
    for (const kind of new Set(verified.problems.map((x) => x.kind))) expect(text).to.include(kind);
    // The alert is above the headline: the first thing read.
    const alertBox = await alert.boundingBox();
    const headBox = await r.page.locator('.headline').boundingBox();
    expect(alertBox && headBox && alertBox.y + alertBox.height <= headBox.y, 'alert above the headline').to.equal(true);
    expect(await metric(r.page, 'verify')).to.equal('failed');
    await screenshot(r.page, 'gapped-does-not-verify');
    await r.page.close();
  });

  it('a trail with rows still in the journal: the page counts them, as audit verify does, and leaves them out of the totals', async () => {
    const { dir, html } = run('pending');
    const verified = await verifyAuditDir(dir);
    const pending = verified.journalRows.usage + verified.journalRows.decision;
    expect(pending).to.be.greaterThan(0);
    const r = await open(browser, html);
    expect(r.errors).to.deep.equal([]);
    const alert = r.page.locator('#pending-alert');
    expect(await alert.isVisible()).to.equal(true);
    expect(await alert.textContent()).to.include(`${pending} rows pending in journal/`);
    expect(await metricNum(r.page, 'pending_rows')).to.equal(pending);
    const truth = duckTruth(dir, 60_000);
    close(await metricNum(r.page, 'total_co2e_g'), truth.totals.total_co2e_g, 'total over the Parquet rows only');
    expect(await metricNum(r.page, 'verified_usage_rows')).to.equal(truth.totals.rows);
    await screenshot(r.page, 'rows-pending-in-journal');
    await r.page.close();
  });
});
