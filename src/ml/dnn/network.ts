/**
 * A feed-forward network of dense layers trained by mini-batch Adam, with Keras' semantics, over
 * Float64Array batches. It exists because TensorFlow.js without its native binding was measured too
 * slow here (docs/models.md: the pure-JS backend ~35 s and tfjs-backend-wasm 6.5–26 s per epoch of
 * 160,000 rows on the shared 2-core machine, several times this code and over 3× scikit-learn);
 * test/ml/dnn.test.ts checks a forward pass and Adam steps against TensorFlow.js itself. The dense
 * layers' arithmetic runs in WebAssembly SIMD kernels (simd.ts) or in the generated JavaScript ones
 * below: the same operations in the same order, so the same bits.
 *
 * Semantics (Keras / tfjs-layers defaults):
 *   Dense        y = act(x W + b), W is in × out (row-major), Glorot-uniform init U(±sqrt(6/(in+out))), b = 0
 *   Dropout      inverted: training multiplies by mask/(1 − rate), inference is the identity
 *   softmax + categorical cross-entropy: loss = −mean Σ y log p (p clipped to [1e-7, 1 − 1e-7]),
 *                gradient at the logits (p − y) / batch
 *   Adam         lr 0.001, β1 0.9, β2 0.999, ε 1e-7: w −= lr · (m/(1−β1ᵗ)) / (sqrt(v/(1−β2ᵗ)) + ε)
 */

import { backwardKernel as simdBackward, forwardKernel as simdForward, kernelMemory, simdAvailable, type BackwardFn, type ForwardFn, type WasmMemory } from './simd.ts';

export type Activation = 'relu' | 'softmax' | 'linear';

export type LayerSpec = { type: 'dense'; units: number; activation: Activation } | { type: 'dropout'; rate: number };

export interface DenseWeights {
  kernel: Float64Array;
  bias: Float64Array;
}

/** A generator on [0, 1). */
export type Rng = () => number;

interface Dense {
  kind: 'dense';
  in: number;
  out: number;
  act: Activation;
  w: DenseWeights;
}
interface Dropout {
  kind: 'dropout';
  rate: number;
  units: number;
}
type Layer = Dense | Dropout;

export class Network {
  readonly inputs: number;
  readonly specs: LayerSpec[];
  private readonly layers: Layer[];
  /** predict()'s buffers for large inputs, made on first use. */
  private inference: Workspace | undefined;

  constructor(inputs: number, specs: LayerSpec[], weights: DenseWeights[]) {
    this.inputs = inputs;
    this.specs = specs;
    let width = inputs;
    let k = 0;
    this.layers = specs.map((s) => {
      if (s.type === 'dropout') return { kind: 'dropout', rate: s.rate, units: width };
      const w = weights[k++];
      if (!w || w.kernel.length !== width * s.units || w.bias.length !== s.units)
        throw new Error(`dense layer ${k}: expected a ${width}×${s.units} kernel and ${s.units} biases`);
      const d: Dense = { kind: 'dense', in: width, out: s.units, act: s.activation, w };
      width = s.units;
      return d;
    });
    if (k !== weights.length) throw new Error(`${weights.length} weight sets for ${k} dense layers`);
  }

  /** Glorot-uniform kernels and zero biases, drawn from rng in layer order. */
  static init(inputs: number, specs: LayerSpec[], rng: Rng): Network {
    let width = inputs;
    const weights: DenseWeights[] = [];
    for (const s of specs) {
      if (s.type !== 'dense') continue;
      const limit = Math.sqrt(6 / (width + s.units));
      const kernel = new Float64Array(width * s.units);
      for (let i = 0; i < kernel.length; i++) kernel[i] = (rng() * 2 - 1) * limit;
      weights.push({ kernel, bias: new Float64Array(s.units) });
      width = s.units;
    }
    return new Network(inputs, specs, weights);
  }

  get outputs(): number {
    const last = this.layers.at(-1);
    return last ? (last.kind === 'dense' ? last.out : last.units) : this.inputs;
  }

  weights(): DenseWeights[] {
    return this.layers.filter((l): l is Dense => l.kind === 'dense').map((l) => l.w);
  }

  /**
   * Inference on `rows` rows of `inputs` values (row-major); returns rows × outputs. Large inputs go
   * through the SIMD kernels in chunks (rows are independent, so chunking changes nothing); a few rows
   * (the prediction service's requests) stay on the JavaScript kernels, which copy nothing.
   */
  predict(x: Float64Array, rows: number, kernels: Kernels = DEFAULT_KERNELS): Float64Array {
    if (kernels === 'simd' && rows >= PREDICT_SIMD_ROWS) {
      const k = this.outputs;
      const result = new Float64Array(rows * k);
      const ws = (this.inference ??= this.workspace('simd'));
      for (let start = 0; start < rows; start += PREDICT_CHUNK) {
        const n = Math.min(PREDICT_CHUNK, rows - start);
        result.set(this.forward(x.subarray(start * this.inputs, (start + n) * this.inputs), n, ws), start * k);
      }
      return result;
    }
    let a = x;
    for (const l of this.layers) {
      if (l.kind === 'dropout') continue;
      const z = new Float64Array(rows * l.out);
      denseKernel(l.in, l.out)(a, rows, l.w.kernel, l.w.bias, z);
      activate(z, rows, l.out, l.act);
      a = z;
    }
    return a;
  }

  /** Forward pass keeping what backprop needs; dropout masks drawn from rng. The result is a view into ws. */
  forwardTrain(x: Float64Array, rows: number, rng: Rng, ws: Workspace): Float64Array {
    return this.forward(x, rows, ws, rng);
  }

  /** Without rng, dropout is the identity (inference). */
  private forward(x: Float64Array, rows: number, ws: Workspace, rng?: Rng): Float64Array {
    ws.ensure(rows);
    let a = ws.act(0, rows);
    a.set(x.subarray(0, rows * this.inputs));
    this.layers.forEach((l, i) => {
      const out = ws.act(i + 1, rows);
      if (l.kind === 'dense') {
        ws.dense(i, a, rows, out);
        if (l.act !== 'relu') activate(out, rows, l.out, l.act);
      } else if (!rng) {
        out.set(a);
      } else {
        dropout(a, out, ws.mask(i, rows), l.rate, rng);
      }
      a = out;
    });
    return a;
  }

  /**
   * Gradients of the mean cross-entropy for one batch after forwardTrain (softmax output layer).
   * Returns the loss; gradients land in ws.grads (per dense layer: kernel, bias).
   */
  backward(y: Float64Array, rows: number, ws: Workspace): number {
    const L = this.layers.length;
    const p = ws.act(L, rows);
    let loss = 0;
    let delta = ws.delta(L, rows);
    for (let j = 0; j < p.length; j++) {
      if (y[j] !== 0) loss -= y[j] * Math.log(Math.min(1 - 1e-7, Math.max(1e-7, p[j])));
      delta[j] = (p[j] - y[j]) / rows;
    }
    for (let i = L - 1; i >= 0; i--) {
      const l = this.layers[i];
      if (l.kind === 'dropout') {
        const mask = ws.mask(i, rows);
        const d2 = ws.delta(i, rows);
        for (let j = 0; j < delta.length; j++) d2[j] = delta[j] * mask[j];
        delta = d2;
        continue;
      }
      if (i === 0) {
        ws.denseBackward(i, rows, delta, undefined, false);
        break;
      }
      const dBelow = ws.delta(i, rows);
      ws.denseBackward(i, rows, delta, dBelow, this.reluFeeds(i));
      delta = dBelow;
    }
    return loss / rows;
  }

  /** True when layer i's input went through relu (directly or via dropout). */
  private reluFeeds(i: number): boolean {
    for (let j = i - 1; j >= 0; j--) {
      const l = this.layers[j];
      if (l.kind === 'dense') return l.act === 'relu';
    }
    return false;
  }

  /** Buffers for training (or chunked inference) with this network; `kernels` picks the arithmetic. */
  workspace(kernels: Kernels = DEFAULT_KERNELS): Workspace {
    return new Workspace(this.inputs, this.layers, kernels, (i) => this.reluFeeds(i));
  }
}

/** Which implementation does the dense layers' arithmetic; both give the same bits (simd.ts). */
export type Kernels = 'simd' | 'js';
export const DEFAULT_KERNELS: Kernels = simdAvailable ? 'simd' : 'js';
const PREDICT_SIMD_ROWS = 64;
const PREDICT_CHUNK = 8192;

/**
 * Reused buffers of one training loop: no allocation per batch. Everything a batch touches (activations,
 * dropout masks, deltas, weight copies, gradients) sits in one Float64 arena, laid out for a row
 * capacity; with the SIMD kernels the arena is the WebAssembly memory they address. A larger batch lays
 * the arena out again (nothing in it outlives a batch).
 */
export class Workspace {
  /** Per dense layer, filled by backward. */
  readonly grads: DenseWeights[];
  private capacity = 0;
  private acts: Float64Array[] = [];
  private masks: Float64Array[] = [];
  private deltas: Float64Array[] = [];
  private w: { k: Float64Array; kt: Float64Array; b: Float64Array; gk: Float64Array; gb: Float64Array }[] = [];
  private fwd: (ForwardFn | undefined)[] = [];
  private bwd: (BackwardFn | undefined)[] = [];
  private readonly widths: number[];
  /** Layer index → index in grads. */
  private readonly gradOf: number[];

  constructor(
    private readonly inputs: number,
    private readonly layers: Layer[],
    readonly kernels: Kernels,
    private readonly reluFeeds: (i: number) => boolean,
  ) {
    if (kernels === 'simd' && !simdAvailable) throw new Error('this runtime has no WebAssembly SIMD; use the js kernels');
    this.grads = layers.filter((l): l is Dense => l.kind === 'dense').map((l) => ({ kernel: new Float64Array(l.in * l.out), bias: new Float64Array(l.out) }));
    this.widths = [inputs, ...layers.map((l) => (l.kind === 'dense' ? l.out : l.units))];
    let g = 0;
    this.gradOf = layers.map((l) => (l.kind === 'dense' ? g++ : -1));
  }

  /** Lays the arena out for at least `rows` rows. */
  ensure(rows: number): void {
    if (rows <= this.capacity) return;
    const cap = rows;
    const sizes: number[] = [];
    for (const w of this.widths) sizes.push(cap * w, cap * w);
    for (const l of this.layers) sizes.push(l.kind === 'dropout' ? cap * l.units : 0);
    for (const l of this.layers) if (l.kind === 'dense') sizes.push(l.in * l.out, l.in * l.out, l.out, l.in * l.out, l.out);
    // Every piece starts on a 16-byte boundary.
    const total = sizes.reduce((s, n) => s + n + (n & 1), 0);
    let mem: WasmMemory | undefined;
    let f64: Float64Array;
    if (this.kernels === 'simd') {
      mem = kernelMemory(total * 8);
      f64 = new Float64Array(mem.buffer, 0, total);
    } else {
      f64 = new Float64Array(total);
    }
    let off = 0;
    const take = (n: number) => {
      const v = f64.subarray(off, off + n);
      off += n + (n & 1);
      return v;
    };
    this.acts = [];
    this.deltas = [];
    for (const w of this.widths) {
      this.acts.push(take(cap * w));
      this.deltas.push(take(cap * w));
    }
    this.masks = this.layers.map((l) => take(l.kind === 'dropout' ? cap * l.units : 0));
    this.w = [];
    this.fwd = [];
    this.bwd = [];
    this.layers.forEach((l, i) => {
      if (l.kind !== 'dense') return;
      this.w[i] = { k: take(l.in * l.out), kt: take(l.in * l.out), b: take(l.out), gk: take(l.in * l.out), gb: take(l.out) };
      if (!mem) return;
      this.fwd[i] = simdForward(mem, l.in, l.out, l.act === 'relu');
      this.bwd[i] = simdBackward(mem, l.in, l.out, i > 0, i > 0 && this.reluFeeds(i));
    });
    this.capacity = cap;
  }

  /** Layer i's input activations (i = 0: the batch; i = layers: the output), rows × width. */
  act(i: number, rows: number): Float64Array {
    return this.acts[i].subarray(0, rows * this.widths[i]);
  }
  /** The loss gradient at act(i). */
  delta(i: number, rows: number): Float64Array {
    return this.deltas[i].subarray(0, rows * this.widths[i]);
  }
  /** Dropout layer i's mask. */
  mask(i: number, rows: number): Float64Array {
    return this.masks[i].subarray(0, rows * this.widths[i + 1]);
  }

  /** out = a W + b for dense layer i, relu applied when it is the layer's activation (softmax is the caller's). */
  dense(i: number, a: Float64Array, rows: number, out: Float64Array): void {
    const l = this.layers[i] as Dense;
    const f = this.fwd[i];
    if (!f) {
      denseKernel(l.in, l.out)(a, rows, l.w.kernel, l.w.bias, out);
      if (l.act === 'relu') activate(out, rows, l.out, 'relu');
      return;
    }
    const w = this.w[i];
    w.k.set(l.w.kernel);
    w.b.set(l.w.bias);
    f(a.byteOffset, rows, w.k.byteOffset, w.b.byteOffset, out.byteOffset);
  }

  /** Dense layer i's gradients into grads, and the delta below it when dBelow is given. */
  denseBackward(i: number, rows: number, delta: Float64Array, dBelow: Float64Array | undefined, relu: boolean): void {
    const l = this.layers[i] as Dense;
    const g = this.grads[this.gradOf[i]];
    const a = this.act(i, rows);
    const f = this.bwd[i];
    if (!f) {
      backwardKernel(l.in, l.out, dBelow !== undefined, relu)(a, rows, l.w.kernel, delta, g.kernel, g.bias, dBelow);
      return;
    }
    const w = this.w[i];
    const k = l.w.kernel;
    for (let q = 0; q < l.in; q++) for (let o = 0; o < l.out; o++) w.kt[o * l.in + q] = k[q * l.out + o];
    f(a.byteOffset, rows, w.kt.byteOffset, delta.byteOffset, w.gk.byteOffset, w.gb.byteOffset, dBelow ? dBelow.byteOffset : 0);
    g.kernel.set(w.gk);
    g.bias.set(w.gb);
  }
}

/**
 * z = a W + b, row by row. The loop over a row is generated once per layer shape (in × out) with the
 * inner loops unrolled: with 3–20-wide layers the loop overhead otherwise costs more than the arithmetic.
 * The generated code only reads its arguments (no names from data reach it).
 */
type DenseKernel = (a: Float64Array, rows: number, kernel: Float64Array, bias: Float64Array, z: Float64Array) => void;
const denseKernels = new Map<string, DenseKernel>();

function denseKernel(nIn: number, nOut: number): DenseKernel {
  const key = `${nIn}x${nOut}`;
  let f = denseKernels.get(key);
  if (f) return f;
  const lines = ['for (let r = 0; r < rows; r++) {', `  const ri = r * ${nIn}, ro = r * ${nOut};`];
  for (let q = 0; q < nIn; q++) lines.push(`  const a${q} = a[ri + ${q}];`);
  for (let o = 0; o < nOut; o++) {
    const terms = Array.from({ length: nIn }, (_, q) => `a${q} * k[${q * nOut + o}]`);
    lines.push(`  z[ro + ${o}] = b[${o}] + ${terms.join(' + ')};`);
  }
  lines.push('}');
  f = new Function('a', 'rows', 'k', 'b', 'z', lines.join('\n')) as DenseKernel;
  denseKernels.set(key, f);
  return f;
}

/**
 * One dense layer's backward pass, generated per shape like the forward one: per row, the deltas and
 * inputs sit in locals; dW = Σ_r a_rᵀ δ_r and db = Σ_r δ_r accumulate in locals too, and δ below =
 * (W δ_r) ⊙ relu'(a_r) when asked.
 */
type BackwardKernel = (a: Float64Array, rows: number, kernel: Float64Array, delta: Float64Array, gk: Float64Array, gb: Float64Array, dBelow: Float64Array | undefined) => void;
const backwardKernels = new Map<string, BackwardKernel>();

function backwardKernel(nIn: number, nOut: number, below: boolean, relu: boolean): BackwardKernel {
  const key = `${nIn}x${nOut}:${below}:${relu}`;
  let f = backwardKernels.get(key);
  if (f) return f;
  const L: string[] = [];
  for (let o = 0; o < nOut; o++) L.push(`let gb${o} = 0;`);
  for (let q = 0; q < nIn; q++) L.push(`let ${Array.from({ length: nOut }, (_, o) => `g${q}_${o} = 0`).join(', ')};`);
  L.push('for (let r = 0; r < rows; r++) {', `  const ri = r * ${nIn}, ro = r * ${nOut};`);
  for (let o = 0; o < nOut; o++) L.push(`  const d${o} = delta[ro + ${o}]; gb${o} += d${o};`);
  for (let q = 0; q < nIn; q++) {
    L.push(`  const a${q} = a[ri + ${q}];`);
    L.push(`  if (a${q} !== 0) { ${Array.from({ length: nOut }, (_, o) => `g${q}_${o} += a${q} * d${o};`).join(' ')} }`);
    if (below) {
      const sum = Array.from({ length: nOut }, (_, o) => `k[${q * nOut + o}] * d${o}`).join(' + ');
      L.push(relu ? `  dB[ri + ${q}] = a${q} > 0 ? ${sum} : 0;` : `  dB[ri + ${q}] = ${sum};`);
    }
  }
  L.push('}');
  for (let o = 0; o < nOut; o++) L.push(`gb[${o}] = gb${o};`);
  for (let q = 0; q < nIn; q++) for (let o = 0; o < nOut; o++) L.push(`gk[${q * nOut + o}] = g${q}_${o};`);
  f = new Function('a', 'rows', 'k', 'delta', 'gk', 'gb', 'dB', L.join('\n')) as BackwardKernel;
  backwardKernels.set(key, f);
  return f;
}

/** Inverted dropout: out = a · mask, mask = 1/(1 − rate) where a draw ≥ rate, else 0 (one draw per value, in order). */
function dropout(a: Float64Array, out: Float64Array, mask: Float64Array, rate: number, rng: Rng): void {
  const keep = 1 / (1 - rate);
  for (let j = 0; j < out.length; j++) {
    const m = rng() >= rate ? keep : 0;
    mask[j] = m;
    out[j] = a[j] * m;
  }
}

function activate(z: Float64Array, rows: number, n: number, act: Activation): void {
  if (act === 'relu') {
    for (let j = 0; j < z.length; j++) if (z[j] < 0) z[j] = 0;
  } else if (act === 'softmax') {
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      let mx = -Infinity;
      for (let j = 0; j < n; j++) mx = Math.max(mx, z[o + j]);
      let s = 0;
      for (let j = 0; j < n; j++) {
        z[o + j] = Math.exp(z[o + j] - mx);
        s += z[o + j];
      }
      for (let j = 0; j < n; j++) z[o + j] /= s;
    }
  }
}

/** Adam with the tfjs/Keras defaults; one state per network. */
export class Adam {
  private t = 0;
  private readonly m: DenseWeights[];
  private readonly v: DenseWeights[];
  constructor(
    private readonly params: DenseWeights[],
    readonly lr = 0.001,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-7,
  ) {
    const zeros = () => params.map((p) => ({ kernel: new Float64Array(p.kernel.length), bias: new Float64Array(p.bias.length) }));
    this.m = zeros();
    this.v = zeros();
  }

  step(grads: DenseWeights[]): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    const { lr, beta1: b1, beta2: b2, epsilon: eps } = this;
    this.params.forEach((p, i) => {
      for (const key of ['kernel', 'bias'] as const) {
        const w = p[key];
        const g = grads[i][key];
        const m = this.m[i][key];
        const v = this.v[i][key];
        for (let j = 0; j < w.length; j++) {
          m[j] = b1 * m[j] + (1 - b1) * g[j];
          v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
          w[j] -= (lr * (m[j] / c1)) / (Math.sqrt(v[j] / c2) + eps);
        }
      }
    });
  }
}
