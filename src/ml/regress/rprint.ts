/**
 * R's printing of `summary(lm)` and of a `predict(…, interval = "prediction")` matrix, character for
 * character at a given `digits` (R's default for the summary is max(3, getOption("digits") − 3) = 4):
 *
 *   formatReal   the common fixed-or-scientific format R gives a numeric vector (format.c): every element
 *                keeps `digits` significant digits; fixed notation unless it is wider than scientific
 *   formatC      C's %.*g
 *   format.pval  "< 2e-16" below the machine epsilon
 *   printCoefmat estimate and std. error share one format, t values rounded to digits − 1, stars
 *
 * The text compares equal to Rscript's in test/ml/regress.test.ts.
 */
import { quantile7, type LinearModel, type Prediction } from './ols.ts';

const EPS = 2.220446049250313e-16;

interface Sci {
  neg: boolean;
  kp: number;
  nsig: number;
}

function scientific(x: number, digits: number): Sci {
  if (x === 0) return { neg: false, kp: 0, nsig: 1 };
  const s = Math.abs(x).toExponential(digits - 1);
  const [mant, exp] = s.split('e');
  const ds = mant.replace('.', '');
  let nsig = digits;
  for (let i = ds.length - 1; i > 0 && ds[i] === '0'; i--) nsig--;
  return { neg: x < 0, kp: Number(exp), nsig };
}

interface RealFormat {
  w: number;
  d: number;
  e: number;
}

/** R's formatReal: the common width, decimals and exponent flag for a vector. */
export function formatRealSpec(xs: readonly number[], digits: number): RealFormat {
  let rgt = -Infinity;
  let mxl = -Infinity;
  let mnl = Infinity;
  let mxsl = -Infinity;
  let mxns = -Infinity;
  let neg = 0;
  let nonFinite = 0;
  for (const x of xs) {
    if (!Number.isFinite(x)) {
      nonFinite = Math.max(nonFinite, Number.isNaN(x) ? 3 : x > 0 ? 3 : 4);
      continue;
    }
    const s = scientific(x, digits);
    const left = s.kp + 1;
    const sleft = (s.neg ? 1 : 0) + (left <= 0 ? 1 : left);
    const right = s.nsig - left;
    if (s.neg) neg = 1;
    rgt = Math.max(rgt, right);
    mxl = Math.max(mxl, left);
    mnl = Math.min(mnl, left);
    mxsl = Math.max(mxsl, sleft);
    mxns = Math.max(mxns, s.nsig);
  }
  if (mxl === -Infinity) return { w: nonFinite, d: 0, e: 0 };
  if (mxl < 0) mxsl = 1 + neg;
  if (rgt < 0) rgt = 0;
  const wF = mxsl + rgt + (rgt !== 0 ? 1 : 0);
  let e = mxl > 100 || mnl <= -99 ? 2 : 1;
  let d = mxns - 1;
  let w = neg + (d > 0 ? 1 : 0) + d + 4 + e;
  if (wF <= w) {
    e = 0;
    d = rgt;
    w = wF;
  }
  return { w: Math.max(w, nonFinite), d, e };
}

function encodeReal(x: number, f: RealFormat): string {
  let s: string;
  if (Number.isNaN(x)) s = 'NaN';
  else if (!Number.isFinite(x)) s = x > 0 ? 'Inf' : '-Inf';
  else if (f.e) s = cExp(x, f.d);
  else s = x.toFixed(f.d);
  return s.padStart(f.w);
}

/** C's %.*e: at least two exponent digits. */
function cExp(x: number, d: number): string {
  const [m, e] = x.toExponential(d).split('e');
  const sign = e[0] === '-' ? '-' : '+';
  const digits = e.replace(/^[+-]/, '');
  return `${m}e${sign}${digits.padStart(2, '0')}`;
}

/** `format(xs, digits = digits)`: one common format. */
export function formatReal(xs: readonly number[], digits: number): string[] {
  const f = formatRealSpec(xs, digits);
  return xs.map((x) => encodeReal(x, f));
}

/** R's formatC(x, digits): C's %.*g, right-aligned in digits + 1 columns. */
export function formatC(x: number, digits: number): string {
  return cFormatG(x, digits).padStart(digits + 1);
}

function cFormatG(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Inf' : '-Inf';
  if (x === 0) return '0';
  const p = Math.max(1, digits);
  const exp = Number(x.toExponential(p - 1).split('e')[1]);
  if (exp < -4 || exp >= p) {
    const [m, e] = cExp(x, p - 1).split('e');
    return `${stripZeros(m)}e${e}`;
  }
  return stripZeros(x.toFixed(Math.max(0, p - 1 - exp)));
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** R's round(x, d) for d decimals (d may be negative). */
export function roundTo(x: number, d: number): number {
  if (!Number.isFinite(x)) return x;
  if (d >= 0) return Number(x.toFixed(Math.min(d, 100)));
  const m = 10 ** -d;
  return Math.round(x / m) * m;
}

/** R's signif(x, digits). */
export function signif(x: number, digits: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(digits));
}

/** format.pval(pv, digits, eps = .Machine$double.eps). */
export function formatPval(pv: readonly number[], digits: number): string[] {
  const is0 = pv.map((p) => p < EPS);
  const out: string[] = pv.map(() => '');
  const rest = pv.filter((_, i) => !is0[i]);
  if (rest.length) {
    const expo = rest.map((p) => Math.floor(Math.log10(p > 0 ? p : 1e-50)));
    const fixIdx = rest.map((_, i) => i).filter((i) => expo[i] >= -3 || rest[i] === 0);
    const sciIdx = rest.map((_, i) => i).filter((i) => !(expo[i] >= -3 || rest[i] === 0));
    const rr: string[] = rest.map(() => '');
    const fx = formatReal(fixIdx.map((i) => rest[i]), digits);
    fixIdx.forEach((i, k) => (rr[i] = fx[k]));
    const sx = formatReal(sciIdx.map((i) => rest[i]), digits);
    sciIdx.forEach((i, k) => (rr[i] = sx[k]));
    let k = 0;
    pv.forEach((_, i) => {
      if (!is0[i]) out[i] = rr[k++];
    });
  }
  if (is0.some(Boolean)) {
    let dg = Math.max(1, digits - 2);
    let sep: string;
    if (rest.length) {
      const nc = Math.max(...out.filter((_, i) => !is0[i]).map((s) => s.length));
      if (dg > 1 && dg + 6 > nc) dg = Math.max(1, nc - 7);
      sep = dg === 1 && nc <= 6 ? '' : ' ';
    } else sep = dg === 1 ? '' : ' ';
    const e = formatReal([EPS], dg)[0];
    pv.forEach((_, i) => {
      if (is0[i]) out[i] = `<${sep}${e}`;
    });
  }
  return out;
}

/** print of a character matrix with right = TRUE, quote = FALSE. */
function printCharMatrix(rowNames: string[], colNames: string[], cells: string[][]): string {
  const rw = Math.max(0, ...rowNames.map((s) => s.length));
  const widths = colNames.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j].length)));
  const lines = [' '.repeat(rw) + colNames.map((c, j) => ' ' + c.padStart(widths[j])).join('')];
  cells.forEach((r, i) => lines.push(rowNames[i].padEnd(rw) + r.map((v, j) => ' ' + v.padStart(widths[j])).join('')));
  return lines.join('\n') + '\n';
}

/** print of a named numeric vector (one line while it fits 80 columns). */
function printNamedVector(names: string[], values: number[], digits: number): string {
  const f = formatReal(values, digits);
  const w = Math.max(...f.map((s) => s.length), ...names.map((s) => s.length));
  const perLine = Math.max(1, Math.floor(80 / (w + 1)));
  let out = '';
  for (let i = 0; i < names.length; i += perLine) {
    out += names.slice(i, i + perLine).map((s) => s.padStart(w) + ' ').join('') + '\n';
    out += f.slice(i, i + perLine).map((s) => s.padStart(w) + ' ').join('') + '\n';
  }
  return out;
}

/**
 * zapsmall as in R 4.2 (Debian bookworm's r-base-core): round(x, digits − log10(max|x|)), where round()
 * takes the nearest integer of a fractional digits argument. (R 4.4 uses ceiling(log10(…)) instead.)
 */
function zapsmall(xs: number[], digits: number): number[] {
  const mx = Math.max(...xs.map(Math.abs));
  const d = mx > 0 ? Math.max(0, digits - Math.log10(mx)) : digits;
  return xs.map((x) => roundTo(x, Math.floor(d + 0.5)));
}

function stars(p: number): string {
  return p <= 0.001 ? '***' : p <= 0.01 ? '**' : p <= 0.05 ? '*' : p <= 0.1 ? '.' : ' ';
}

/** `print(summary(model), digits)`; `data` names the table in the Call line. */
export function printSummary(m: LinearModel, data: string, digits = 4): string {
  let out = `\nCall:\nlm(formula = ${m.response} ~ ${m.predictors.join(' + ')}, data = ${data})\n\n`;
  out += 'Residuals:\n';
  if (m.df > 5) {
    const sorted = Float64Array.from(m.residuals).sort();
    const q = zapsmall([0, 0.25, 0.5, 0.75, 1].map((p) => quantile7(sorted, p)), digits + 1);
    out += printNamedVector(['Min', '1Q', 'Median', '3Q', 'Max'], q, digits);
  } else {
    out += printNamedVector(Array.from(m.residuals, (_, i) => String(i + 1)), Array.from(m.residuals), digits);
  }
  out += '\nCoefficients:\n';
  const cs = m.coefficients;
  const acs = cs.flatMap((c) => [Math.abs(c.estimate), Math.abs(c.stdError)]).filter((v) => Number.isFinite(v) && v !== 0);
  // digmin is 1 + floor(log10(range)): the smallest magnitude decides how many decimals survive.
  const digmin = acs.length ? [Math.min(...acs), Math.max(...acs)].map((v) => 1 + Math.floor(Math.log10(v))) : [1, 1];
  const rd = Math.max(1, digits - digmin[0], digits - digmin[1]);
  const coefSe = formatReal(cs.flatMap((c) => [roundTo(c.estimate, rd), roundTo(c.stdError, rd)]), digits);
  const digTst = Math.max(1, Math.min(5, digits - 1));
  const tv = formatReal(cs.map((c) => roundTo(c.tValue, digTst)), digits);
  const pv = formatPval(cs.map((c) => c.pValue), digTst);
  const withStars = cs.some((c) => c.pValue < 0.1);
  const st = cs.map((c) => stars(c.pValue));
  const sw = Math.max(...st.map((s) => s.length));
  const cells = cs.map((_, i) => {
    const row = [coefSe[2 * i], coefSe[2 * i + 1], tv[i], pv[i]];
    if (withStars) row.push(st[i].padEnd(sw));
    return row;
  });
  const cols = ['Estimate', 'Std. Error', 't value', 'Pr(>|t|)'];
  if (withStars) cols.push('');
  out += printCharMatrix(cs.map((c) => c.name), cols, cells);
  if (withStars) out += '---\nSignif. codes:  0 ‘***’ 0.001 ‘**’ 0.01 ‘*’ 0.05 ‘.’ 0.1 ‘ ’ 1\n';
  out += `\nResidual standard error: ${formatReal([signif(m.sigma, digits)], 7)[0].trim()} on ${m.df} degrees of freedom\n`;
  if (m.fStatistic) {
    const f = m.fStatistic;
    out += `Multiple R-squared:  ${formatC(m.rSquared, digits)},\tAdjusted R-squared:  ${formatC(m.adjRSquared, digits)} \n`;
    out += `F-statistic: ${formatC(f.value, digits)} on ${f.numdf} and ${f.dendf} DF,  p-value: ${formatPval([f.pValue], digits)[0]}\n`;
  }
  return out + '\n';
}

/** `print(predict(model, newdata, interval = "prediction"))` at R's default 7 digits. */
export function printPredictions(ps: Prediction[], digits = 7): string {
  const cols = ['fit', 'lwr', 'upr'] as const;
  const formatted = cols.map((c) => formatReal(ps.map((p) => p[c]), digits));
  return printCharMatrix(ps.map((_, i) => String(i + 1)), [...cols], ps.map((_, i) => formatted.map((f) => f[i])));
}
