/**
 * EPL subset grammar (keywords case-insensitive):
 *
 *   module     := { annotation* statement [';'] }
 *   annotation := '@' ('Name' | 'Description' | ident) '(' string ')'
 *   statement  := SELECT ('*' | item {',' item}) FROM type {'.' view} [[AS] alias]
 *                 [WHERE expr] [GROUP BY expr {',' expr}] [HAVING expr]
 *                 [OUTPUT [ALL | LAST | SNAPSHOT] EVERY (period | n EVENTS)]
 *                 [ORDER BY expr [ASC|DESC] {',' …}] [LIMIT n [OFFSET m]]
 *   item       := expr [[AS] alias]
 *   view       := ns ':' name '(' [arg {',' arg}] ')'          win:time(30 sec), win:length(10), win:ext_timed(field, 1 min)
 *   period     := number unit {number unit}                   unit: msec|millisecond(s) sec|second(s) min|minute(s) hour(s) day(s)
 *   expr       := or;  or := and {OR and};  and := not {AND not};  not := [NOT] cmp
 *   cmp        := add [ (=|!=|<>|<|<=|>|>=) add | [NOT] IN '(' expr {',' expr} ')' | [NOT] BETWEEN add AND add
 *                       | [NOT] LIKE add | IS [NOT] NULL ]
 *   add        := mul {(+|-) mul};  mul := unary {(*|/|%) unary};  unary := ['-'] primary
 *   primary    := number | string | TRUE | FALSE | NULL | '(' expr ')'
 *                 | agg '(' [DISTINCT] expr ')' | COUNT '(' '*' ')' | ident '(' args ')' | ident ['.' ident]
 *   agg        := avg | sum | count | min | max | stddev
 */
import { EplError, tokenize, type Token } from './lexer.ts';

export type AggFn = 'avg' | 'sum' | 'count' | 'min' | 'max' | 'stddev';
export const AGG_FNS = new Set<string>(['avg', 'sum', 'count', 'min', 'max', 'stddev']);

interface Pos { line: number; column: number; text: string }
export type Expr = Pos & (
  | { k: 'lit'; v: number | string | boolean | null }
  | { k: 'prop'; name: string; qualifier?: string }
  | { k: 'unary'; op: '-' | 'not'; e: Expr }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'agg'; fn: AggFn; arg?: Expr; distinct: boolean }
  | { k: 'in'; e: Expr; list: Expr[]; not: boolean }
  | { k: 'between'; e: Expr; lo: Expr; hi: Expr; not: boolean }
  | { k: 'like'; e: Expr; pattern: Expr; not: boolean }
  | { k: 'isnull'; e: Expr; not: boolean }
  | { k: 'call'; name: string; args: Expr[] }
);

export type ViewArg = { kind: 'period'; ms: number } | { kind: 'expr'; expr: Expr };
export interface View { ns: string; name: string; args: ViewArg[]; line: number; column: number }

export interface StatementAst {
  name?: string;
  description?: string;
  select: { star: boolean; items: { expr: Expr; alias?: string }[] };
  from: { type: string; views: View[]; alias?: string; line: number; column: number };
  where?: Expr;
  groupBy: Expr[];
  having?: Expr;
  output?: { mode: 'all' | 'last' | 'snapshot'; everyMs?: number; everyEvents?: number };
  orderBy: { expr: Expr; desc: boolean }[];
  limit?: number;
  offset?: number;
  /** Source text of the statement, and where it starts. */
  text: string;
  line: number;
}

const UNITS: Record<string, number> = {
  msec: 1, millisecond: 1, milliseconds: 1,
  sec: 1000, second: 1000, seconds: 1000,
  min: 60_000, minute: 60_000, minutes: 60_000,
  hour: 3_600_000, hours: 3_600_000,
  day: 86_400_000, days: 86_400_000,
};

const RESERVED = new Set(['select', 'from', 'where', 'group', 'by', 'having', 'output', 'order', 'limit', 'offset', 'as', 'and', 'or', 'not', 'in', 'between', 'like', 'is', 'null', 'asc', 'desc', 'every', 'snapshot', 'events', 'distinct', 'true', 'false']);

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[], private readonly src: string, private readonly source?: string) {}

  private get t(): Token { return this.toks[this.i]; }
  private fail(reason: string, tok: Token = this.t): never {
    throw new EplError(reason, tok.line, tok.column, this.source, this.src);
  }
  private describe(tok: Token): string {
    return tok.kind === 'eof' ? 'end of input' : tok.kind === 'string' ? `'${tok.text}'` : `'${tok.text}'`;
  }
  private isKw(kw: string, tok: Token = this.t): boolean { return tok.kind === 'ident' && tok.lower === kw; }
  private acceptKw(kw: string): boolean { if (this.isKw(kw)) { this.i++; return true; } return false; }
  private expectKw(kw: string): Token {
    if (!this.isKw(kw)) this.fail(`expected ${kw.toUpperCase()} but found ${this.describe(this.t)}`);
    return this.toks[this.i++];
  }
  private isOp(op: string): boolean { return this.t.kind === 'op' && this.t.text === op; }
  private acceptOp(op: string): boolean { if (this.isOp(op)) { this.i++; return true; } return false; }
  private expectOp(op: string): Token {
    if (!this.isOp(op)) this.fail(`expected '${op}' but found ${this.describe(this.t)}`);
    return this.toks[this.i++];
  }
  private ident(what: string): Token {
    if (this.t.kind !== 'ident') this.fail(`expected ${what} but found ${this.describe(this.t)}`);
    return this.toks[this.i++];
  }
  private textFrom(start: Token): string {
    const prev = this.toks[this.i - 1];
    const end = prev.kind === 'string' ? this.src.indexOf(prev.text, prev.offset) + prev.text.length + 1 : prev.offset + prev.text.length;
    return this.src.slice(start.offset, Math.max(end, start.offset)).replace(/\s+/g, ' ');
  }

  module(): StatementAst[] {
    const out: StatementAst[] = [];
    while (this.t.kind !== 'eof') {
      if (this.acceptOp(';')) continue;
      out.push(this.statement());
    }
    return out;
  }

  private statement(): StatementAst {
    const first = this.t;
    let name: string | undefined, description: string | undefined;
    while (this.acceptOp('@')) {
      const a = this.ident('an annotation name');
      this.expectOp('(');
      if (this.t.kind !== 'string') this.fail(`expected a quoted string in @${a.text}(…)`);
      const v = this.toks[this.i++].text;
      this.expectOp(')');
      if (a.lower === 'name') name = v;
      else if (a.lower === 'description') description = v;
    }
    const selTok = this.expectKw('select');
    const select = { star: false, items: [] as { expr: Expr; alias?: string }[] };
    if (this.acceptOp('*')) select.star = true;
    else {
      do {
        const expr = this.expr();
        let alias: string | undefined;
        if (this.acceptKw('as')) alias = this.ident('an alias').text;
        else if (this.t.kind === 'ident' && !RESERVED.has(this.t.lower)) alias = this.toks[this.i++].text;
        select.items.push({ expr, alias });
      } while (this.acceptOp(','));
    }
    this.expectKw('from');
    const typeTok = this.ident('an event type');
    const from = { type: typeTok.text, views: [] as View[], alias: undefined as string | undefined, line: typeTok.line, column: typeTok.column };
    while (this.acceptOp('.')) {
      const ns = this.ident('a view namespace such as win');
      this.expectOp(':');
      const vn = this.ident('a view name such as time_batch');
      this.expectOp('(');
      const args: ViewArg[] = [];
      if (!this.isOp(')')) {
        do args.push(this.viewArg()); while (this.acceptOp(','));
      }
      this.expectOp(')');
      from.views.push({ ns: ns.lower, name: vn.lower, args, line: ns.line, column: ns.column });
    }
    if (this.acceptKw('as')) from.alias = this.ident('a stream alias').text;
    else if (this.t.kind === 'ident' && !RESERVED.has(this.t.lower)) from.alias = this.toks[this.i++].text;

    const ast: StatementAst = { name, description, select, from, groupBy: [], orderBy: [], text: '', line: first.line };
    if (this.acceptKw('where')) ast.where = this.expr();
    if (this.acceptKw('group')) {
      this.expectKw('by');
      do ast.groupBy.push(this.expr()); while (this.acceptOp(','));
    }
    if (this.acceptKw('having')) ast.having = this.expr();
    if (this.acceptKw('output')) {
      let mode: 'all' | 'last' | 'snapshot' = 'all';
      if (this.acceptKw('snapshot')) mode = 'snapshot';
      else if (this.acceptKw('last')) mode = 'last';
      else this.acceptKw('all');
      this.expectKw('every');
      const numTok = this.t;
      if (numTok.kind !== 'number') this.fail(`expected a time period or a number of events after EVERY`);
      if (this.t.kind === 'number' && this.isKw('events', this.toks[this.i + 1])) {
        this.i += 2;
        ast.output = { mode, everyEvents: numTok.value };
      } else {
        ast.output = { mode, everyMs: this.period() };
      }
    }
    if (this.acceptKw('order')) {
      this.expectKw('by');
      do {
        const expr = this.expr();
        const desc = this.acceptKw('desc');
        if (!desc) this.acceptKw('asc');
        ast.orderBy.push({ expr, desc });
      } while (this.acceptOp(','));
    }
    if (this.acceptKw('limit')) {
      if (this.t.kind !== 'number') this.fail('expected a number after LIMIT');
      ast.limit = this.toks[this.i++].value;
      if (this.acceptKw('offset')) {
        if (this.t.kind !== 'number') this.fail('expected a number after OFFSET');
        ast.offset = this.toks[this.i++].value;
      }
    }
    if (this.t.kind !== 'eof' && !this.isOp(';') && !this.isOp('@') && !this.isKw('select')) {
      this.fail(`unexpected ${this.describe(this.t)} after the statement`);
    }
    ast.text = this.textFrom(first);
    void selTok;
    return ast;
  }

  /** A time period (`1 min 30 sec`) in ms. */
  private period(): number {
    let ms = 0, parts = 0;
    while (this.t.kind === 'number') {
      const n = this.toks[this.i++];
      const u = this.t;
      if (u.kind !== 'ident' || !(u.lower in UNITS)) this.fail(`expected a time unit (msec, sec, min, hour, day) after ${n.text}`, u);
      this.i++;
      ms += n.value! * UNITS[u.lower];
      parts++;
    }
    if (!parts) this.fail('expected a time period such as 30 sec');
    return ms;
  }

  private viewArg(): ViewArg {
    const next = this.toks[this.i + 1];
    if (this.t.kind === 'number' && next.kind === 'ident') {
      if (!(next.lower in UNITS)) this.fail(`unknown time unit '${next.text}' (msec, sec, min, hour, day)`, next);
      return { kind: 'period', ms: this.period() };
    }
    return { kind: 'expr', expr: this.expr() };
  }

  expr(): Expr { return this.or(); }

  private node<T extends object>(start: Token, n: T): Expr {
    return { ...n, line: start.line, column: start.column, text: this.textFrom(start) } as unknown as Expr;
  }

  private or(): Expr {
    const s = this.t;
    let l = this.and();
    while (this.acceptKw('or')) l = this.node(s, { k: 'bin', op: 'or', l, r: this.and() });
    return l;
  }
  private and(): Expr {
    const s = this.t;
    let l = this.not();
    while (this.acceptKw('and')) l = this.node(s, { k: 'bin', op: 'and', l, r: this.not() });
    return l;
  }
  private not(): Expr {
    const s = this.t;
    if (this.acceptKw('not')) return this.node(s, { k: 'unary', op: 'not', e: this.not() });
    return this.cmp();
  }
  private cmp(): Expr {
    const s = this.t;
    const l = this.add();
    if (this.t.kind === 'op' && ['=', '!=', '<>', '<', '<=', '>', '>='].includes(this.t.text)) {
      const op = this.toks[this.i++].text;
      return this.node(s, { k: 'bin', op: op === '<>' ? '!=' : op, l, r: this.add() });
    }
    if (this.acceptKw('is')) {
      const not = this.acceptKw('not');
      this.expectKw('null');
      return this.node(s, { k: 'isnull', e: l, not });
    }
    const not = this.isKw('not') && ['in', 'between', 'like'].includes(this.toks[this.i + 1].lower) ? (this.i++, true) : false;
    if (this.acceptKw('in')) {
      this.expectOp('(');
      const list: Expr[] = [];
      do list.push(this.expr()); while (this.acceptOp(','));
      this.expectOp(')');
      return this.node(s, { k: 'in', e: l, list, not });
    }
    if (this.acceptKw('between')) {
      const lo = this.add();
      this.expectKw('and');
      return this.node(s, { k: 'between', e: l, lo, hi: this.add(), not });
    }
    if (this.acceptKw('like')) return this.node(s, { k: 'like', e: l, pattern: this.add(), not });
    if (not) this.fail('expected IN, BETWEEN or LIKE after NOT');
    return l;
  }
  private add(): Expr {
    const s = this.t;
    let l = this.mul();
    while (this.t.kind === 'op' && (this.t.text === '+' || this.t.text === '-')) {
      const op = this.toks[this.i++].text;
      l = this.node(s, { k: 'bin', op, l, r: this.mul() });
    }
    return l;
  }
  private mul(): Expr {
    const s = this.t;
    let l = this.unary();
    while (this.t.kind === 'op' && ['*', '/', '%'].includes(this.t.text)) {
      const op = this.toks[this.i++].text;
      l = this.node(s, { k: 'bin', op, l, r: this.unary() });
    }
    return l;
  }
  private unary(): Expr {
    const s = this.t;
    if (this.acceptOp('-')) return this.node(s, { k: 'unary', op: '-', e: this.unary() });
    return this.primary();
  }
  private primary(): Expr {
    const s = this.t;
    if (s.kind === 'number') { this.i++; return this.node(s, { k: 'lit', v: s.value! }); }
    if (s.kind === 'string') { this.i++; return this.node(s, { k: 'lit', v: s.text }); }
    if (this.acceptOp('(')) {
      const e = this.expr();
      this.expectOp(')');
      return e;
    }
    if (s.kind !== 'ident') this.fail(`expected an expression but found ${this.describe(s)}`);
    if (s.lower === 'true' || s.lower === 'false') { this.i++; return this.node(s, { k: 'lit', v: s.lower === 'true' }); }
    if (s.lower === 'null') { this.i++; return this.node(s, { k: 'lit', v: null }); }
    if (RESERVED.has(s.lower)) this.fail(`expected an expression but found the keyword ${s.text.toUpperCase()}`);
    this.i++;
    if (this.acceptOp('(')) {
      if (AGG_FNS.has(s.lower)) {
        if (s.lower === 'count' && this.acceptOp('*')) {
          this.expectOp(')');
          return this.node(s, { k: 'agg', fn: 'count', distinct: false });
        }
        const distinct = this.acceptKw('distinct');
        const arg = this.expr();
        this.expectOp(')');
        return this.node(s, { k: 'agg', fn: s.lower as AggFn, arg, distinct });
      }
      const args: Expr[] = [];
      if (!this.isOp(')')) {
        do args.push(this.expr()); while (this.acceptOp(','));
      }
      this.expectOp(')');
      return this.node(s, { k: 'call', name: s.lower, args });
    }
    if (this.isOp('.') && this.toks[this.i + 1].kind === 'ident') {
      this.i++;
      const p = this.toks[this.i++];
      return this.node(s, { k: 'prop', name: p.text, qualifier: s.text });
    }
    return this.node(s, { k: 'prop', name: s.text });
  }
}

export function parseEpl(text: string, source?: string): StatementAst[] {
  const p = new Parser(tokenize(text, source), text, source);
  const stmts = p.module();
  if (stmts.length === 0) throw new EplError('no statement found', 1, 1, source);
  return stmts;
}
