/**
 * Scores of a classifier on a labelled set: loss, accuracy, the confusion matrix (rows = true class,
 * columns = predicted), per-class precision/recall, and ROC curves with their AUC per class (one vs
 * rest) and micro-averaged (every (row, class) pair flattened into one binary problem, as the seed's
 * `roc_curve(y_test.ravel(), y_pred.ravel())` did). AUC is the trapezoid under the curve with ties
 * taken together, which is what sklearn's roc_auc_score computes.
 */
export interface RocCurve {
  fpr: number[];
  tpr: number[];
  auc: number;
}

export interface Scores {
  rows: number;
  loss: number;
  accuracy: number;
  confusion: number[][];
  perClass: { class: string; precision: number; recall: number; support: number; auc: number }[];
  microAuc: number;
}

export function roc(scores: Float64Array, positives: Uint8Array, maxPoints = 400): RocCurve {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const P = positives.reduce((s, v) => s + v, 0);
  const N = n - P;
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  let auc = 0;
  let prevF = 0;
  let prevT = 0;
  for (let i = 0; i < n; ) {
    const s = scores[order[i]];
    while (i < n && scores[order[i]] === s) {
      if (positives[order[i]]) tp++;
      else fp++;
      i++;
    }
    const f = N ? fp / N : 0;
    const t = P ? tp / P : 0;
    auc += ((f - prevF) * (t + prevT)) / 2;
    prevF = f;
    prevT = t;
    fpr.push(f);
    tpr.push(t);
  }
  // Thin the curve for drawing; the AUC above used every point.
  if (fpr.length > maxPoints) {
    const step = fpr.length / maxPoints;
    const keep: number[] = [];
    for (let i = 0; i < fpr.length; i += step) keep.push(Math.floor(i));
    keep.push(fpr.length - 1);
    return { fpr: keep.map((i) => fpr[i]), tpr: keep.map((i) => tpr[i]), auc };
  }
  return { fpr, tpr, auc };
}

export function score(probs: Float64Array, y: Uint8Array, classes: readonly string[]): { scores: Scores; curves: { micro: RocCurve; perClass: RocCurve[] } } {
  const k = classes.length;
  const n = y.length;
  const confusion = classes.map(() => new Array<number>(k).fill(0));
  let loss = 0;
  let right = 0;
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (probs[r * k + j] > probs[r * k + best]) best = j;
    confusion[y[r]][best]++;
    if (best === y[r]) right++;
    loss -= Math.log(Math.min(1 - 1e-7, Math.max(1e-7, probs[r * k + y[r]])));
  }
  const flatPos = new Uint8Array(n * k);
  for (let r = 0; r < n; r++) flatPos[r * k + y[r]] = 1;
  const micro = roc(probs, flatPos);
  const perClass = classes.map((_, c) => {
    const s = new Float64Array(n);
    const pos = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      s[r] = probs[r * k + c];
      pos[r] = y[r] === c ? 1 : 0;
    }
    return roc(s, pos);
  });
  const scores: Scores = {
    rows: n,
    loss: loss / n,
    accuracy: right / n,
    confusion,
    perClass: classes.map((name, c) => {
      const predicted = confusion.reduce((s, row) => s + row[c], 0);
      const support = confusion[c].reduce((s, v) => s + v, 0);
      return { class: name, precision: predicted ? confusion[c][c] / predicted : 0, recall: support ? confusion[c][c] / support : 0, support, auc: perClass[c].auc };
    }),
    microAuc: micro.auc,
  };
  return { scores, curves: { micro, perClass } };
}

export function formatScores(s: Scores): string {
  const lines = [`rows ${s.rows}  loss ${s.loss.toFixed(4)}  accuracy ${s.accuracy.toFixed(4)}  micro-average AUC ${s.microAuc.toFixed(6)}`, '', 'confusion matrix (rows: true class, columns: predicted)'];
  const w = Math.max(6, ...s.confusion.flat().map((v) => String(v).length + 1));
  lines.push('      ' + s.perClass.map((c) => `pred ${c.class}`.padStart(w + 5)).join(''));
  s.confusion.forEach((row, i) => lines.push(`true ${s.perClass[i].class}` + row.map((v) => String(v).padStart(w + 5)).join('')));
  lines.push('', 'class  precision  recall   support  AUC');
  for (const c of s.perClass) lines.push(`${c.class.padEnd(5)}  ${c.precision.toFixed(4).padStart(9)}  ${c.recall.toFixed(4).padStart(6)}  ${String(c.support).padStart(8)}  ${c.auc.toFixed(6)}`);
  return lines.join('\n') + '\n';
}
