/**
 * The dense layers' arithmetic as WebAssembly SIMD (f64x2), emitted here as bytes per layer shape: no
 * toolchain, nothing downloaded. The scalar JavaScript kernels in network.ts do the same sums in the same
 * order with the same IEEE operations (no fused multiply-add), so both give bit-identical numbers;
 * test/ml/dnn.test.ts trains with each and compares the weights exactly.
 *
 * Memory: one imported memory per Workspace; all matrices row-major Float64, pointers are byte offsets.
 *
 *   forward(a, rows, w, b, z)            z[r, o] = b[o] + Σ_q a[r, q] · w[q, o]   (q ascending), then relu if asked
 *   backward(a, rows, wt, d, gk, gb, db) gb[o] = Σ_r d[r, o];  gk[q, o] = Σ_r a[r, q] · d[r, o]   (r ascending)
 *                                        db[r, q] = Σ_o d[r, o] · wt[o, q]   (o ascending; wt is w transposed),
 *                                        zeroed where a[r, q] ≤ 0 when the layer below is relu
 *
 * Lanes: two adjacent columns share one f64x2; an odd last column is done in a scalar f64. Accumulators
 * live in locals, so a row's partial sums never touch memory.
 *
 * Module layout (the binary format's sections, in order): type (one signature), import ("m"."mem",
 * a memory of ≥ 1 page), function, export ("f"), code.
 */

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'latin1')];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** A function body under construction: locals by type, instructions as bytes. */
class Body {
  readonly code: number[] = [];
  private readonly locals: number[] = [];
  constructor(private readonly params: number) {}
  local(type: number): number {
    this.locals.push(type);
    return this.params + this.locals.length - 1;
  }
  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  get(i: number) {
    return this.op(0x20, ...uleb(i));
  }
  set(i: number) {
    return this.op(0x21, ...uleb(i));
  }
  i32(n: number) {
    return this.op(0x41, ...sleb(n));
  }
  simd(op: number, ...imm: number[]) {
    return this.op(0xfd, ...uleb(op), ...imm);
  }
  /** memarg: alignment 2^3 (all our data is 8-byte aligned), constant byte offset. */
  mem(op: number, offset: number, isSimd: boolean) {
    return isSimd ? this.simd(op, 3, ...uleb(offset)) : this.op(op, 3, ...uleb(offset));
  }
  /** ptr += bytes */
  advance(ptr: number, bytes: number) {
    return this.get(ptr).i32(bytes).op(0x6a).set(ptr);
  }
  /** A loop running `count` (a local, consumed) times; skipped when it is 0. */
  loop(count: number, body: () => void) {
    this.op(0x02, 0x40).get(count).op(0x45, 0x0d, 0x00).op(0x03, 0x40);
    body();
    this.get(count).i32(1).op(0x6b, 0x22, ...uleb(count), 0x0d, 0x00).op(0x0b, 0x0b);
    return this;
  }
  bytes(): number[] {
    const groups: number[][] = [];
    for (const t of this.locals) {
      const last = groups.at(-1);
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const b = [...vec(groups.map(([n, t]) => [...uleb(n), t])), ...this.code, 0x0b];
    return [...uleb(b.length), ...b];
  }
}

// Instruction opcodes used (plain, then SIMD after the 0xfd prefix).
const F64_LOAD = 0x2b, F64_STORE = 0x39, F64_ADD = 0xa0, F64_MUL = 0xa2, F64_LT = 0x63, F64_GT = 0x64, SELECT = 0x1b;
const V_LOAD = 0x00, V_LOAD64_SPLAT = 0x0a, V_STORE = 0x0b, V_CONST = 0x0c, F64X2_LT = 0x49, F64X2_GT = 0x4a;
const V_AND = 0x4e, V_BITSELECT = 0x52, F64X2_ADD = 0xf0, F64X2_MUL = 0xf2;

function module(params: number, body: Body): Uint8Array {
  const type = [0x60, ...vec(Array.from({ length: params }, () => [I32])), 0x00];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([type])),
    ...section(2, vec([[...name('m'), ...name('mem'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0x00]])),
    ...section(7, vec([[...name('f'), 0x00, 0x00]])),
    ...section(10, vec([body.bytes()])),
  ];
  return Uint8Array.from(bytes);
}

/** Columns of a width: f64x2 pairs, and whether a scalar last column remains. */
const lanes = (n: number) => ({ pairs: n >> 1, tail: (n & 1) === 1 });

/** forward(a, rows, w, b, z): params 0..4. */
export function forwardModule(nIn: number, nOut: number, relu: boolean): Uint8Array {
  const f = new Body(5);
  const [A, ROWS, W, B, Z] = [0, 1, 2, 3, 4];
  const { pairs, tail } = lanes(nOut);
  const acc = Array.from({ length: pairs }, () => f.local(V128));
  const t = tail ? f.local(F64) : -1;
  const s = f.local(V128);
  const zero = f.local(V128);
  f.simd(V_CONST, ...new Array(16).fill(0)).set(zero);
  f.loop(ROWS, () => {
    acc.forEach((v, j) => f.get(B).mem(V_LOAD, 16 * j, true).set(v));
    if (tail) f.get(B).mem(F64_LOAD, 8 * (nOut - 1), false).set(t);
    for (let q = 0; q < nIn; q++) {
      f.get(A).mem(V_LOAD64_SPLAT, 8 * q, true).set(s);
      acc.forEach((v, j) => f.get(v).get(s).get(W).mem(V_LOAD, 8 * (q * nOut + 2 * j), true).simd(F64X2_MUL).simd(F64X2_ADD).set(v));
      if (tail) f.get(t).get(A).mem(F64_LOAD, 8 * q, false).get(W).mem(F64_LOAD, 8 * (q * nOut + nOut - 1), false).op(F64_MUL, F64_ADD).set(t);
    }
    acc.forEach((v, j) => {
      f.get(Z);
      if (relu) f.get(zero).get(v).get(v).get(zero).simd(F64X2_LT).simd(V_BITSELECT);
      else f.get(v);
      f.mem(V_STORE, 16 * j, true);
    });
    if (tail) {
      f.get(Z);
      if (relu) f.op(0x44, 0, 0, 0, 0, 0, 0, 0, 0).get(t).get(t).op(0x44, 0, 0, 0, 0, 0, 0, 0, 0, F64_LT, SELECT);
      else f.get(t);
      f.mem(F64_STORE, 8 * (nOut - 1), false);
    }
    f.advance(A, 8 * nIn).advance(Z, 8 * nOut);
  });
  return module(5, f);
}

/** Accumulator registers one pass of the kernel-gradient loop may hold (x86-64 has 16 vector registers). */
const MAX_ACC = 12;

/** backward(a, rows, wt, d, gk, gb, db): params 0..6; db is written only when `below`. */
export function backwardModule(nIn: number, nOut: number, below: boolean, relu: boolean): Uint8Array {
  const f = new Body(7);
  const [A, ROWS, WT, D, GK, GB, DB] = [0, 1, 2, 3, 4, 5, 6];
  const n = f.local(I32), pa = f.local(I32), pd = f.local(I32);
  const s = f.local(V128), zero = f.local(V128);
  f.simd(V_CONST, ...new Array(16).fill(0)).set(zero);
  const out = lanes(nOut);
  const perQ = out.pairs + (out.tail ? 1 : 0);
  const qBlock = Math.max(1, Math.min(nIn, Math.floor(MAX_ACC / perQ)));
  const vAcc = Array.from({ length: qBlock * out.pairs }, () => f.local(V128));
  const fAcc = Array.from({ length: out.tail ? qBlock : 0 }, () => f.local(F64));
  const zeroAll = (qs: number) => {
    for (let i = 0; i < qs * out.pairs; i++) f.get(zero).set(vAcc[i]);
    for (let i = 0; i < (out.tail ? qs : 0); i++) f.op(0x44, 0, 0, 0, 0, 0, 0, 0, 0).set(fAcc[i]);
  };
  const rowsLoop = (body: () => void) => {
    f.get(ROWS).set(n).get(A).set(pa).get(D).set(pd);
    f.loop(n, () => {
      body();
      f.advance(pa, 8 * nIn).advance(pd, 8 * nOut);
    });
  };

  // gb = column sums of d
  zeroAll(1);
  rowsLoop(() => {
    for (let j = 0; j < out.pairs; j++) f.get(vAcc[j]).get(pd).mem(V_LOAD, 16 * j, true).simd(F64X2_ADD).set(vAcc[j]);
    if (out.tail) f.get(fAcc[0]).get(pd).mem(F64_LOAD, 8 * (nOut - 1), false).op(F64_ADD).set(fAcc[0]);
  });
  for (let j = 0; j < out.pairs; j++) f.get(GB).get(vAcc[j]).mem(V_STORE, 16 * j, true);
  if (out.tail) f.get(GB).get(fAcc[0]).mem(F64_STORE, 8 * (nOut - 1), false);

  // gk = aᵀ d, qBlock input columns per pass over the rows
  for (let q0 = 0; q0 < nIn; q0 += qBlock) {
    const qs = Math.min(qBlock, nIn - q0);
    zeroAll(qs);
    rowsLoop(() => {
      for (let i = 0; i < qs; i++) {
        f.get(pa).mem(V_LOAD64_SPLAT, 8 * (q0 + i), true).set(s);
        for (let j = 0; j < out.pairs; j++) {
          const v = vAcc[i * out.pairs + j];
          f.get(v).get(s).get(pd).mem(V_LOAD, 16 * j, true).simd(F64X2_MUL).simd(F64X2_ADD).set(v);
        }
        if (out.tail) f.get(fAcc[i]).get(pa).mem(F64_LOAD, 8 * (q0 + i), false).get(pd).mem(F64_LOAD, 8 * (nOut - 1), false).op(F64_MUL, F64_ADD).set(fAcc[i]);
      }
    });
    for (let i = 0; i < qs; i++) {
      const row = 8 * (q0 + i) * nOut;
      for (let j = 0; j < out.pairs; j++) f.get(GK).get(vAcc[i * out.pairs + j]).mem(V_STORE, row + 16 * j, true);
      if (out.tail) f.get(GK).get(fAcc[i]).mem(F64_STORE, row + 8 * (nOut - 1), false);
    }
  }

  // db = d wᵀ (masked by relu' of a), vectorised across the input columns
  if (below) {
    const inL = lanes(nIn);
    const dAcc = Array.from({ length: inL.pairs }, () => f.local(V128));
    const dT = inL.tail ? f.local(F64) : -1;
    const pdb = f.local(I32);
    f.get(DB).set(pdb);
    rowsLoop(() => {
      for (let o = 0; o < nOut; o++) {
        f.get(pd).mem(V_LOAD64_SPLAT, 8 * o, true).set(s);
        dAcc.forEach((v, i) => {
          // The first term starts the sum (not 0 + term), as the scalar kernel's expression does.
          if (o > 0) f.get(v);
          f.get(s).get(WT).mem(V_LOAD, 8 * (o * nIn + 2 * i), true).simd(F64X2_MUL);
          if (o > 0) f.simd(F64X2_ADD);
          f.set(v);
        });
        if (inL.tail) {
          if (o > 0) f.get(dT);
          f.get(pd).mem(F64_LOAD, 8 * o, false).get(WT).mem(F64_LOAD, 8 * (o * nIn + nIn - 1), false).op(F64_MUL);
          if (o > 0) f.op(F64_ADD);
          f.set(dT);
        }
      }
      dAcc.forEach((v, i) => {
        f.get(pdb).get(v);
        if (relu) f.get(pa).mem(V_LOAD, 16 * i, true).get(zero).simd(F64X2_GT).simd(V_AND);
        f.mem(V_STORE, 16 * i, true);
      });
      if (inL.tail) {
        f.get(pdb).get(dT);
        if (relu) f.op(0x44, 0, 0, 0, 0, 0, 0, 0, 0).get(pa).mem(F64_LOAD, 8 * (nIn - 1), false).op(0x44, 0, 0, 0, 0, 0, 0, 0, 0, F64_GT, SELECT);
        f.mem(F64_STORE, 8 * (nIn - 1), false);
      }
      f.advance(pdb, 8 * nIn);
    });
  }
  return module(7, f);
}

export type ForwardFn = (a: number, rows: number, w: number, b: number, z: number) => void;
export type BackwardFn = (a: number, rows: number, wt: number, d: number, gk: number, gb: number, db: number) => void;

// The compiler's lib here has no WebAssembly declarations (no DOM lib); the few parts used, typed.
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number }) => WasmMemory;
  validate(bytes: Uint8Array): boolean;
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

const compiled = new Map<string, object>();
function instantiate(key: string, make: () => Uint8Array, mem: WasmMemory): unknown {
  let m = compiled.get(key);
  if (!m) {
    m = new wasm!.Module(make());
    compiled.set(key, m);
  }
  return new wasm!.Instance(m, { m: { mem } }).exports.f;
}

/** A memory of at least `bytes` bytes for the kernels. */
export function kernelMemory(bytes: number): WasmMemory {
  return new wasm!.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
}

export function forwardKernel(mem: WasmMemory, nIn: number, nOut: number, relu: boolean): ForwardFn {
  return instantiate(`f${nIn}x${nOut}:${relu}`, () => forwardModule(nIn, nOut, relu), mem) as ForwardFn;
}

export function backwardKernel(mem: WasmMemory, nIn: number, nOut: number, below: boolean, relu: boolean): BackwardFn {
  return instantiate(`b${nIn}x${nOut}:${below}:${relu}`, () => backwardModule(nIn, nOut, below, relu), mem) as BackwardFn;
}

/** Whether this runtime runs WebAssembly SIMD (Node ≥ 16.4 does); the JavaScript kernels stand in otherwise. */
export const simdAvailable: boolean = (() => {
  try {
    return wasm !== undefined && wasm.validate(forwardModule(1, 2, true));
  } catch {
    return false;
  }
})();
