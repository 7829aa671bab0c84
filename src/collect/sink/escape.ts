/**
 * Path escapes of the HDFS sink, as Flume's BucketPath expands them in `hdfs.path` and `hdfs.filePrefix`:
 *
 *   %{header}                the header's value ('' when missing, as Flume)
 *   %[localhost] %[IP] %[FQDN]  this host's name, IPv4 address, fully qualified name
 *   %Y %y                    year (2024), two-digit year (24)
 *   %m %n %b %B              month 01..12, 1..12, Jan, January
 *   %d %e %j                 day of month 01..31, 1..31, day of year 001..366
 *   %a %A                    weekday Mon, Monday
 *   %H %k %I %l %p           hour 00..23, 0..23, 01..12, 1..12, AM/PM
 *   %M %S                    minute, second (00..59)
 *   %s %t                    epoch seconds, epoch milliseconds
 *   %z                       zone offset +hhmm
 *   %c %D                    'Mon Jan 1 10:15:30 2024', '01/01/24'
 *   %%                       a literal %
 *
 * The time comes from the `timestamp` header (epoch ms) unless `useLocalTimeStamp`, optionally rounded
 * down (`hdfs.round`, `roundValue`, `roundUnit`), in `hdfs.timeZone` (default: the process's zone).
 *
 * Hot path: the template is compiled once into literal/header/time parts. The time parts of an event
 * are rendered once per time bucket (the finest unit the template uses) and cached, and the zone offset
 * is cached per quarter hour, so per event the work is a Number parse, two Map look-ups and a join.
 */
import os from 'node:os';

export type RoundUnit = 'second' | 'minute' | 'hour';

export interface EscapeOptions {
  timeZone?: string;
  useLocalTimeStamp: boolean;
  round: boolean;
  roundValue: number;
  roundUnit: RoundUnit;
}

type Part = { kind: 'lit'; text: string } | { kind: 'header'; name: string } | { kind: 'time'; code: string };

const TIME_CODES = 'aAbBcdDeHIjklmMnpsStyYz';
const DAY_SHORT = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DAY_LONG = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_LONG = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const UNIT_MS: Record<RoundUnit, number> = { second: 1000, minute: 60_000, hour: 3_600_000 };

/** Milliseconds of the finest unit an escape depends on (after the zone offset is applied). */
function resolutionMs(code: string): number {
  if (code === 't') return 1;
  if ('sSc'.includes(code)) return 1000;
  // Everything else changes at most once a minute: zone offsets are whole minutes and transitions fall
  // on minute boundaries, so a minute of UTC time is inside one local minute, hour and day.
  return 60_000;
}

function hostAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export class MissingTimestampError extends Error {}

/** A compiled `hdfs.path` / `hdfs.filePrefix` template. */
export class PathTemplate {
  readonly parts: Part[];
  /** Whether any escape needs the event time. */
  readonly needsTime: boolean;
  readonly needsHeaders: boolean;
  private readonly resolution: number;
  private readonly zone: string;
  private readonly offsetFmt: Intl.DateTimeFormat;
  private readonly offsetCache = new Map<number, number>();
  private readonly timeCache = new Map<number, string[]>();
  private readonly timeParts: string[];
  private readonly headerNames: string[];
  private readonly resultCache = new Map<number, Map<string, string>>();

  constructor(readonly template: string, private readonly opts: EscapeOptions) {
    this.zone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    try {
      this.offsetFmt = new Intl.DateTimeFormat('en-US', { timeZone: this.zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      throw new Error(`hdfs.timeZone '${opts.timeZone}' is not a known time zone; use an IANA name such as UTC or Asia/Seoul`);
    }
    this.parts = compile(template);
    this.timeParts = this.parts.flatMap((p) => (p.kind === 'time' ? [p.code] : []));
    this.needsTime = this.timeParts.length > 0;
    this.headerNames = this.parts.flatMap((p) => (p.kind === 'header' ? [p.name] : []));
    this.needsHeaders = this.headerNames.length > 0;
    this.resolution = Math.min(...this.timeParts.map(resolutionMs), 60_000);
  }

  /** Whether the template is a constant (no escapes that vary per event). */
  get constant(): boolean {
    return !this.needsTime && !this.needsHeaders;
  }

  /**
   * Expands the template for an event. `now` is the batch's clock (used with useLocalTimeStamp).
   * Throws MissingTimestampError when the template needs a time and the event has no usable timestamp.
   */
  expand(headers: Record<string, string>, now: number): string {
    let times: string[] | undefined;
    // Time buckets are keyed on UTC time (not local), so the repeated hour of a DST fall-back renders
    // %s and %z right.
    let tk = 0;
    if (this.needsTime) {
      let ts: number;
      if (this.opts.useLocalTimeStamp) ts = now;
      else {
        const raw = headers.timestamp;
        ts = raw === undefined ? NaN : Number(raw);
        if (!Number.isFinite(ts)) {
          throw new MissingTimestampError(raw === undefined
            ? `the path '${this.template}' needs the event time but the event has no 'timestamp' header (add a timestamp interceptor or set hdfs.useLocalTimeStamp = true)`
            : `the 'timestamp' header '${raw}' is not epoch milliseconds (path '${this.template}')`);
        }
      }
      ts = this.rounded(ts);
      tk = Math.floor(ts / this.resolution);
      times = this.timeCache.get(tk);
      if (times === undefined) {
        times = this.timeFields(ts);
        if (this.timeCache.size > 100_000) this.timeCache.clear();
        this.timeCache.set(tk, times);
      }
    }
    // The expanded string is cached per (time bucket, header values): a hit returns the same string
    // instance, whose hash V8 keeps, so the caller's Map look-up by path is cheap too.
    const names = this.headerNames;
    const hk = names.length === 0 ? '' : names.length === 1 ? (headers[names[0]] ?? '') : names.map((n) => headers[n] ?? '').join('\0');
    let inner = this.resultCache.get(tk);
    if (inner === undefined) {
      if (this.resultCache.size > 10_000) this.resultCache.clear();
      this.resultCache.set(tk, (inner = new Map()));
    }
    let out = inner.get(hk);
    if (out === undefined) {
      out = '';
      let t = 0;
      for (const p of this.parts) {
        if (p.kind === 'lit') out += p.text;
        else if (p.kind === 'header') out += headers[p.name] ?? '';
        else out += times![t++];
      }
      if (inner.size > 10_000) inner.clear();
      inner.set(hk, out);
    }
    return out;
  }

  private rounded(ts: number): number {
    if (!this.opts.round) return ts;
    const step = this.opts.roundValue * UNIT_MS[this.opts.roundUnit];
    const off = this.offsetAt(ts);
    return Math.floor((ts + off) / step) * step - off;
  }

  /** Zone offset (ms) at an instant, cached per quarter hour (every zone's transitions fall on those). */
  offsetAt(ts: number): number {
    const q = Math.floor(ts / 900_000);
    let off = this.offsetCache.get(q);
    if (off === undefined) {
      const at = q * 900_000;
      const f: Record<string, number> = {};
      for (const p of this.offsetFmt.formatToParts(at)) if (p.type !== 'literal') f[p.type] = Number(p.value);
      off = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - at;
      if (this.offsetCache.size > 10_000) this.offsetCache.clear();
      this.offsetCache.set(q, off);
    }
    return off;
  }

  /** The rendered time escapes of an (already rounded) instant; cached by the caller per time bucket. */
  private timeFields(ts: number): string[] {
    const off = this.offsetAt(ts);
    return this.timeParts.map((c) => renderTime(c, ts, ts + off, off));
  }
}

function renderTime(code: string, ts: number, local: number, off: number): string {
  const d = new Date(local);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  switch (code) {
    case 'a': return DAY_SHORT[d.getUTCDay()];
    case 'A': return DAY_LONG[d.getUTCDay()];
    case 'b': return MONTH_SHORT[d.getUTCMonth()];
    case 'B': return MONTH_LONG[d.getUTCMonth()];
    case 'c': return `${DAY_SHORT[d.getUTCDay()]} ${MONTH_SHORT[d.getUTCMonth()]} ${d.getUTCDate()} ${pad(h)}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
    case 'd': return pad(d.getUTCDate());
    case 'D': return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCFullYear() % 100)}`;
    case 'e': return String(d.getUTCDate());
    case 'H': return pad(h);
    case 'I': return pad(h12);
    case 'j': return pad(Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, 3);
    case 'k': return String(h);
    case 'l': return String(h12);
    case 'm': return pad(d.getUTCMonth() + 1);
    case 'M': return pad(d.getUTCMinutes());
    case 'n': return String(d.getUTCMonth() + 1);
    case 'p': return h < 12 ? 'AM' : 'PM';
    case 's': return String(Math.floor(ts / 1000));
    case 'S': return pad(d.getUTCSeconds());
    case 't': return String(ts);
    case 'y': return pad(d.getUTCFullYear() % 100);
    case 'Y': return String(d.getUTCFullYear());
    case 'z': {
      const m = Math.round(Math.abs(off) / 60_000);
      return `${off < 0 ? '-' : '+'}${pad(Math.floor(m / 60))}${pad(m % 60)}`;
    }
    default: throw new Error(`unsupported escape %${code}`);
  }
}

/** Splits a template into parts; an unknown escape is a configuration error naming it. */
export function compile(template: string): Part[] {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '%' || i + 1 >= template.length) {
      lit += c;
      continue;
    }
    const n = template[i + 1];
    if (n === '%') {
      lit += '%';
      i++;
    } else if (n === '{' || n === '[') {
      const close = template.indexOf(n === '{' ? '}' : ']', i + 2);
      if (close < 0) throw new Error(`unterminated escape '${template.slice(i)}' in '${template}'`);
      const name = template.slice(i + 2, close);
      if (n === '{') {
        if (lit) parts.push({ kind: 'lit', text: lit });
        lit = '';
        parts.push({ kind: 'header', name });
      } else {
        // Host escapes are constant for the process: resolved once, here.
        if (name === 'localhost') lit += os.hostname();
        else if (name === 'FQDN') lit += os.hostname();
        else if (name === 'IP') lit += hostAddress();
        else throw new Error(`unknown escape '%[${name}]' in '${template}' (known: %[localhost] %[IP] %[FQDN])`);
      }
      i = close;
    } else if (TIME_CODES.includes(n)) {
      if (lit) parts.push({ kind: 'lit', text: lit });
      lit = '';
      parts.push({ kind: 'time', code: n });
      i++;
    } else {
      throw new Error(`unknown escape '%${n}' in '${template}' (known: %{header} %[localhost] %[IP] %[FQDN] ${TIME_CODES.split('').map((x) => `%${x}`).join(' ')} %%)`);
    }
  }
  if (lit) parts.push({ kind: 'lit', text: lit });
  return parts;
}
