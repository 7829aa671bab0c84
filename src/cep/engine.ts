/**
 * The CEP engine: deployed statements, event types, and time.
 *
 * Event time (default): each event's own timestamp drives the clock; each statement's watermark is the
 * newest time it has seen minus the allowed lateness. Wall-clock mode: events are stamped on arrival
 * and a timer moves the watermark with the machine clock (for live use without trustworthy timestamps).
 */
import { EplError } from './lexer.ts';
import { parseEpl } from './parser.ts';
import { Statement, type EventTypeDef } from './statement.ts';
import type { CepEvent, CepOutput } from './types.ts';

/** The driving record (one line of the real-time driving log), as `DrivingRecord` in src/core/records.ts. */
export const DRIVING_RECORD_TYPE: EventTypeDef = {
  name: 'DrivingRecord',
  aliases: ['DriverCarInfoBean', 'DriverCarInfo'],
  properties: ['date', 'carNumber', 'speedPedal', 'breakPedal', 'steerAngle', 'directLight', 'speed', 'areaNumber', 'eventTime'],
  propertyAliases: {
    r_date: 'date', car_number: 'carNumber', speed_pedal: 'speedPedal', break_pedal: 'breakPedal', brake_pedal: 'breakPedal',
    steer_angle: 'steerAngle', direct_light: 'directLight', area_number: 'areaNumber', event_time: 'eventTime',
  },
};

export interface CepEngineOptions {
  clock?: 'event' | 'wall';
  /** How late (event-time ms behind the newest event) an event may arrive and still count. Default 0. */
  allowedLatenessMs?: number;
}

export class CepEngine {
  private readonly types = new Map<string, EventTypeDef>();
  private readonly statements = new Map<string, Statement>();
  private readonly byType = new Map<string, Statement[]>();
  private readonly listeners: ((o: CepOutput) => void)[] = [];
  private readonly clock: 'event' | 'wall';
  private readonly lateness: number;
  private timer?: NodeJS.Timeout;
  private seq = 0;
  private retired = { events: 0, late: 0, outputs: 0 };
  /** Bumped whenever `byType` changes; `lastSent` caches `send`'s lookup for one type name. */
  private version = 0;
  private lastSent: { name: string; version: number; list: Statement[] | undefined } = { name: '', version: -1, list: undefined };

  constructor(opts: CepEngineOptions = {}) {
    this.clock = opts.clock ?? 'event';
    this.lateness = opts.allowedLatenessMs ?? 0;
    this.registerEventType(DRIVING_RECORD_TYPE);
    if (this.clock === 'wall') {
      this.timer = setInterval(() => this.advanceWatermark(Date.now()), 100);
      this.timer.unref();
    }
  }

  registerEventType(def: EventTypeDef): void {
    for (const n of [def.name, ...(def.aliases ?? [])]) this.types.set(n.toLowerCase(), def);
    this.version++;
  }

  onOutput(cb: (out: CepOutput) => void): void {
    this.listeners.push(cb);
  }

  private readonly emit = (out: CepOutput) => {
    for (const l of this.listeners) l(out);
  };

  /** Parses and type-checks statements without deploying them. */
  compile(text: string, source = 'inline'): Statement[] {
    const asts = parseEpl(text, source);
    const names = new Set<string>();
    return asts.map((ast) => {
      const type = this.types.get(ast.from.type.toLowerCase());
      if (!type) {
        const known = [...new Set([...this.types.values()].flatMap((t) => [t.name, ...(t.aliases ?? [])]))].join(', ');
        throw new EplError(`unknown event type '${ast.from.type}' (known: ${known})`, ast.from.line, ast.from.column, source, text);
      }
      const name = ast.name ?? `stmt-${++this.seq}`;
      if (names.has(name)) throw new EplError(`two statements are named '${name}'`, ast.line, 1, source, text);
      names.add(name);
      return new Statement(ast, name, source, type, this.lateness, this.emit, text);
    });
  }

  /** Deploys the statements of `eplText`; returns their names. Throws EplError and deploys nothing on error. */
  deploy(eplText: string, source = 'inline'): string[] {
    const stmts = this.compile(eplText, source);
    for (const s of stmts) {
      if (this.statements.has(s.name)) throw new EplError(`a statement named '${s.name}' is already deployed (from ${this.statements.get(s.name)!.source})`, s.ast.line, 1, source);
    }
    for (const s of stmts) this.add(s);
    return stmts.map((s) => s.name);
  }

  /**
   * Replaces every statement that came from `source` with those of `eplText`, atomically: on an error the
   * previous statements keep running. A statement keeping its name and its window/aggregates (say, only
   * the HAVING threshold changed) keeps its open windows, so the change applies from the next window to close.
   */
  replaceSource(source: string, eplText: string): string[] {
    const stmts = this.compile(eplText, source);
    for (const s of stmts) {
      const other = this.statements.get(s.name);
      if (other && other.source !== source) throw new EplError(`a statement named '${s.name}' is already deployed (from ${other.source})`, s.ast.line, 1, source);
    }
    const old = [...this.statements.values()].filter((s) => s.source === source);
    for (const s of stmts) {
      const prev = old.find((o) => o.name === s.name);
      if (prev) s.adopt(prev);
    }
    for (const o of old) this.remove(o, stmts.some((s) => s.name === o.name && s.signature === o.signature));
    for (const s of stmts) this.add(s);
    return stmts.map((s) => s.name);
  }

  /** Removes every statement of a source (e.g. a deleted rule file). */
  removeSource(source: string): void {
    for (const s of [...this.statements.values()]) if (s.source === source) this.remove(s, false);
  }

  undeploy(name: string): void {
    const s = this.statements.get(name);
    if (s) this.remove(s, false);
  }

  private add(s: Statement): void {
    this.statements.set(s.name, s);
    const key = s.type.toLowerCase();
    this.byType.set(key, [...(this.byType.get(key) ?? []), s]);
    this.version++;
  }

  private remove(s: Statement, handedOver: boolean): void {
    if (!handedOver) {
      const st = s.stats();
      this.retired.events += st.events;
      this.retired.late += st.late;
      this.retired.outputs += st.outputs;
    }
    this.statements.delete(s.name);
    const key = s.type.toLowerCase();
    this.byType.set(key, (this.byType.get(key) ?? []).filter((x) => x !== s));
    this.version++;
  }

  names(): string[] {
    return [...this.statements.keys()];
  }

  /** Sends one event. In event-time mode its time is `eventTimeMs`, else its `eventTime` property. */
  send(eventType: string, event: CepEvent, eventTimeMs?: number): void {
    // The stream sends one type name for every event: its statements' list is looked up once per name
    // (and again after a deploy or removal changes the lists).
    let list: Statement[] | undefined;
    if (eventType === this.lastSent.name && this.lastSent.version === this.version) list = this.lastSent.list;
    else {
      const type = this.types.get(eventType.toLowerCase());
      if (!type) throw new Error(`unknown event type '${eventType}'`);
      list = this.byType.get(type.name.toLowerCase());
      this.lastSent = { name: eventType, version: this.version, list };
    }
    const t = this.clock === 'wall' ? Date.now() : (eventTimeMs ?? (event.eventTime as number));
    if (!list) return;
    for (let i = 0; i < list.length; i++) list[i].accept(event, t);
  }

  /** Moves every statement's watermark to at least `ms` (closing due windows). */
  advanceWatermark(ms: number): void {
    for (const s of this.statements.values()) s.advance(ms);
  }

  /** End of input: closes every open window. */
  flush(): void {
    for (const s of this.statements.values()) s.flush();
  }

  pendingWindowStart(): number | undefined {
    let min: number | undefined;
    for (const s of this.statements.values()) {
      const p = s.pendingStart();
      if (p !== undefined && (min === undefined || p < min)) min = p;
    }
    return min;
  }

  stats(): { events: number; late: number; groups: number; outputs: number; statements: number } {
    const t = { ...this.retired, groups: 0, statements: this.statements.size };
    for (const s of this.statements.values()) {
      const st = s.stats();
      t.events += st.events;
      t.late += st.late;
      t.groups += st.groups;
      t.outputs += st.outputs;
    }
    return t;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
