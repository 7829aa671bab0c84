/**
 * Property values as agent files write them: strings (`true`, `1000`, `^\d{14}`), read into typed
 * values by the component schemas, and a small helper the polling sources share.
 */
import { z } from 'zod';

/**
 * The one boolean of agent files: `true` or `false` in any letter case (`TRUE`, `False`: Flume reads
 * them with Boolean.parseBoolean), or a JSON boolean. Anything else (`yes`, `1`, `ture`) is an error
 * naming the property, where Flume would silently read it as false. (z.coerce.boolean would read
 * "false" as true.) Without `def` the property stays optional.
 */
const boolText = z.union([z.boolean(), z.string().trim().toLowerCase().pipe(z.enum(['true', 'false']))], { error: 'must be true or false' });
export function bool(def: boolean): z.ZodType<boolean, unknown>;
export function bool(): z.ZodType<boolean | undefined, unknown>;
export function bool(def?: boolean): z.ZodType<boolean | undefined, unknown> {
  const read = (v: boolean | string) => v === true || v === 'true';
  return def === undefined ? boolText.optional().transform((v) => (v === undefined ? undefined : read(v))) : boolText.default(def ? 'true' : 'false').transform(read);
}

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
