/**
 * Property values as agent files write them: strings (`true`, `1000`, `^\d{14}`), read into typed
 * values by the component schemas, and a small helper the polling sources share.
 */
import { z } from 'zod';

/** `true`/`false` (z.coerce.boolean would read "false" as true). */
export const bool = (def: boolean) => z.enum(['true', 'false']).default(def ? 'true' : 'false').transform((v) => v === 'true');

/** A whole number, at least `min`. */
export const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/** A regular expression, checked when the agent file is read. */
export const regexSource = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message}` });
  }
});

/** A sleep that `wake()` ends early (a stop request, a file-system event). */
export class Napper {
  private waker: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.waker = undefined; resolve(); }, ms);
      this.waker = () => { clearTimeout(t); this.waker = undefined; resolve(); };
    });
  }

  wake(): void {
    this.waker?.();
  }
}
