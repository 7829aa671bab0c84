/**
 * Seeded randomness for the models. Two kinds:
 * - `hash32(a, b, …)`: a stateless mix of integers (murmur3's finaliser over a running combination),
 *   used where a draw must belong to a *row* (its split side, its bootstrap weight) rather than to a
 *   position, so results do not depend on the order rows arrive in;
 * - `rng(seed)`: a sequential generator (mulberry32) on [0, 1), for seeding k-means and feature subsets.
 */

export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hash32(...xs: number[]): number {
  let h = 0x9747b28c;
  for (const x of xs) h = mix32((h ^ Math.imul(x | 0, 0x9e3779b1)) + 0x7f4a7c15);
  return h;
}

/** A uniform draw on [0, 1) from a 32-bit hash. */
export const unit = (h: number): number => h / 4294967296;

export type Rng = () => number;

export function rng(seed: number): Rng {
  let a = hash32(seed, 0x5eed);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string, for turning text keys (car numbers) into row identities. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}
