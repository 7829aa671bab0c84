/** `smartcar ml regress`: load, fit, print as R does, predict, draw. */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../core/index.ts';
import { writeSvg } from '../plot.ts';
import { fitOls, predictOls, quantile7, type LinearModel, type Prediction } from './ols.ts';
import { numericColumns, parseFormula, readDelimited, type Frame } from './frame.ts';
import { printPredictions, printSummary } from './rprint.ts';

export interface RegressOptions {
  formula: string;
  /** A delimited file instead of the catalog table. */
  input?: string;
  table: string;
  dataDir: string;
  predict?: string;
  level: number;
  plots?: string;
  digits: number;
  json?: boolean;
}

export interface RegressResult {
  model: LinearModel;
  text: string;
  predictions?: Prediction[];
  plots: string[];
}

async function tableFrame(table: string, dataDir: string): Promise<Frame> {
  if (!/^[A-Za-z_][\w]*$/.test(table)) throw new UserError(`--table "${table}" is not a table name`);
  const { openCatalog } = await import('../../sql/index.ts');
  const cat = await openCatalog({ dataDir, threads: 1 });
  try {
    const tables = (await cat.tables()).map((t) => t.toLowerCase());
    if (!tables.includes(table.toLowerCase()))
      throw new UserError(`no table ${table} in the catalog under ${dataDir}: load it with \`smartcar load income FILE\`, or read a file with --input FILE`);
    const r = await cat.query(`select * from ${table}`);
    return { source: table, names: r.columns.map((c) => c.toLowerCase()), rows: r.rows.map((row) => row.map((v) => (v === null || v === undefined ? '' : String(v)))) };
  } finally {
    await cat.close();
  }
}

export async function runRegress(o: RegressOptions): Promise<RegressResult> {
  if (!(o.level > 0 && o.level < 1)) throw new UserError(`--level ${o.level}: expected a number between 0 and 1, e.g. 0.95`);
  const f = parseFormula(o.formula);
  const frame = o.input ? readDelimited(o.input) : await tableFrame(o.table, o.dataDir);
  if (frame.rows.length === 0) throw new UserError(`${frame.source} has no rows`);
  const [y, ...xs] = numericColumns(frame, [f.response, ...f.predictors]);
  const model = fitOls(f.response, y, f.predictors.map((name, i) => ({ name, values: xs[i] })));
  const dataName = o.input ? path.basename(o.input).replace(/\.[^.]*$/, '') : o.table;
  let text = printSummary(model, o.input ? dataName : o.table, o.digits);
  let predictions: Prediction[] | undefined;
  if (o.predict) {
    const test = readDelimited(o.predict);
    const cols = numericColumns(test, f.predictors);
    const rows = test.rows.map((_, i) => Float64Array.from(cols, (c) => c[i]));
    predictions = predictOls(model, rows, o.level);
    text += printPredictions(predictions);
  }
  const plots = o.plots ? drawPlots(o.plots, model, y) : [];
  if (o.json) text = JSON.stringify(toJson(model, predictions), null, 2) + '\n';
  return { model, text, predictions, plots };
}

function toJson(m: LinearModel, predictions?: Prediction[]) {
  const sorted = Float64Array.from(m.residuals).sort();
  return {
    formula: `${m.response} ~ ${m.predictors.join(' + ')}`,
    n: m.n,
    residuals: Object.fromEntries(['min', 'q1', 'median', 'q3', 'max'].map((k, i) => [k, quantile7(sorted, i / 4)])),
    coefficients: m.coefficients,
    sigma: m.sigma,
    df: m.df,
    rSquared: m.rSquared,
    adjRSquared: m.adjRSquared,
    fStatistic: m.fStatistic,
    predictions,
  };
}

/** Histogram, box plot and normal Q-Q of the response; residuals against fitted values. */
function drawPlots(dir: string, m: LinearModel, y: Float64Array): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const sorted = Float64Array.from(y).sort();
  const n = sorted.length;
  const name = m.response;
  // Sturges' bins on pretty breaks, as R's hist() does by default.
  const k = Math.ceil(Math.log2(n) + 1);
  const lo = sorted[0];
  const hi = sorted[n - 1];
  const step = pretty((hi - lo) / k);
  const start = Math.floor(lo / step) * step;
  const bins: number[] = [];
  const labels: string[] = [];
  for (let b = start; b < hi || bins.length === 0; b += step) {
    labels.push(`${b}–${b + step}`);
    bins.push(0);
  }
  for (const v of sorted) bins[Math.min(bins.length - 1, Math.floor((v - start) / step))]++;
  const out = [
    writeSvg(dir, 'histogram', {
      title: { text: `Histogram of ${name}` }, tooltip: {},
      xAxis: { type: 'category', data: labels, name }, yAxis: { type: 'value', name: 'Frequency' },
      series: [{ type: 'bar', data: bins, barCategoryGap: '0%', itemStyle: { borderColor: '#333', color: '#ddd' } }],
    }),
  ];
  const q = [0, 0.25, 0.5, 0.75, 1].map((p) => quantile7(sorted, p));
  const iqr = q[3] - q[1];
  const loW = sorted.find((v) => v >= q[1] - 1.5 * iqr) ?? q[0];
  const hiW = [...sorted].reverse().find((v) => v <= q[3] + 1.5 * iqr) ?? q[4];
  const outliers = Array.from(sorted).filter((v) => v < loW || v > hiW).map((v) => [0, v]);
  out.push(writeSvg(dir, 'boxplot', {
    title: { text: `Box plot of ${name}` },
    xAxis: { type: 'category', data: [name] }, yAxis: { type: 'value', scale: true },
    series: [{ type: 'boxplot', data: [[loW, q[1], q[2], q[3], hiW]] }, { type: 'scatter', data: outliers, symbolSize: 4 }],
  }));
  // Normal Q-Q with R's ppoints and the qqline through the quartiles.
  const a = n <= 10 ? 3 / 8 : 0.5;
  const pts: [number, number][] = [];
  const stepQ = Math.max(1, Math.floor(n / 2000));
  for (let i = 0; i < n; i += stepQ) pts.push([normalQuantile((i + 1 - a) / (n + 1 - 2 * a)), sorted[i]]);
  const slope = (q[3] - q[1]) / (normalQuantile(0.75) - normalQuantile(0.25));
  const icpt = q[1] - slope * normalQuantile(0.25);
  out.push(writeSvg(dir, 'qqnorm', {
    title: { text: `Normal Q-Q plot of ${name}` },
    xAxis: { type: 'value', name: 'Theoretical quantiles' }, yAxis: { type: 'value', name: 'Sample quantiles', scale: true },
    series: [{ type: 'scatter', data: pts, symbolSize: 3 }, { type: 'line', data: [[-3.5, icpt - 3.5 * slope], [3.5, icpt + 3.5 * slope]], showSymbol: false }],
  }));
  const rf: [number, number][] = [];
  const stepR = Math.max(1, Math.floor(m.n / 3000));
  for (let i = 0; i < m.n; i += stepR) rf.push([m.fitted[i], m.residuals[i]]);
  out.push(writeSvg(dir, 'residuals-fitted', {
    title: { text: 'Residuals vs Fitted' },
    xAxis: { type: 'value', name: 'Fitted values', scale: true }, yAxis: { type: 'value', name: 'Residuals' },
    series: [{ type: 'scatter', data: rf, symbolSize: 3, markLine: { silent: true, symbol: 'none', data: [{ yAxis: 0 }], lineStyle: { type: 'dashed' } } }],
  }));
  return out;
}

function pretty(x: number): number {
  if (!(x > 0)) return 1;
  const e = 10 ** Math.floor(Math.log10(x));
  const f = x / e;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

/** Acklam's normal quantile (plot positions only). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - 0.02425) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
