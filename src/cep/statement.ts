/**
 * One deployed statement: its compiled closures and its window state.
 *
 * Windows (all on the statement's clock: the event time, or the `ext_timed` field):
 * - batch `win:time_batch(p[, ref])`, `win:ext_timed_batch(f, p)`: windows [s, s+p) aligned to
 *   multiples of p from `ref` (default 0, the epoch). A window closes when the watermark (newest time
 *   seen − allowed lateness) reaches s+p; an event whose window has closed is late (counted, dropped).
 *   Aligned windows make results identical across replays, restarts and partitions; Esper instead starts
 *   the first batch at the first event.
 * - batch `win:length_batch(n)`: every n events.
 * - sliding `win:time(p)`, `win:ext_timed(f, p)`, `win:length(n)`: each arriving event produces its
 *   group's row (insert stream); old events leave the window as time advances.
 * - no view: aggregates over all events so far; each event produces its group's row.
 *
 * Memory per group in a batch window: the group key, one object holding the aggregators (two numbers
 * each for avg/sum) and a reference to the group's last event — about 150–250 bytes plus the event;
 * groups are dropped when their window closes, so idle cars cost nothing.
 */
import { parseTimestamp14 } from '../core/index.ts';
import {
  aggregatesOf, columnName, compileExpr, hasAggregate, newAggregator, EplError,
  type AggSpec, type Aggregator, type CompileScope, type Ctx, type Fn, type Rec,
} from './compile.ts';
import type { Expr, StatementAst } from './parser.ts';
import type { CepOutput } from './types.ts';

export interface EventTypeDef {
  name: string;
  aliases?: string[];
  /** Property names as they appear on the event objects. */
  properties: string[];
  /** Other names a rule may use for a property (e.g. snake_case column names). */
  propertyAliases?: Record<string, string>;
}

interface Group { key: unknown; aggs: Aggregator[]; last: Rec; n: number }
interface Slot { ts: number; ev: Rec; g: Group; vals: unknown[] }

type Kind = 'none' | 'time' | 'length' | 'time_batch' | 'length_batch';

interface State {
  maxT: number;
  wm: number;
  events: number;
  late: number;
  outputs: number;
  /** time_batch: window start → groups. */
  buckets: Map<number, Map<unknown, Group>>;
  starts: number[];
  /** length_batch and sliding windows. */
  groups: Map<unknown, Group>;
  batchCount: number;
  batchFirst: number;
  batchLast: number;
  window: Slot[];
  head: number;
  /** Non-aggregated batch windows keep their events. */
  batchEvents: Map<number, { ts: number; ev: Rec }[]>;
  /** Output rate limiting. */
  pending: { key: unknown; row: Rec; keys: unknown[] }[];
  nextBoundary: number;
  sinceOutput: number;
}

const freshState = (): State => ({
  maxT: -Infinity, wm: -Infinity, events: 0, late: 0, outputs: 0,
  buckets: new Map(), starts: [], groups: new Map(), batchCount: 0, batchFirst: NaN, batchLast: NaN,
  window: [], head: 0, batchEvents: new Map(), pending: [], nextBoundary: NaN, sinceOutput: 0,
});

function toMs(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return /^\d{14}$/.test(v) ? parseTimestamp14(v) : Number(v);
  if (v instanceof Date) return v.getTime();
  return NaN;
}

const truthy = (v: unknown) => v === true;
/** Row-scope expressions (WHERE, GROUP BY) read no aggregators; one shared empty list, never written. */
const NO_AGGS: Aggregator[] = Object.freeze([]) as unknown as Aggregator[];

export class Statement {
  readonly name: string;
  readonly type: string;
  /** Same signature = same window and aggregates: a hot reload keeps the open windows' state. */
  readonly signature: string;
  private st: State = freshState();
  private kind: Kind = 'none';
  private readonly period: number = 0;
  private readonly ref: number = 0;
  private readonly size: number = 0;
  private readonly timeField?: string;
  private readonly where?: Fn;
  private readonly groupFns: Fn[];
  private readonly aggregated: boolean;
  private readonly specs: AggSpec[] = [];
  private readonly star: boolean;
  private readonly columns: { name: string; fn: Fn }[] = [];
  private readonly having?: Fn;
  private readonly order: { fn: Fn; desc: boolean }[] = [];
  private readonly ctx: Ctx = { ev: {}, aggs: [] };

  constructor(
    readonly ast: StatementAst,
    name: string,
    readonly source: string,
    private readonly typeDef: EventTypeDef,
    private readonly lateness: number,
    private readonly emit: (out: CepOutput) => void,
    srcText: string,
  ) {
    this.name = name;
    this.type = typeDef.name;
    const fail = (reason: string, at: { line: number; column: number }): never => {
      throw new EplError(reason, at.line, at.column, source, srcText);
    };
    const lookup = new Map<string, string>();
    for (const p of typeDef.properties) { lookup.set(p, p); lookup.set(p.toLowerCase(), p); }
    for (const [a, p] of Object.entries(typeDef.propertyAliases ?? {})) { lookup.set(a, p); lookup.set(a.toLowerCase(), p); }
    const streamNames = new Set([ast.from.type.toLowerCase(), ...(ast.from.alias ? [ast.from.alias.toLowerCase()] : [])]);
    const resolve = (prop: string, at: Expr): string => {
      if (at.k === 'prop' && at.qualifier && !streamNames.has(at.qualifier.toLowerCase())) fail(`unknown stream '${at.qualifier}'`, at);
      return lookup.get(prop) ?? lookup.get(prop.toLowerCase()) ?? fail(`unknown property '${prop}' of ${typeDef.name} (known: ${typeDef.properties.join(', ')})`, at);
    };
    const rowScope: CompileScope = { resolve, fail };
    const aggScope: CompileScope = { resolve, fail, aggs: this.specs };

    // Views.
    if (ast.from.views.length > 1) fail('only one data window view per stream is supported', ast.from.views[1]);
    const view = ast.from.views[0];
    const periodArg = (i: number): number => {
      const a = view.args[i];
      if (!a) fail(`win:${view.name} needs a time period argument such as 30 sec`, view);
      if (a.kind === 'period') return a.ms;
      if (a.expr.k === 'lit' && typeof a.expr.v === 'number') return a.expr.v * 1000; // a bare number is seconds, as in Esper
      return fail(`win:${view.name} expects a time period such as 30 sec`, a.expr);
    };
    const countArg = (i: number): number => {
      const a = view.args[i];
      if (!a || a.kind !== 'expr' || a.expr.k !== 'lit' || typeof a.expr.v !== 'number' || !Number.isInteger(a.expr.v) || a.expr.v < 1) {
        return fail(`win:${view.name} expects a positive whole number of events`, a && a.kind === 'expr' ? a.expr : view);
      }
      return a.expr.v;
    };
    const fieldArg = (i: number): string => {
      const a = view.args[i];
      if (!a || a.kind !== 'expr' || a.expr.k !== 'prop') return fail(`win:${view.name} expects a timestamp property as its first argument`, a && a.kind === 'expr' ? a.expr : view);
      return resolve(a.expr.name, a.expr);
    };
    if (!view) this.kind = 'none';
    else {
      if (view.ns !== 'win') fail(`unknown view namespace '${view.ns}' (supported: win)`, view);
      switch (view.name) {
        case 'time': this.kind = 'time'; this.period = periodArg(0); break;
        case 'time_batch':
          this.kind = 'time_batch'; this.period = periodArg(0);
          if (view.args[1]) {
            const a = view.args[1];
            if (a.kind !== 'expr' || a.expr.k !== 'lit' || typeof a.expr.v !== 'number') fail('the reference point of win:time_batch must be a number (epoch ms)', view);
            this.ref = a.kind === 'expr' && a.expr.k === 'lit' ? Number(a.expr.v) : 0;
          }
          break;
        case 'length': this.kind = 'length'; this.size = countArg(0); break;
        case 'length_batch': this.kind = 'length_batch'; this.size = countArg(0); break;
        case 'ext_timed': this.kind = 'time'; this.timeField = fieldArg(0); this.period = periodArg(1); break;
        case 'ext_timed_batch': this.kind = 'time_batch'; this.timeField = fieldArg(0); this.period = periodArg(1); break;
        default: fail(`unknown view win:${view.name} (supported: time, time_batch, length, length_batch, ext_timed, ext_timed_batch)`, view);
      }
      if ((this.kind === 'time' || this.kind === 'time_batch') && !(this.period > 0)) fail('the window period must be positive', view);
    }

    if (ast.where) {
      if (hasAggregate(ast.where)) fail('aggregates are not allowed in WHERE (use HAVING)', aggregatesOf(ast.where)[0]);
      this.where = compileExpr(ast.where, rowScope);
    }
    this.groupFns = ast.groupBy.map((g) => {
      if (hasAggregate(g)) fail('aggregates are not allowed in GROUP BY', g);
      return compileExpr(g, rowScope);
    });
    this.aggregated = ast.select.items.some((i) => hasAggregate(i.expr)) || hasAggregate(ast.having) || ast.orderBy.some((o) => hasAggregate(o.expr));
    if (ast.groupBy.length && !this.aggregated) fail('GROUP BY needs an aggregate function in SELECT or HAVING', ast.groupBy[0]);
    this.star = ast.select.star;
    const scope = this.aggregated ? aggScope : rowScope;
    const names = new Set<string>();
    const selectedAggs = new Set(ast.select.items.filter((i) => i.expr.k === 'agg').map((i) => columnName(i.expr)));
    for (const item of ast.select.items) {
      const name = item.alias ?? columnName(item.expr);
      if (names.has(name)) fail(`duplicate column name '${name}' (add AS alias)`, item.expr);
      names.add(name);
      this.columns.push({ name, fn: compileExpr(item.expr, scope) });
    }
    if (ast.having) {
      this.having = compileExpr(ast.having, scope);
      // The aggregates HAVING tests are also in the row, under their text (e.g. `avg(speed)`).
      for (const a of aggregatesOf(ast.having)) {
        const name = columnName(a);
        if (!names.has(name) && !selectedAggs.has(name)) {
          names.add(name);
          this.columns.push({ name, fn: compileExpr(a, aggScope) });
        }
      }
    }
    for (const o of ast.orderBy) {
      const alias = o.expr.k === 'prop' ? this.columns.find((c) => c.name === (o.expr as { name: string }).name) : undefined;
      this.order.push({ fn: alias && !lookup.has(alias.name) ? alias.fn : compileExpr(o.expr, scope), desc: o.desc });
    }
    this.signature = JSON.stringify([
      this.type, this.kind, this.period, this.ref, this.size, this.timeField ?? '',
      ast.where?.text ?? '', ast.groupBy.map((g) => g.text), this.specs.map((s) => s.key), this.aggregated,
    ]);
  }

  adopt(previous: Statement): void {
    if (previous.signature === this.signature) this.st = previous.st;
  }

  private groupKey(): unknown {
    const fns = this.groupFns;
    if (fns.length === 0) return '';
    if (fns.length === 1) return fns[0](this.ctx);
    let k = '';
    for (const f of fns) k += String(f(this.ctx)) + '\u0001';
    return k;
  }

  private newGroup(key: unknown): Group {
    const sliding = this.kind === 'time' || this.kind === 'length';
    return { key, aggs: this.specs.map((s) => newAggregator(s, sliding)), last: this.ctx.ev, n: 0 };
  }

  /** Feeds one event; `t` is its event time (epoch ms). */
  accept(ev: Rec, t: number): void {
    const ctx = this.ctx;
    ctx.ev = ev;
    ctx.aggs = NO_AGGS;
    if (this.where && !truthy(this.where(ctx))) return;
    const st = this.st;
    const ts = this.timeField ? toMs(ev[this.timeField]) : t;
    if (Number.isNaN(ts)) { st.late++; return; }
    st.events++;
    if (ts > st.maxT) {
      st.maxT = ts;
      this.advance(ts - this.lateness);
    }
    ctx.ev = ev;
    switch (this.kind) {
      case 'time_batch': return this.acceptTimeBatch(ev, ts);
      case 'length_batch': return this.acceptLengthBatch(ev, ts);
      default: return this.acceptSliding(ev, ts);
    }
  }

  private addTo(g: Group, ev: Rec): unknown[] | undefined {
    const ctx = this.ctx;
    ctx.ev = ev;
    const specs = this.specs;
    const sliding = this.kind === 'time' || this.kind === 'length';
    const vals = sliding ? new Array<unknown>(specs.length) : undefined;
    for (let i = 0; i < specs.length; i++) {
      const v = specs[i].arg ? specs[i].arg!(ctx) : 1;
      g.aggs[i].add(v);
      if (vals) vals[i] = v;
    }
    g.last = ev;
    g.n++;
    return vals;
  }

  private acceptTimeBatch(ev: Rec, ts: number): void {
    const st = this.st;
    const p = this.period;
    const start = this.ref + Math.floor((ts - this.ref) / p) * p;
    if (start + p <= st.wm) { st.late++; return; }
    if (!this.aggregated) {
      let list = st.batchEvents.get(start);
      if (!list) { st.batchEvents.set(start, (list = [])); this.insertStart(start); }
      list.push({ ts, ev });
      return;
    }
    let bucket = st.buckets.get(start);
    if (!bucket) { st.buckets.set(start, (bucket = new Map())); this.insertStart(start); }
    const key = this.groupKey();
    let g = bucket.get(key);
    if (!g) bucket.set(key, (g = this.newGroup(key)));
    this.addTo(g, ev);
  }

  private insertStart(start: number): void {
    const s = this.st.starts;
    let i = s.length;
    while (i > 0 && s[i - 1] > start) i--;
    s.splice(i, 0, start);
  }

  private acceptLengthBatch(ev: Rec, ts: number): void {
    const st = this.st;
    if (st.batchCount === 0) st.batchFirst = ts;
    st.batchLast = ts;
    st.batchCount++;
    if (this.aggregated) {
      const key = this.groupKey();
      let g = st.groups.get(key);
      if (!g) st.groups.set(key, (g = this.newGroup(key)));
      this.addTo(g, ev);
    } else {
      let list = st.batchEvents.get(0);
      if (!list) st.batchEvents.set(0, (list = []));
      list.push({ ts, ev });
    }
    if (st.batchCount >= this.size) {
      const rows = this.aggregated ? this.groupRows(st.groups.values()) : this.eventRows(st.batchEvents.get(0) ?? []);
      const out = { start: st.batchFirst, end: st.batchLast };
      st.groups = new Map();
      st.batchEvents.delete(0);
      st.batchCount = 0;
      this.output(rows, out.start, out.end);
    }
  }

  private acceptSliding(ev: Rec, ts: number): void {
    const st = this.st;
    if (this.kind === 'time' && ts <= st.wm - this.period) { st.late++; return; }
    if (!this.aggregated) {
      if (this.kind !== 'none') {
        st.window.push({ ts, ev, g: undefined as never, vals: [] });
        this.expire();
      }
      this.output(this.eventRows([{ ts, ev }]), undefined, undefined);
      return;
    }
    const key = this.groupKey();
    let g = st.groups.get(key);
    if (!g) st.groups.set(key, (g = this.newGroup(key)));
    const vals = this.addTo(g, ev)!;
    if (this.kind !== 'none') {
      st.window.push({ ts, ev, g, vals });
      this.expire();
    }
    this.output(this.groupRows([g]), undefined, undefined);
  }

  /** Removes events that left a sliding window. */
  private expire(): void {
    const st = this.st;
    const w = st.window;
    const limit = this.kind === 'time' ? st.wm - this.period : -Infinity;
    while (st.head < w.length) {
      const s = w[st.head];
      const tooOld = this.kind === 'time' ? s.ts <= limit : w.length - st.head > this.size;
      if (!tooOld) break;
      st.head++;
      if (s.g) {
        for (let i = 0; i < s.vals.length; i++) s.g.aggs[i].remove(s.vals[i]);
        if (--s.g.n === 0) st.groups.delete(s.g.key);
      }
    }
    if (st.head > 1024 && st.head * 2 > w.length) {
      st.window = w.slice(st.head);
      st.head = 0;
    }
  }

  /** Moves the watermark: closes due batch windows, expires sliding ones, releases rate-limited output. */
  advance(wm: number): void {
    const st = this.st;
    if (wm <= st.wm) return;
    st.wm = wm;
    if (this.kind === 'time_batch') {
      while (st.starts.length && st.starts[0] + this.period <= wm) this.closeBucket(st.starts[0]);
    } else if (this.kind === 'time') {
      this.expire();
    }
    this.releaseRate(wm);
  }

  private closeBucket(start: number): void {
    const st = this.st;
    st.starts.shift();
    let rows: { key: unknown; row: Rec; keys: unknown[] }[];
    if (this.aggregated) {
      const bucket = st.buckets.get(start)!;
      st.buckets.delete(start);
      rows = this.groupRows(bucket.values());
    } else {
      rows = this.eventRows(st.batchEvents.get(start) ?? []);
      st.batchEvents.delete(start);
    }
    this.output(rows, start, start + this.period);
  }

  private groupRows(groups: Iterable<Group>): { key: unknown; row: Rec; keys: unknown[] }[] {
    const ctx = this.ctx;
    const out: { key: unknown; row: Rec; keys: unknown[] }[] = [];
    for (const g of groups) {
      ctx.ev = g.last;
      ctx.aggs = g.aggs;
      if (this.having && !truthy(this.having(ctx))) continue;
      out.push({ key: g.key, row: this.buildRow(), keys: this.order.map((o) => o.fn(ctx)) });
    }
    return out;
  }

  private eventRows(events: { ts?: number; ev: Rec }[]): { key: unknown; row: Rec; keys: unknown[] }[] {
    const ctx = this.ctx;
    ctx.aggs = [];
    const out: { key: unknown; row: Rec; keys: unknown[] }[] = [];
    for (const { ev } of events) {
      ctx.ev = ev;
      if (this.having && !truthy(this.having(ctx))) continue;
      out.push({ key: out.length, row: this.buildRow(), keys: this.order.map((o) => o.fn(ctx)) });
    }
    return out;
  }

  private buildRow(): Rec {
    const row: Rec = this.star ? { ...this.ctx.ev } : {};
    for (const c of this.columns) row[c.name] = c.fn(this.ctx);
    return row;
  }

  private output(rows: { key: unknown; row: Rec; keys: unknown[] }[], windowStart: number | undefined, windowEnd: number | undefined): void {
    const o = this.ast.output;
    const st = this.st;
    if (!o) return this.deliver(rows, windowStart, windowEnd);
    st.pending.push(...rows);
    if (o.everyEvents) {
      st.sinceOutput++;
      if (st.sinceOutput >= o.everyEvents) {
        st.sinceOutput = 0;
        this.deliver(this.takePending(), undefined, undefined);
      }
    }
  }

  private releaseRate(wm: number): void {
    const o = this.ast.output;
    if (!o?.everyMs) return;
    const st = this.st;
    if (Number.isNaN(st.nextBoundary)) {
      st.nextBoundary = (Math.floor(wm / o.everyMs) + 1) * o.everyMs;
      return;
    }
    if (wm < st.nextBoundary) return;
    const end = st.nextBoundary;
    st.nextBoundary = (Math.floor(wm / o.everyMs) + 1) * o.everyMs;
    this.deliver(this.takePending(), end - o.everyMs, end);
  }

  private takePending(): { key: unknown; row: Rec; keys: unknown[] }[] {
    const st = this.st;
    const mode = this.ast.output?.mode ?? 'all';
    if (mode === 'snapshot') {
      st.pending = [];
      if (this.kind === 'time_batch') {
        const first = st.starts[0];
        return first === undefined ? [] : this.aggregated ? this.groupRows(st.buckets.get(first)?.values() ?? []) : this.eventRows(st.batchEvents.get(first) ?? []);
      }
      return this.aggregated ? this.groupRows(st.groups.values()) : [];
    }
    let rows = st.pending;
    st.pending = [];
    if (mode === 'last') {
      const last = new Map<unknown, (typeof rows)[number]>();
      for (const r of rows) last.set(r.key, r);
      rows = [...last.values()];
    }
    return rows;
  }

  private deliver(rows: { key: unknown; row: Rec; keys: unknown[] }[], windowStart: number | undefined, windowEnd: number | undefined): void {
    if (this.order.length) {
      const desc = this.order.map((o) => o.desc);
      rows.sort((a, b) => {
        for (let i = 0; i < desc.length; i++) {
          const x = a.keys[i], y = b.keys[i];
          if (x === y) continue;
          if (x === null || x === undefined) return 1;
          if (y === null || y === undefined) return -1;
          const c = (x as number) < (y as number) ? -1 : 1;
          return desc[i] ? -c : c;
        }
        return 0;
      });
    }
    const off = this.ast.offset ?? 0;
    if (off || this.ast.limit !== undefined) rows = rows.slice(off, this.ast.limit === undefined ? undefined : off + this.ast.limit);
    if (rows.length === 0) return;
    this.st.outputs += rows.length;
    this.emit({ statement: this.name, rows: rows.map((r) => r.row), windowStart, windowEnd });
  }

  /** End of input: closes every open window. */
  flush(): void {
    const st = this.st;
    if (this.kind === 'time_batch') while (st.starts.length) this.closeBucket(st.starts[0]);
    if (this.kind === 'length_batch' && st.batchCount > 0) {
      const rows = this.aggregated ? this.groupRows(st.groups.values()) : this.eventRows(st.batchEvents.get(0) ?? []);
      const start = st.batchFirst, end = st.batchLast;
      st.groups = new Map();
      st.batchEvents.delete(0);
      st.batchCount = 0;
      this.output(rows, start, end);
    }
    if (this.ast.output && st.pending.length) this.deliver(this.takePending(), undefined, undefined);
  }

  /** Earliest event time whose window has not been emitted yet (its events would be needed again after a crash). */
  pendingStart(): number | undefined {
    const st = this.st;
    switch (this.kind) {
      case 'time_batch': return st.starts[0];
      case 'length_batch': return st.batchCount > 0 ? st.batchFirst : undefined;
      case 'time':
      case 'length': return st.head < st.window.length ? st.window[st.head].ts : undefined;
      default: return undefined;
    }
  }

  stats(): { events: number; late: number; groups: number; outputs: number } {
    const st = this.st;
    let groups = st.groups.size;
    for (const b of st.buckets.values()) groups += b.size;
    return { events: st.events, late: st.late, groups, outputs: st.outputs };
  }
}
