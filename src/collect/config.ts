/**
 * Agent definitions: Flume's `.properties` layout, or the project's own JSON, both read into one
 * `AgentDefinition` and validated against the component registry with errors that name file:line.
 *
 * Flume layout (agent `a1`):
 *   a1.sources = s1 s2              a1.channels = c1           a1.sinks = k1
 *   a1.sources.s1.type = spooldir   a1.sources.s1.channels = c1 [c2]   a1.sources.s1.<prop> = …
 *   a1.sources.s1.interceptors = i1 i2     a1.sources.s1.interceptors.i1.type = timestamp  (.<prop> = …)
 *   a1.sources.s1.selector.type = replicating
 *   a1.channels.c1.type = file             a1.channels.c1.<prop> = …
 *   a1.sinks.k1.type = hdfs                a1.sinks.k1.channel = c1   a1.sinks.k1.<prop> = …
 *
 * JSON layout (`smartcar agent -f agent.json -n a1`):
 *   { "a1": { "sources": { "s1": { "type": "spooldir", "channels": ["c1"], "spoolDir": "…",
 *                                  "interceptors": [ { "name": "i1", "type": "timestamp" } ] } },
 *             "channels": { "c1": { "type": "file" } },
 *             "sinks": { "k1": { "type": "hdfs", "channel": "c1", "hdfs.path": "…" } } } }
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/index.ts';
import { closest, parseProperties } from './properties.ts';
import { componentTypes, findComponent, type AnyFactory } from './registry.ts';

/** A property value and where it was written (line 0 for JSON files). */
export interface Prop {
  value: string;
  line: number;
}

export interface ComponentDef {
  name: string;
  type: string;
  /** Line of the `type` key. */
  line: number;
  props: Map<string, Prop>;
}

export interface SourceDef extends ComponentDef {
  channels: string[];
  selector: { type: 'replicating' | 'multiplexing'; optional: string[] };
  interceptors: ComponentDef[];
}

export interface SinkDef extends ComponentDef {
  channel: string;
}

export interface AgentDefinition {
  name: string;
  file: string;
  sources: SourceDef[];
  channels: ComponentDef[];
  sinks: SinkDef[];
}

export class AgentConfigError extends UserError {
  constructor(readonly problems: string[]) {
    super(`agent configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`);
  }
}

const list = (v: string | undefined) => (v ?? '').split(/[\s,]+/).filter(Boolean);

/** Reads an agent file (`.properties` or `.json`) and extracts the agent named `agent`. */
export function readAgentFile(file: string, agent: string): AgentDefinition {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read agent file ${file}: ${(err as Error).message}`);
  }
  return file.endsWith('.json') ? fromJson(text, file, agent) : fromProperties(text, file, agent);
}

export function fromProperties(text: string, file: string, agent: string): AgentDefinition {
  const entries = parseProperties(text);
  const problems: string[] = [];
  const at = (line: number) => `${file}:${line}`;
  const mine = entries.filter((e) => e.key.startsWith(agent + '.'));
  if (mine.length === 0) {
    const agents = [...new Set(entries.map((e) => e.key.split('.')[0]))];
    throw new AgentConfigError([`${file}: no agent named '${agent}'${agents.length ? ` (agents in this file: ${agents.join(', ')})` : ''}; pass the agent's name with -n`]);
  }
  const top = new Map<string, Prop>();
  const comps = { sources: new Map<string, Map<string, Prop>>(), channels: new Map<string, Map<string, Prop>>(), sinks: new Map<string, Map<string, Prop>>() };
  for (const e of mine) {
    const rest = e.key.slice(agent.length + 1);
    const [kind, name, ...prop] = rest.split('.');
    if (kind !== 'sources' && kind !== 'channels' && kind !== 'sinks') {
      if (kind === 'sinkgroups') problems.push(`${at(e.line)}: ${e.key}: sink groups (failover/load_balance) are not supported; give each sink its own channel`);
      else problems.push(`${at(e.line)}: ${e.key}: unknown key; an agent has 'sources', 'channels' and 'sinks'`);
      continue;
    }
    if (name === undefined || prop.length === 0) {
      top.set(kind, { value: e.value, line: e.line });
      continue;
    }
    const m = comps[kind].get(name) ?? new Map<string, Prop>();
    m.set(prop.join('.'), { value: e.value, line: e.line });
    comps[kind].set(name, m);
  }
  const declared = (kind: 'sources' | 'channels' | 'sinks') => {
    const t = top.get(kind);
    const names = list(t?.value);
    for (const name of comps[kind].keys()) {
      if (!names.includes(name)) {
        const line = [...comps[kind].get(name)!.values()][0].line;
        problems.push(`${at(line)}: ${kind.slice(0, -1)} '${name}' is configured but not listed in ${agent}.${kind}${t ? ` (line ${t.line})` : ''}`);
      }
    }
    return names;
  };
  const def: AgentDefinition = { name: agent, file, sources: [], channels: [], sinks: [] };
  const base = (kind: 'sources' | 'channels' | 'sinks', name: string): ComponentDef | undefined => {
    const props = comps[kind].get(name);
    const t = props?.get('type');
    if (!props || !t) {
      problems.push(`${file}: ${agent}.${kind}.${name}.type is missing (${kind.slice(0, -1)} '${name}' is listed${top.get(kind) ? ` at line ${top.get(kind)!.line}` : ''})`);
      return undefined;
    }
    props.delete('type');
    return { name, type: t.value, line: t.line, props };
  };
  for (const name of declared('channels')) {
    const c = base('channels', name);
    if (c) def.channels.push(c);
  }
  for (const name of declared('sinks')) {
    const c = base('sinks', name);
    if (!c) continue;
    const ch = c.props.get('channel');
    c.props.delete('channel');
    if (!ch) problems.push(`${at(c.line)}: ${agent}.sinks.${name}.channel is missing: which channel does sink '${name}' take from?`);
    def.sinks.push({ ...c, channel: ch?.value ?? '' });
  }
  for (const name of declared('sources')) {
    const c = base('sources', name);
    if (!c) continue;
    const chs = c.props.get('channels');
    c.props.delete('channels');
    if (!chs) problems.push(`${at(c.line)}: ${agent}.sources.${name}.channels is missing: which channel(s) does source '${name}' put into?`);
    const interceptors: ComponentDef[] = [];
    const names = list(c.props.get('interceptors')?.value);
    const listLine = c.props.get('interceptors')?.line ?? c.line;
    c.props.delete('interceptors');
    for (const iname of names) {
      const props = new Map<string, Prop>();
      for (const [k, v] of c.props) {
        if (k.startsWith(`interceptors.${iname}.`)) {
          props.set(k.slice(`interceptors.${iname}.`.length), v);
          c.props.delete(k);
        }
      }
      const t = props.get('type');
      if (!t) {
        problems.push(`${at(listLine)}: ${agent}.sources.${name}.interceptors.${iname}.type is missing`);
        continue;
      }
      props.delete('type');
      interceptors.push({ name: iname, type: t.value, line: t.line, props });
    }
    for (const [k, v] of c.props) {
      if (k.startsWith('interceptors.')) {
        problems.push(`${at(v.line)}: ${agent}.sources.${name}.${k}: interceptor '${k.split('.')[1]}' is not listed in ${agent}.sources.${name}.interceptors`);
        c.props.delete(k);
      }
    }
    const selType = c.props.get('selector.type');
    c.props.delete('selector.type');
    const optional = list(c.props.get('selector.optional')?.value);
    c.props.delete('selector.optional');
    if (selType && selType.value !== 'replicating') problems.push(`${at(selType.line)}: selector.type '${selType.value}' is not supported (only replicating)`);
    def.sources.push({ ...c, channels: list(chs?.value), selector: { type: 'replicating', optional }, interceptors });
  }
  if (problems.length) throw new AgentConfigError(problems);
  return def;
}

export function fromJson(text: string, file: string, agent: string): AgentDefinition {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UserError(`agent file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const agents = (doc && typeof doc === 'object' ? (doc as Record<string, unknown>).agents ?? doc : {}) as Record<string, unknown>;
  const a = agents[agent] as Record<string, Record<string, Record<string, unknown>>> | undefined;
  if (!a || typeof a !== 'object') throw new AgentConfigError([`${file}: no agent named '${agent}' (agents: ${Object.keys(agents).join(', ') || 'none'})`]);
  const problems: string[] = [];
  const str = (v: unknown) => (Array.isArray(v) ? v.join(' ') : String(v));
  const toComp = (kind: string, name: string, o: Record<string, unknown>, skip: string[]): ComponentDef | undefined => {
    if (typeof o?.type !== 'string') {
      problems.push(`${file}: ${agent}.${kind}.${name}.type is missing`);
      return undefined;
    }
    const props = new Map<string, Prop>();
    for (const [k, v] of Object.entries(o)) if (k !== 'type' && !skip.includes(k)) props.set(k, { value: str(v), line: 0 });
    return { name, type: o.type, line: 0, props };
  };
  const def: AgentDefinition = { name: agent, file, sources: [], channels: [], sinks: [] };
  for (const [name, o] of Object.entries(a.channels ?? {})) {
    const c = toComp('channels', name, o, []);
    if (c) def.channels.push(c);
  }
  for (const [name, o] of Object.entries(a.sinks ?? {})) {
    const c = toComp('sinks', name, o, ['channel']);
    if (c) def.sinks.push({ ...c, channel: String(o.channel ?? '') });
    if (c && !o.channel) problems.push(`${file}: ${agent}.sinks.${name}.channel is missing`);
  }
  for (const [name, o] of Object.entries(a.sources ?? {})) {
    const c = toComp('sources', name, o, ['channels', 'interceptors']);
    if (!c) continue;
    const interceptors: ComponentDef[] = [];
    const raw = (o.interceptors ?? []) as Record<string, unknown>[];
    raw.forEach((io, i) => {
      const ic = toComp(`sources.${name}.interceptors`, String(io.name ?? `i${i}`), io, ['name']);
      if (ic) interceptors.push(ic);
    });
    const channels = Array.isArray(o.channels) ? o.channels.map(String) : list(o.channels as string | undefined);
    if (!channels.length) problems.push(`${file}: ${agent}.sources.${name}.channels is missing`);
    def.sources.push({ ...c, channels, selector: { type: 'replicating', optional: [] }, interceptors });
  }
  if (problems.length) throw new AgentConfigError(problems);
  return def;
}

/** The keys a zod object schema accepts (for "did you mean"). */
export function schemaKeys(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

export interface Validated<C> {
  factory: AnyFactory;
  config: C;
}

/**
 * Finds the factory for a component and parses its properties with the factory's schema. Problems are
 * appended (with file:line and a suggestion for misspelled keys); returns undefined when invalid.
 */
export function validateComponent(def: AgentDefinition, kind: AnyFactory['kind'], c: ComponentDef, problems: string[], lenient = false, warnings: string[] = []): Validated<unknown> | undefined {
  const where = (line: number) => (line ? `${def.file}:${line}` : def.file);
  const factory = findComponent(kind, c.type);
  if (!factory) {
    const types = componentTypes(kind);
    const hint = closest(c.type, types);
    problems.push(`${where(c.line)}: ${kind} '${c.name}': unknown type '${c.type}'${hint ? ` — did you mean '${hint}'?` : ''} (known: ${types.join(', ')})`);
    return undefined;
  }
  const keys = schemaKeys(factory.schema);
  const raw: Record<string, string> = {};
  let ok = true;
  for (const [k, p] of c.props) {
    if (keys.length && !keys.includes(k) && !factory.dynamicKeys?.test(k)) {
      const hint = closest(k, keys);
      const msg = `${where(p.line)}: ${kind} '${c.name}' (${factory.type}): unknown property '${k}'${hint ? ` — did you mean '${hint}'?` : ''}`;
      if (lenient) warnings.push(msg + ' (ignored: --lenient)');
      else {
        problems.push(msg);
        ok = false;
      }
      continue;
    }
    raw[k] = p.value;
  }
  const parsed = factory.schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const p = c.props.get(key);
      const missing = p === undefined && issue.code === 'invalid_type';
      problems.push(missing
        ? `${where(c.line)}: ${kind} '${c.name}' (${factory.type}): missing required property '${key}'`
        : `${where(p?.line ?? c.line)}: ${kind} '${c.name}' (${factory.type}): ${key ? `property '${key}'` : 'properties'}${p ? ` = '${p.value}'` : ''}: ${issue.message}`);
    }
    return undefined;
  }
  return ok ? { factory, config: parsed.data } : undefined;
}

/** Resolves a path from an agent file: absolute as is, relative against the data directory. */
export function resolvePath(dataDir: string, p: string): string {
  return path.isAbsolute(p) ? p : path.join(dataDir, p);
}
