/**
 * An oracle for the incident model file, written from its format (src/ml/dnn/artifact.ts header), not
 * from src/: scale each feature with the stored scaler, run the dense layers (relu / softmax, dropout is
 * the identity at inference), and take the argmax. `raw: true` skips the scaler, which is the seed's
 * Flask bug: tests use it to prove the service does not do that.
 */
import fs from 'node:fs';

interface File {
  features: string[];
  classes: string[];
  scaler: { mean: number[]; scale: number[] };
  layers: ({ type: 'dense'; units: number; activation: string } | { type: 'dropout'; rate: number })[];
  weights: { kernel: number[]; bias: number[] }[];
}

export function oracle(file: string): (row: Record<string, number>, opts?: { raw?: boolean }) => { prediction: string; probabilities: number[] } {
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as File;
  return (row, opts = {}) => {
    let a = m.features.map((f, i) => (opts.raw ? row[f] : (row[f] - m.scaler.mean[i]) / m.scaler.scale[i]));
    let w = 0;
    for (const l of m.layers) {
      if (l.type !== 'dense') continue;
      const { kernel, bias } = m.weights[w++];
      const z = bias.map((b, o) => b + a.reduce((s, v, i) => s + v * kernel[i * l.units + o], 0));
      if (l.activation === 'relu') a = z.map((v) => Math.max(0, v));
      else if (l.activation === 'softmax') {
        const mx = Math.max(...z);
        const e = z.map((v) => Math.exp(v - mx));
        const s = e.reduce((x, y) => x + y, 0);
        a = e.map((v) => v / s);
      } else a = z;
    }
    const best = a.indexOf(Math.max(...a));
    return { prediction: m.classes[best], probabilities: a };
  };
}
