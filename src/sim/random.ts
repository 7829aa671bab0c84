/**
 * Seeded randomness for the simulator: sfc32 (small, fast, passes PractRand) seeded through
 * splitmix32. Each car draws from its own stream derived from (seed, car index), so a car's data
 * does not depend on the size of the fleet or on the order cars are written in.
 */
import { randomInt } from 'node:crypto';

export type Rng = () => number;

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A uniform generator on [0, 1) for the given seed and stream. */
export function rngFor(seed: number, stream: number): Rng {
  const sm = splitmix32((seed ^ Math.imul(stream + 1, 0x27d4eb2d)) >>> 0);
  // The state is kept as int32 (the same bits as uint32 for every operation below): V8 then holds it
  // unboxed, and a call allocates nothing (the DNN's dropout draws ~10⁸ of these per training).
  let a = sm() | 0, b = sm() | 0, c = sm() | 0, d = sm() | 0;
  const next: Rng = () => {
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return (r >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** A fresh random seed, for runs without `--seed`. */
export function randomSeed(): number {
  return randomInt(0, 2 ** 31 - 1);
}

/** Integer uniform in [lo, hi]. */
export function between(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** A picker over relative weights: returns the chosen index. */
export function weighted(weights: readonly number[]): (rng: Rng) => number {
  const total = weights.reduce((a, b) => a + b, 0);
  const cum = new Float64Array(weights.length);
  let acc = 0;
  weights.forEach((w, i) => (cum[i] = acc += w / total));
  const last = weights.length - 1;
  return (rng) => {
    const r = rng();
    for (let i = 0; i < last; i++) if (r < cum[i]) return i;
    return last;
  };
}
