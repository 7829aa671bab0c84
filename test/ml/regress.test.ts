/**
 * The regression against R itself (Debian r-base-core): the same generated file through R's lm, summary
 * and predict(interval = "prediction"), and through `smartcar ml regress`. The printed text must be R's
 * character for character, and every figure (at full precision, --json against R's %.17g) must agree
 * to 6 significant digits, p-values included.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeIncome } from '../../src/sim/index.ts';
import { pfUpper, pt2, qt } from '../../src/ml/regress/distributions.ts';
import { runRegress } from '../../src/ml/regress/run.ts';

const BIN = path.resolve('bin/smartcar.js');
let dir: string;
let income: string;
let testFile: string;

function smartcar(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8' } });
}

function rscript(code: string): string {
  const f = path.join(dir, `r-${Math.random().toString(36).slice(2)}.R`);
  fs.writeFileSync(f, code);
  return execFileSync('Rscript', [f], { encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } });
}

// The raw file's names → the table's (as smartcar reads them), in R.
const R_LOAD = (file: string, name: string) => `
${name} <- read.table('${file}', sep = '|', header = TRUE, quote = '', comment.char = '', encoding = 'UTF-8')
names(${name}) <- sub('^smartcar_master2income[.]', '', names(${name}))
map <- c(carNum = 'car_number', capacity = 'car_capacity', year = 'car_year', type = 'car_model')
hit <- names(${name}) %in% names(map)
names(${name})[hit] <- map[names(${name})[hit]]
`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-regress-'));
  income = await writeIncome({ outDir: dir, seed: 7 });
  // The seed's test file: 30 rows, `|`, names prefixed by the table name, year (not car_year).
  const other = await writeIncome({ outDir: path.join(dir, 'other'), seed: 8, rows: 30 });
  const rows = fs.readFileSync(other, 'utf8').trim().split('\n').slice(1).map((l) => l.split('|'));
  testFile = path.join(dir, 'CarMaster2Income_Test.txt');
  fs.writeFileSync(testFile, ['car_capacity', 'year', 'age', 'income'].map((c) => `smartcar_master2income.${c}`).join('|') + '\n' + rows.map((r) => [r[6], r[7], r[2], r[9]].join('|')).join('\n') + '\n');
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('smartcar ml regress against R', () => {
  for (const [formula, digits] of [['income ~ car_capacity', 4], ['income ~ car_capacity + age + car_year', 4], ['income ~ car_capacity + age', 7], ['income ~ age', 4]] as const) {
    it(`prints summary(lm(${formula})) and the prediction intervals exactly as R does (digits ${digits})`, async () => {
      // In-process (the CLI writes this text unchanged): spawning a CLI per case is slow on a busy machine.
      const ours = await runRegress({ input: income, formula, predict: testFile, digits, level: 0.95, table: 'unused', dataDir: dir });
      const r = rscript(`${R_LOAD(income, 'CarMaster2Income')}${R_LOAD(testFile, 'test')}
m <- lm(${formula}, data = CarMaster2Income)
print(summary(m), digits = ${digits})
print(predict(m, test, interval = "prediction"))
`);
      expect(ours.text).toBe(r);
    });
  }

  it('agrees with R on every figure to 6 significant digits at full precision, p-values included', async () => {
    const formula = 'income ~ car_capacity + age + car_year';
    const ours = JSON.parse((await runRegress({ input: income, formula, predict: testFile, level: 0.9, json: true, digits: 4, table: 'unused', dataDir: dir })).text);
    const r = rscript(`${R_LOAD(income, 'd')}${R_LOAD(testFile, 'test')}
m <- lm(${formula}, data = d); s <- summary(m)
out <- function(k, v) cat(k, sprintf('%.17g', v), '\\n')
out('resid', quantile(residuals(m)))
out('coef', t(coef(s)))
out('sigma', s$sigma); out('r2', s$r.squared); out('adj', s$adj.r.squared)
out('f', s$fstatistic); out('fp', pf(s$fstatistic[1], s$fstatistic[2], s$fstatistic[3], lower.tail = FALSE))
out('pred', t(predict(m, test, interval = "prediction", level = 0.9)))
`);
    const want = Object.fromEntries(r.trim().split('\n').map((l) => { const [k, ...v] = l.trim().split(/\s+/); return [k, v.map(Number)]; }));
    const close = (a: number, b: number) => expect(Math.abs(a - b) / Math.max(Math.abs(b), 1e-300)).toBeLessThan(5e-7);
    const res = ours.residuals;
    [res.min, res.q1, res.median, res.q3, res.max].forEach((v: number, i: number) => close(v, want.resid[i]));
    ours.coefficients.forEach((c: { estimate: number; stdError: number; tValue: number; pValue: number }, i: number) =>
      [c.estimate, c.stdError, c.tValue, c.pValue].forEach((v, j) => close(v, want.coef[i * 4 + j])));
    close(ours.sigma, want.sigma[0]);
    close(ours.rSquared, want.r2[0]);
    close(ours.adjRSquared, want.adj[0]);
    close(ours.fStatistic.value, want.f[0]);
    expect([ours.fStatistic.numdf, ours.fStatistic.dendf]).toEqual(want.f.slice(1));
    close(ours.fStatistic.pValue, want.fp[0]);
    expect(ours.predictions).toHaveLength(30);
    ours.predictions.forEach((p: { fit: number; lwr: number; upr: number }, i: number) => [p.fit, p.lwr, p.upr].forEach((v, j) => close(v, want.pred[i * 3 + j])));
  });

  it('computes the t and F tails and t quantiles as R does, down to tiny p-values', () => {
    const ts = [[0.01, 5], [0.7, 3], [1.96, 2598], [3.3, 40], [8, 2598], [25, 2598], [40, 1000], [2.5, 1]];
    const fs_ = [[0.2, 1, 10], [3.2, 3, 2596], [40, 3, 2596], [120, 2, 50], [1.5, 7, 9]];
    const qs = [[0.975, 2598], [0.95, 3], [0.995, 28], [0.6, 12], [0.999, 1]];
    const r = rscript(`cat(sprintf('%.17g', c(${ts.map(([t, d]) => `2*pt(-${t}, ${d})`).join(', ')})), '\\n')
cat(sprintf('%.17g', c(${fs_.map(([f, a, b]) => `pf(${f}, ${a}, ${b}, lower.tail = FALSE)`).join(', ')})), '\\n')
cat(sprintf('%.17g', c(${qs.map(([p, d]) => `qt(${p}, ${d})`).join(', ')})), '\\n')`);
    const [pt, pf, q] = r.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    ts.forEach(([t, d], i) => expect(rel(pt2(t, d), pt[i])).toBeLessThan(1e-9));
    fs_.forEach(([f, a, b], i) => expect(rel(pfUpper(f, a, b), pf[i])).toBeLessThan(1e-9));
    qs.forEach(([p, d], i) => expect(rel(qt(p, d), q[i])).toBeLessThan(1e-9));
  });

  it('refuses a predictor whose values are all equal, with a clear error instead of NaN', () => {
    const flat = path.join(dir, 'flat.txt');
    fs.writeFileSync(flat, 'capacity|income\n' + Array.from({ length: 50 }, (_, i) => `2000|${4000 + i * 10}`).join('\n') + '\n');
    const r = smartcar(['ml', 'regress', '--input', flat]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/car_capacity has the same value \(2000\) in all 50 rows/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(r.stdout).not.toMatch(/NaN/);
  }, 180_000);

  it('names the bad field and line of a non-numeric value, and an unknown column', () => {
    const bad = path.join(dir, 'bad.txt');
    fs.writeFileSync(bad, 'capacity|income\n1000|3000\n1500|abc\n2000|6000\n');
    const r = smartcar(['ml', 'regress', '--input', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${bad}:3: income "abc" is not a number`);
    const u = smartcar(['ml', 'regress', '--input', income, '--formula', 'income ~ horsepower']);
    expect(u.status).toBe(2);
    expect(u.stderr).toMatch(/no column "horsepower"/);
  }, 180_000); // two CLI processes: slow on a loaded 2-core machine

  it('writes the four plots as SVG', async () => {
    const plots = path.join(dir, 'plots');
    const r = await runRegress({ input: income, formula: 'income ~ car_capacity', plots, level: 0.95, digits: 4, table: 'unused', dataDir: dir });
    expect(r.plots).toHaveLength(4);
    for (const f of ['histogram', 'boxplot', 'qqnorm', 'residuals-fitted']) expect(fs.readFileSync(path.join(plots, `${f}.svg`), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
  });
});
