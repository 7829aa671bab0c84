/**
 * Ordinary least squares with an intercept, the way R's `lm` computes it: a Householder QR of the
 * design matrix (no normal equations, so a predictor in the thousands next to the intercept keeps its
 * digits), then what `summary.lm` and `predict.lm(interval = "prediction")` derive from it.
 *
 *   β = R⁻¹ Qᵀy        σ² = RSS / (n − p)        Var β = σ² (RᵀR)⁻¹
 *   t = β / se         Pr(>|t|) = 2 P(T_{n−p} > |t|)
 *   R² = 1 − RSS/TSS   adj R² = 1 − (1 − R²)(n − 1)/(n − p)
 *   F = ((TSS − RSS)/(p − 1)) / σ²  on (p − 1, n − p)
 *   prediction interval at x₀: ŷ ± t_{(1+level)/2, n−p} · sqrt(σ² + x₀ᵀ Var β x₀)
 *
 * A predictor that is constant, or a linear combination of the others, is refused with its name
 * (R would print NA for it).
 */
import { UserError } from '../../core/index.ts';
import { pfUpper, pt2, qt } from './distributions.ts';

export interface Coefficient {
  name: string;
  estimate: number;
  stdError: number;
  tValue: number;
  pValue: number;
}

export interface LinearModel {
  response: string;
  predictors: string[];
  n: number;
  /** Residual degrees of freedom n − p. */
  df: number;
  coefficients: Coefficient[];
  residuals: Float64Array;
  fitted: Float64Array;
  sigma: number;
  rSquared: number;
  adjRSquared: number;
  fStatistic: { value: number; numdf: number; dendf: number; pValue: number } | undefined;
  /** (RᵀR)⁻¹, p × p row-major: the unscaled covariance of the coefficients. */
  covUnscaled: Float64Array;
}

/** Fits `response ~ predictors` on columns of equal length. */
export function fitOls(response: string, y: Float64Array, predictors: { name: string; values: Float64Array }[]): LinearModel {
  const n = y.length;
  const p = predictors.length + 1;
  if (n <= p) throw new UserError(`${n} rows cannot fit ${p} coefficients: need more rows than coefficients`);
  for (const pr of predictors) {
    const first = pr.values[0];
    if (pr.values.every((v) => v === first)) throw new UserError(`${pr.name} has the same value (${first}) in all ${n} rows: its coefficient cannot be estimated`);
  }
  // Column-major design matrix: column 0 is the intercept.
  const a = new Float64Array(n * p);
  a.fill(1, 0, n);
  predictors.forEach((pr, j) => a.set(pr.values, (j + 1) * n));
  const qty = Float64Array.from(y);
  const rdiag = new Float64Array(p);
  const norms0 = new Float64Array(p);
  for (let j = 0; j < p; j++) norms0[j] = Math.hypot(...a.subarray(j * n, (j + 1) * n));
  // Householder: column k is reflected onto e_k; the reflectors are applied to the later columns and y.
  for (let k = 0; k < p; k++) {
    const col = k * n;
    let norm = 0;
    for (let i = k; i < n; i++) norm = Math.hypot(norm, a[col + i]);
    if (norm <= 1e-7 * norms0[k]) {
      const name = k === 0 ? '(Intercept)' : predictors[k - 1].name;
      throw new UserError(`${name} is a linear combination of the other predictors: its coefficient cannot be estimated`);
    }
    const alpha = a[col + k] > 0 ? -norm : norm;
    a[col + k] -= alpha;
    let vnorm2 = 0;
    for (let i = k; i < n; i++) vnorm2 += a[col + i] * a[col + i];
    const reflect = (v: Float64Array, off: number) => {
      let s = 0;
      for (let i = k; i < n; i++) s += a[col + i] * v[off + i];
      const f = (2 * s) / vnorm2;
      for (let i = k; i < n; i++) v[off + i] -= f * a[col + i];
    };
    for (let j = k + 1; j < p; j++) reflect(a, j * n);
    reflect(qty, 0);
    rdiag[k] = alpha;
  }
  // R (upper triangle): R[k][k] = rdiag[k], R[k][j] = a[j*n + k] for j > k.
  const r = (k: number, j: number) => (k === j ? rdiag[k] : a[j * n + k]);
  const beta = new Float64Array(p);
  for (let k = p - 1; k >= 0; k--) {
    let s = qty[k];
    for (let j = k + 1; j < p; j++) s -= r(k, j) * beta[j];
    beta[k] = s / r(k, k);
  }
  // R⁻¹ by back substitution, then (RᵀR)⁻¹ = R⁻¹ R⁻ᵀ.
  const rinv = new Float64Array(p * p);
  for (let c = 0; c < p; c++) {
    for (let k = c; k >= 0; k--) {
      let s = k === c ? 1 : 0;
      for (let j = k + 1; j <= c; j++) s -= r(k, j) * rinv[j * p + c];
      rinv[k * p + c] = s / r(k, k);
    }
  }
  const cov = new Float64Array(p * p);
  for (let i = 0; i < p; i++)
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let k = Math.max(i, j); k < p; k++) s += rinv[i * p + k] * rinv[j * p + k];
      cov[i * p + j] = s;
    }

  const fitted = new Float64Array(n);
  const residuals = new Float64Array(n);
  let rss = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i];
  mean /= n;
  let tss = 0;
  for (let i = 0; i < n; i++) {
    let f = beta[0];
    for (let j = 1; j < p; j++) f += beta[j] * predictors[j - 1].values[i];
    fitted[i] = f;
    residuals[i] = y[i] - f;
    rss += residuals[i] * residuals[i];
    tss += (y[i] - mean) * (y[i] - mean);
  }
  // RSS is more accurate as the sum of the trailing Qᵀy squares (what R's qr.resid relies on).
  let rssQ = 0;
  for (let i = p; i < n; i++) rssQ += qty[i] * qty[i];
  rss = rssQ;
  const df = n - p;
  const sigma2 = rss / df;
  const sigma = Math.sqrt(sigma2);
  const names = ['(Intercept)', ...predictors.map((x) => x.name)];
  const coefficients = names.map((name, j) => {
    const stdError = Math.sqrt(sigma2 * cov[j * p + j]);
    const tValue = beta[j] / stdError;
    return { name, estimate: beta[j], stdError, tValue, pValue: pt2(tValue, df) };
  });
  const rSquared = 1 - rss / tss;
  const adjRSquared = 1 - (1 - rSquared) * ((n - 1) / df);
  const numdf = p - 1;
  const fValue = (tss - rss) / numdf / sigma2;
  return {
    response, predictors: predictors.map((x) => x.name), n, df, coefficients, residuals, fitted, sigma, rSquared, adjRSquared,
    fStatistic: { value: fValue, numdf, dendf: df, pValue: pfUpper(fValue, numdf, df) },
    covUnscaled: cov,
  };
}

export interface Prediction {
  fit: number;
  lwr: number;
  upr: number;
}

/** `predict(model, newdata, interval = "prediction", level)`; rows hold the predictors in model order. */
export function predictOls(m: LinearModel, rows: Float64Array[], level = 0.95): Prediction[] {
  const p = m.coefficients.length;
  const q = qt((1 + level) / 2, m.df);
  const s2 = m.sigma * m.sigma;
  return rows.map((row) => {
    const x = [1, ...row];
    let fit = 0;
    for (let j = 0; j < p; j++) fit += m.coefficients[j].estimate * x[j];
    let v = 0;
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) v += x[i] * m.covUnscaled[i * p + j] * x[j];
    const half = q * Math.sqrt(s2 * v + s2);
    return { fit, lwr: fit - half, upr: fit + half };
  });
}

/** Type-7 quantile (R's default) of sorted values. */
export function quantile7(sorted: Float64Array, prob: number): number {
  const h = (sorted.length - 1) * prob;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}
