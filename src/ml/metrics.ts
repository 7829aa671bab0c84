/**
 * Classification metrics from a confusion matrix `m[actual][predicted]` (counts): accuracy, error
 * rate, and per class precision, recall (true-positive rate), false-positive rate and F1, each class
 * taken in turn as the positive one (as Spark's MulticlassMetrics reports them). A ratio with a zero
 * denominator is 0.
 */
export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  falsePositiveRate: number;
  f1: number;
  support: number;
}

export interface Evaluation {
  rows: number;
  accuracy: number;
  errorRate: number;
  labels: string[];
  confusion: number[][];
  perClass: ClassMetrics[];
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

export function evaluateConfusion(labels: string[], confusion: number[][]): Evaluation {
  const k = labels.length;
  const total = confusion.flat().reduce((s, x) => s + x, 0);
  let correct = 0;
  for (let i = 0; i < k; i++) correct += confusion[i][i];
  const perClass = labels.map((label, c) => {
    const tp = confusion[c][c];
    const actual = confusion[c].reduce((s, x) => s + x, 0);
    const predicted = confusion.reduce((s, row) => s + row[c], 0);
    const fp = predicted - tp;
    const negatives = total - actual;
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, actual);
    return { label, precision, recall, falsePositiveRate: ratio(fp, negatives), f1: ratio(2 * precision * recall, precision + recall), support: actual };
  });
  const accuracy = ratio(correct, total);
  return { rows: total, accuracy, errorRate: total === 0 ? 0 : 1 - accuracy, labels, confusion, perClass };
}

export function formatEvaluation(e: Evaluation, names: string[] = e.labels): string {
  const w = Math.max(...names.map((n) => n.length), 9) + 2;
  const lines = [
    `rows ${e.rows}   accuracy ${(e.accuracy * 100).toFixed(3)} %   error rate ${(e.errorRate * 100).toFixed(3)} %`,
    '',
    'confusion matrix (rows: actual, columns: predicted)',
    ''.padEnd(w) + names.map((n) => n.padStart(w)).join(''),
    ...e.confusion.map((row, i) => names[i].padEnd(w) + row.map((x) => String(x).padStart(w)).join('')),
    '',
    `${'class'.padEnd(w)}${['precision', 'recall', 'FPR', 'F1', 'support'].map((h) => h.padStart(11)).join('')}`,
    ...e.perClass.map((c, i) => names[i].padEnd(w) + [c.precision, c.recall, c.falsePositiveRate, c.f1].map((x) => x.toFixed(4).padStart(11)).join('') + String(c.support).padStart(11)),
  ];
  return lines.join('\n') + '\n';
}
