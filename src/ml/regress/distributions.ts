/**
 * The t and F distributions that `lm` needs, written from their definitions (no statistics library
 * reached R's accuracy for tiny p-values when measured):
 *
 *   I_x(a, b)          regularised incomplete beta, Lentz's continued fraction (DLMF 8.17.22) on the side
 *                      where it converges fast, the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) on the other; the
 *                      small tail is always computed directly, never as 1 − (something near 1)
 *   ln B(a, b)         R's lbeta: Stirling with the lgammacor correction when both are large, so that
 *                      ln Γ(a) + ln Γ(b) − ln Γ(a+b) does not cancel away the digits
 *   P(T > t; ν)        = ½ I_{ν/(ν+t²)}(ν/2, ½)
 *   P(F > f; d1, d2)   = I_{d2/(d2+d1 f)}(d2/2, d1/2)
 *   t quantile         Newton on the tail from a normal start, bracketed by bisection
 *
 * test/ml/regress.test.ts compares them with R's pt, pf and qt.
 */

const LN_SQRT_2PI = 0.9189385332046727;

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: ~1e-15 relative). */
export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return LN_SQRT_2PI + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The Stirling remainder ln Γ(x) − ((x − ½) ln x − x + ln √(2π)) for x ≥ 10. */
function lgammacor(x: number): number {
  const x2 = 1 / (x * x);
  return (1 / x) * (1 / 12 - x2 * (1 / 360 - x2 * (1 / 1260 - x2 * (1 / 1680 - x2 * (1 / 1188 - x2 * (691 / 360360 - x2 / 156))))));
}

/** ln B(a, b), after R's lbeta.c. */
export function lbeta(a: number, b: number): number {
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  if (p >= 10) {
    const corr = lgammacor(p) + lgammacor(q) - lgammacor(p + q);
    return Math.log(q) * -0.5 + LN_SQRT_2PI + corr + (p - 0.5) * Math.log(p / (p + q)) + q * Math.log1p(-p / (p + q));
  }
  if (q >= 10) {
    const corr = lgammacor(q) - lgammacor(p + q);
    return lgamma(p) + corr + p - p * Math.log(p + q) + (q - 0.5) * Math.log1p(-p / (p + q));
  }
  return lgamma(p) + lgamma(q) - lgamma(p + q);
}

/** The continued fraction of I_x(a,b) (modified Lentz). */
function betacf(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  const EPS = 1e-16;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 100_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return h;
  }
  return h;
}

/** { lower: I_x(a,b), upper: 1 − I_x(a,b) }, each computed without cancellation where it is small. */
export function ibeta(x: number, a: number, b: number): { lower: number; upper: number } {
  if (!(a > 0 && b > 0) || Number.isNaN(x)) return { lower: NaN, upper: NaN };
  if (x <= 0) return { lower: 0, upper: 1 };
  if (x >= 1) return { lower: 1, upper: 0 };
  const lnFront = a * Math.log(x) + b * Math.log1p(-x) - lbeta(a, b);
  if (x < (a + 1) / (a + b + 2)) {
    const lower = (Math.exp(lnFront) * betacf(x, a, b)) / a;
    return { lower, upper: 1 - lower };
  }
  const upper = (Math.exp(lnFront) * betacf(1 - x, b, a)) / b;
  return { lower: 1 - upper, upper };
}

/** P(T > t) for Student's t with ν degrees of freedom. */
export function ptUpper(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return t > 0 ? 0 : 1;
  // x = ν/(ν+t²) written as 1/(1+t²/ν) keeps precision for large |t|.
  const x = 1 / (1 + (t * t) / df);
  const tail = t * t > df ? 0.5 * ibeta(x, df / 2, 0.5).lower : 0.5 * ibeta((t * t) / (df + t * t), 0.5, df / 2).upper;
  return t > 0 ? tail : 1 - tail;
}

/** Two-sided p-value 2·P(T > |t|). */
export function pt2(t: number, df: number): number {
  return 2 * ptUpper(Math.abs(t), df);
}

/** P(F > f) for the F distribution with (d1, d2) degrees of freedom. */
export function pfUpper(f: number, d1: number, d2: number): number {
  if (Number.isNaN(f)) return NaN;
  if (f <= 0) return 1;
  if (!Number.isFinite(f)) return 0;
  // P(F > f) = I_{d2/(d2+d1 f)}(d2/2, d1/2) = 1 − I_{d1 f/(d2+d1 f)}(d1/2, d2/2).
  const x = (d1 * f) / (d2 + d1 * f);
  return ibeta(x, d1 / 2, d2 / 2).upper;
}

/** The t quantile: q with P(T ≤ q) = p. */
export function qt(p: number, df: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  if (p < 0.5) return -qt(1 - p, df);
  if (p === 0.5) return 0;
  const tail = 1 - p;
  // Bracket [lo, hi] on the upper tail, then Newton steps clamped to the bracket.
  let lo = 0;
  let hi = 1;
  while (ptUpper(hi, df) > tail) hi *= 2;
  let q = Math.min(hi, Math.max(lo, normalQuantile(p)));
  for (let i = 0; i < 200; i++) {
    const f = ptUpper(q, df) - tail;
    if (f > 0) lo = q;
    else hi = q;
    const dens = Math.exp(lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * Math.log(df * Math.PI) - ((df + 1) / 2) * Math.log1p((q * q) / df));
    let next = q + f / dens;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - q) <= 1e-15 * Math.max(1, Math.abs(q))) return next;
    q = next;
  }
  return q;
}

/** Acklam's normal quantile (1e-9): only a starting point for qt. */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
