/**
 * Realistic malformed lines for `--garbage RATE`: what broken devices and transports produce.
 * They are written in addition to the good records (never instead of them), from their own random
 * stream, so a log with garbage holds exactly the good records of the same seed without it.
 */
import type { Rng } from './random.ts';

export type GarbageKind = 'truncated' | 'field-count' | 'non-utf8' | 'oversize' | 'empty';
const KINDS: GarbageKind[] = ['truncated', 'field-count', 'non-utf8', 'oversize', 'empty'];

/** One malformed line (without its newline), derived from a good line. */
export function garbageLine(rng: Rng, good: string): { kind: GarbageKind; bytes: Buffer } {
  const kind = KINDS[Math.floor(rng() * KINDS.length)];
  switch (kind) {
    case 'truncated':
      // Cut inside the record, keeping at least the timestamp so it passes a `^\d{14}` filter.
      return { kind, bytes: Buffer.from(good.slice(0, 15 + Math.floor(rng() * Math.max(1, good.length - 16)))) };
    case 'field-count': {
      const f = good.split(',');
      if (rng() < 0.5) f.pop();
      else f.push(String(Math.floor(rng() * 100)));
      return { kind, bytes: Buffer.from(f.join(',')) };
    }
    case 'non-utf8': {
      const b = Buffer.from(good);
      const at = 15 + Math.floor(rng() * Math.max(1, b.length - 15));
      return { kind, bytes: Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc3]), b.subarray(at)]) };
    }
    case 'oversize':
      // A runaway line over 64 KB that starts like a record.
      return { kind, bytes: Buffer.concat([Buffer.from(good.slice(0, 15)), Buffer.alloc(66_000 + Math.floor(rng() * 4000), 0x37)]) };
    case 'empty':
      return { kind, bytes: Buffer.alloc(0) };
  }
}
