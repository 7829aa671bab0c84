/**
 * Event time in smartcar.
 *
 * Records carry civil timestamps `yyyyMMddHHmmss` (no zone: the cars' local time). We map them onto a UTC scale
 * (Date.UTC) so that every civil second has exactly one epoch value: no DST gaps or repeats,
 * and formatting an epoch back yields the original digits on any machine's time zone.
 */

const DIGITS14 = /^\d{14}$/;

/** Epoch milliseconds of a 14-digit timestamp, or NaN when it is not a valid civil time. */
export function parseTimestamp14(ts: string): number {
  if (!DIGITS14.test(ts)) return NaN;
  const y = +ts.slice(0, 4), mo = +ts.slice(4, 6), d = +ts.slice(6, 8);
  const h = +ts.slice(8, 10), mi = +ts.slice(10, 12), s = +ts.slice(12, 14);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return NaN;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Reject days past the month's end (20240231): Date.UTC would roll them over.
  if (new Date(ms).getUTCDate() !== d) return NaN;
  return ms;
}

const pad2 = (n: number) => (n < 10 ? '0' + n : String(n));

/** `yyyyMMddHHmmss` of an epoch on the civil (UTC) scale. */
export function formatTimestamp14(ms: number): string {
  const t = new Date(ms);
  return (
    t.getUTCFullYear() + pad2(t.getUTCMonth() + 1) + pad2(t.getUTCDate()) +
    pad2(t.getUTCHours()) + pad2(t.getUTCMinutes()) + pad2(t.getUTCSeconds())
  );
}

/** `yyyyMMdd` of an epoch on the civil (UTC) scale. */
export function formatDate8(ms: number): string {
  return formatTimestamp14(ms).slice(0, 8);
}

/** Epoch of midnight of a `yyyyMMdd` date, or NaN. */
export function parseDate8(d: string): number {
  return /^\d{8}$/.test(d) ? parseTimestamp14(d + '000000') : NaN;
}

/** Today's civil date from the machine's local wall clock, as `yyyyMMdd` (the processing date). */
export function localDate8(now: Date = new Date()): string {
  return now.getFullYear() + pad2(now.getMonth() + 1) + pad2(now.getDate());
}

/** The machine's local wall clock mapped onto the civil scale used for event times. */
export function localCivilNowMs(now: Date = new Date()): number {
  return Date.UTC(now.getFullYear(), now.getMonth(), now.getDate(), now.getHours(), now.getMinutes(), now.getSeconds(), now.getMilliseconds());
}

/**
 * Waits `ms`, or less when `signal` aborts. The abort listener goes when the timer fires: one left per
 * wait would pile up (MaxListenersExceededWarning) in a loop that sleeps often.
 */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const onAbort = () => { clearTimeout(timer); resolve(); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
