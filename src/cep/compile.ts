/**
 * Expressions compile to closures over a context: `ev` is the current event (or, when rows are built
 * for a group, the group's last event) and `aggs` the group's aggregators. Nothing walks the AST per
 * event.
 */
import { EplError } from './lexer.ts';
import type { AggFn, Expr } from './parser.ts';

export type Rec = Record<string, unknown>;
export interface Ctx { ev: Rec; aggs: Aggregator[] }
export type Fn = (c: Ctx) => unknown;

/** Resolves a property name as written to the event's own property name, or throws. */
export type Resolve = (name: string, at: Expr) => string;

export interface AggSpec { fn: AggFn; distinct: boolean; arg?: Fn; key: string }

export interface CompileScope {
  resolve: Resolve;
  /** Where aggregates are allowed (select, having, order by) this collects them; elsewhere undefined. */
  aggs?: AggSpec[];
  fail: (reason: string, at: Expr) => never;
}

/** The column name of an expression: a property's name as written, an aggregate as `fn(arg)`. */
export function columnName(e: Expr): string {
  if (e.k === 'prop') return e.name;
  if (e.k === 'agg') return `${e.fn}(${e.distinct ? 'distinct ' : ''}${e.arg ? e.arg.text : '*'})`;
  return e.text;
}

const truthy = (v: unknown) => v === true;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : typeof v === 'number' ? v : Number(v));

function likeRegex(pattern: string): RegExp {
  let re = '^';
  for (const ch of pattern) re += ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(re + '$', 's');
}

function compare(op: string, a: unknown, b: unknown): boolean | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = Number(a), y = Number(b);
    switch (op) { case '=': return x === y; case '!=': return x !== y; case '<': return x < y; case '<=': return x <= y; case '>': return x > y; default: return x >= y; }
  }
  const x = String(a), y = String(b);
  switch (op) { case '=': return x === y; case '!=': return x !== y; case '<': return x < y; case '<=': return x <= y; case '>': return x > y; default: return x >= y; }
}

const SCALARS: Record<string, { arity: [number, number]; fn: (...a: unknown[]) => unknown }> = {
  abs: { arity: [1, 1], fn: (a) => (num(a) === null ? null : Math.abs(num(a)!)) },
  round: { arity: [1, 2], fn: (a, d) => { const x = num(a); if (x === null) return null; const f = 10 ** (num(d) ?? 0); return Math.round(x * f) / f; } },
  floor: { arity: [1, 1], fn: (a) => (num(a) === null ? null : Math.floor(num(a)!)) },
  ceil: { arity: [1, 1], fn: (a) => (num(a) === null ? null : Math.ceil(num(a)!)) },
  coalesce: { arity: [1, 99], fn: (...a) => a.find((x) => x !== null && x !== undefined) ?? null },
  upper: { arity: [1, 1], fn: (a) => (a === null || a === undefined ? null : String(a).toUpperCase()) },
  lower: { arity: [1, 1], fn: (a) => (a === null || a === undefined ? null : String(a).toLowerCase()) },
};

export function compileExpr(e: Expr, s: CompileScope): Fn {
  switch (e.k) {
    case 'lit': {
      const v = e.v;
      return () => v;
    }
    case 'prop': {
      const p = s.resolve(e.name, e);
      return (c) => c.ev[p] ?? null;
    }
    case 'unary': {
      const f = compileExpr(e.e, s);
      if (e.op === '-') return (c) => { const v = num(f(c)); return v === null ? null : -v; };
      return (c) => { const v = f(c); return v === null || v === undefined ? null : !truthy(v); };
    }
    case 'bin': {
      const l = compileExpr(e.l, s), r = compileExpr(e.r, s);
      switch (e.op) {
        case 'and': return (c) => truthy(l(c)) && truthy(r(c));
        case 'or': return (c) => truthy(l(c)) || truthy(r(c));
        case '+': return (c) => {
          const a = l(c), b = r(c);
          if (a === null || b === null || a === undefined || b === undefined) return null;
          return typeof a === 'string' || typeof b === 'string' ? String(a) + String(b) : (a as number) + (b as number);
        };
        case '-': return (c) => { const a = num(l(c)), b = num(r(c)); return a === null || b === null ? null : a - b; };
        case '*': return (c) => { const a = num(l(c)), b = num(r(c)); return a === null || b === null ? null : a * b; };
        case '/': return (c) => { const a = num(l(c)), b = num(r(c)); return a === null || b === null || b === 0 ? null : a / b; };
        case '%': return (c) => { const a = num(l(c)), b = num(r(c)); return a === null || b === null || b === 0 ? null : a % b; };
        default: {
          const op = e.op;
          return (c) => compare(op, l(c), r(c));
        }
      }
    }
    case 'in': {
      const f = compileExpr(e.e, s);
      const list = e.list.map((x) => compileExpr(x, s));
      const not = e.not;
      return (c) => {
        const v = f(c);
        if (v === null || v === undefined) return null;
        const hit = list.some((g) => compare('=', v, g(c)) === true);
        return not ? !hit : hit;
      };
    }
    case 'between': {
      const f = compileExpr(e.e, s), lo = compileExpr(e.lo, s), hi = compileExpr(e.hi, s);
      const not = e.not;
      return (c) => {
        const v = f(c);
        const a = compare('>=', v, lo(c)), b = compare('<=', v, hi(c));
        if (a === null || b === null) return null;
        return not ? !(a && b) : a && b;
      };
    }
    case 'like': {
      const f = compileExpr(e.e, s);
      const not = e.not;
      if (e.pattern.k === 'lit' && typeof e.pattern.v === 'string') {
        const re = likeRegex(e.pattern.v);
        return (c) => { const v = f(c); if (v === null || v === undefined) return null; const m = re.test(String(v)); return not ? !m : m; };
      }
      const p = compileExpr(e.pattern, s);
      return (c) => { const v = f(c), pv = p(c); if (v == null || pv == null) return null; const m = likeRegex(String(pv)).test(String(v)); return not ? !m : m; };
    }
    case 'isnull': {
      const f = compileExpr(e.e, s);
      const not = e.not;
      return (c) => { const v = f(c); const isNull = v === null || v === undefined; return not ? !isNull : isNull; };
    }
    case 'call': {
      const sc = SCALARS[e.name];
      if (!sc) s.fail(`unknown function '${e.name}' (known: ${Object.keys(SCALARS).join(', ')}, and the aggregates avg sum count min max stddev)`, e);
      if (e.args.length < sc.arity[0] || e.args.length > sc.arity[1]) s.fail(`${e.name}() takes ${sc.arity[0]}${sc.arity[1] > sc.arity[0] ? '..' + sc.arity[1] : ''} argument(s)`, e);
      const args = e.args.map((a) => compileExpr(a, s));
      return (c) => sc.fn(...args.map((a) => a(c)));
    }
    case 'agg': {
      if (!s.aggs) s.fail(`aggregate ${e.fn}() is not allowed here (only in SELECT, HAVING and ORDER BY)`, e);
      const inner: CompileScope = { ...s, aggs: undefined, fail: (reason, at) => s.fail(at.k === 'agg' ? 'aggregates cannot be nested' : reason, at) };
      const arg = e.arg ? compileExpr(e.arg, inner) : undefined;
      const key = columnName(e);
      let idx = s.aggs.findIndex((a) => a.key === key);
      if (idx < 0) idx = s.aggs.push({ fn: e.fn, distinct: e.distinct, arg, key }) - 1;
      return (c) => c.aggs[idx].value();
    }
  }
}

export function hasAggregate(e: Expr | undefined): boolean {
  if (!e) return false;
  switch (e.k) {
    case 'agg': return true;
    case 'unary': return hasAggregate(e.e);
    case 'bin': return hasAggregate(e.l) || hasAggregate(e.r);
    case 'in': return hasAggregate(e.e) || e.list.some(hasAggregate);
    case 'between': return hasAggregate(e.e) || hasAggregate(e.lo) || hasAggregate(e.hi);
    case 'like': return hasAggregate(e.e) || hasAggregate(e.pattern);
    case 'isnull': return hasAggregate(e.e);
    case 'call': return e.args.some(hasAggregate);
    default: return false;
  }
}

/** Every aggregate node of an expression. */
export function aggregatesOf(e: Expr | undefined, out: Expr[] = []): Expr[] {
  if (!e) return out;
  switch (e.k) {
    case 'agg': out.push(e); break;
    case 'unary': aggregatesOf(e.e, out); break;
    case 'bin': aggregatesOf(e.l, out); aggregatesOf(e.r, out); break;
    case 'in': aggregatesOf(e.e, out); e.list.forEach((x) => aggregatesOf(x, out)); break;
    case 'between': aggregatesOf(e.e, out); aggregatesOf(e.lo, out); aggregatesOf(e.hi, out); break;
    case 'like': aggregatesOf(e.e, out); aggregatesOf(e.pattern, out); break;
    case 'isnull': aggregatesOf(e.e, out); break;
    case 'call': e.args.forEach((x) => aggregatesOf(x, out)); break;
  }
  return out;
}

/** A running aggregate: add (and for sliding windows remove) values; read the current value. */
export interface Aggregator {
  add(v: unknown): void;
  remove(v: unknown): void;
  value(): unknown;
}

class CountAll implements Aggregator {
  n = 0;
  add() { this.n++; }
  remove() { this.n--; }
  value() { return this.n; }
}
class Count implements Aggregator {
  n = 0;
  add(v: unknown) { if (v !== null && v !== undefined) this.n++; }
  remove(v: unknown) { if (v !== null && v !== undefined) this.n--; }
  value() { return this.n; }
}
class Sum implements Aggregator {
  s = 0; n = 0;
  constructor(private readonly mode: 'sum' | 'avg') {}
  add(v: unknown) { if (v === null || v === undefined) return; this.s += v as number; this.n++; }
  remove(v: unknown) { if (v === null || v === undefined) return; this.s -= v as number; this.n--; }
  value() { return this.n === 0 ? null : this.mode === 'sum' ? this.s : this.s / this.n; }
}
class StdDev implements Aggregator {
  s = 0; sq = 0; n = 0;
  add(v: unknown) { if (v === null || v === undefined) return; const x = v as number; this.s += x; this.sq += x * x; this.n++; }
  remove(v: unknown) { if (v === null || v === undefined) return; const x = v as number; this.s -= x; this.sq -= x * x; this.n--; }
  /** Sample standard deviation, as Esper's stddev. */
  value() {
    if (this.n < 2) return null;
    const mean = this.s / this.n;
    return Math.sqrt(Math.max(0, (this.sq - this.n * mean * mean) / (this.n - 1)));
  }
}
class MinMax implements Aggregator {
  private counts?: Map<unknown, number>;
  private cur: unknown = null;
  constructor(private readonly max: boolean, sliding: boolean) {
    // Sliding windows remove values: keep every value's count so a removed extreme can be replaced.
    if (sliding) this.counts = new Map();
  }
  private better(a: unknown, b: unknown) { return this.max ? compare('>', a, b) : compare('<', a, b); }
  add(v: unknown) {
    if (v === null || v === undefined) return;
    if (this.counts) this.counts.set(v, (this.counts.get(v) ?? 0) + 1);
    if (this.cur === null || this.better(v, this.cur)) this.cur = v;
  }
  remove(v: unknown) {
    if (v === null || v === undefined) return;
    if (!this.counts) return;
    const n = (this.counts.get(v) ?? 1) - 1;
    if (n <= 0) this.counts.delete(v);
    else this.counts.set(v, n);
    if (v === this.cur) {
      this.cur = null;
      for (const k of this.counts.keys()) if (this.cur === null || this.better(k, this.cur)) this.cur = k;
    }
  }
  value() { return this.cur; }
}
/** `fn(distinct x)`: the inner aggregate sees each distinct value once. */
class Distinct implements Aggregator {
  private readonly seen = new Map<unknown, number>();
  constructor(private readonly inner: Aggregator) {}
  add(v: unknown) { if (v === null || v === undefined) return; const n = this.seen.get(v) ?? 0; this.seen.set(v, n + 1); if (n === 0) this.inner.add(v); }
  remove(v: unknown) { if (v === null || v === undefined) return; const n = (this.seen.get(v) ?? 1) - 1; if (n <= 0) { this.seen.delete(v); this.inner.remove(v); } else this.seen.set(v, n); }
  value() { return this.inner.value(); }
}

export function newAggregator(spec: AggSpec, sliding: boolean): Aggregator {
  let a: Aggregator;
  switch (spec.fn) {
    case 'count': a = spec.arg ? new Count() : new CountAll(); break;
    case 'sum': a = new Sum('sum'); break;
    case 'avg': a = new Sum('avg'); break;
    case 'stddev': a = new StdDev(); break;
    case 'min': a = new MinMax(false, sliding); break;
    case 'max': a = new MinMax(true, sliding); break;
  }
  return spec.distinct ? new Distinct(a) : a;
}

export { EplError };
