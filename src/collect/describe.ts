/**
 * Reference documentation of the agent's components, read from the registry and the components' zod
 * schemas — never written by hand, so `smartcar agent --describe`, docs/collect.md (through
 * scripts/collect-docs.ts) and the validator can never disagree.
 *
 * A property's facts come from walking its schema (zod v4 `_zod.def`), input side:
 *   default / prefault      → default value (and not required)
 *   optional                → not required
 *   pipe                    → the input schema; the output's allowed values when the input has none
 *                             (`z.string().pipe(z.enum(…))`: props.ts's `bool` reads as a boolean)
 *   union                   → the options' types and values together (`all|integer`)
 *   enum / literal / boolean → allowed values (`true|false` enums are booleans)
 *   number / string checks  → integer, bounds
 * Refinements (`.refine`) cannot be read, so each enumerated value is parsed with the property's schema
 * and only the accepted ones are listed.
 * Its text is the schema's `.describe(…)`, taken from the outermost wrapper that has one. Keys the agent
 * itself reads (`type`, `channels`, `interceptors`, `selector.*`, `channel`) are listed in AGENT_KEYS.
 */
import { z } from 'zod';
import { registry, UserError } from '../core/index.ts';
import { closest } from './properties.ts';
import { componentTypes, findComponent, type AnyFactory } from './registry.ts';
import './index.ts';

export type ComponentKind = AnyFactory['kind'];

/** Kinds in the order of a flow. */
export const KINDS: ComponentKind[] = ['source', 'interceptor', 'channel', 'sink'];

export interface PropertyDoc {
  /** The key after `<agent>.<kind>s.<name>.` — Flume's property name. */
  name: string;
  /** What the value must be, e.g. `integer ≥ 1`, `string`, `never|immediate`. */
  type: string;
  /** Allowed values, when the schema enumerates them. */
  values?: string[];
  /** The default as written in an agent file; undefined when there is none. */
  default?: string;
  required: boolean;
  description?: string;
}

export interface ComponentDoc {
  kind: ComponentKind;
  type: string;
  aliases: string[];
  description?: string;
  properties: PropertyDoc[];
  /** Keys accepted beyond the schema's (the factory's `dynamicKeys`), as a regular expression. */
  extraKeys?: string;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, string | number>;
  values?: unknown[];
  defaultValue?: unknown;
  checks?: { _zod: { def: CheckDef } }[];
  shape?: Record<string, z.ZodType>;
}

interface CheckDef {
  check: string;
  format?: string;
  value?: number | bigint;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
}

interface Facts {
  types: string[];
  values: string[];
  default?: unknown;
  hasDefault: boolean;
  optional: boolean;
  min?: { value: number; inclusive: boolean };
  max?: { value: number; inclusive: boolean };
  description?: string;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const addType = (f: Facts, t: string) => { if (!f.types.includes(t)) f.types.push(t); };
const addValues = (f: Facts, vs: string[]) => { for (const v of vs) if (!f.values.includes(v)) f.values.push(v); };

function readChecks(f: Facts, def: Def): void {
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'number_format' && d.format && /int/.test(d.format)) {
      f.types = f.types.map((t) => (t === 'number' ? 'integer' : t));
    } else if (d.check === 'greater_than' && typeof d.value === 'number') f.min = { value: d.value, inclusive: !!d.inclusive };
    else if (d.check === 'less_than' && typeof d.value === 'number') f.max = { value: d.value, inclusive: !!d.inclusive };
  }
}

/** Collects what a value schema accepts (input side); see the file comment. */
function walk(s: z.ZodType, f: Facts): void {
  if (f.description === undefined && s.description) f.description = s.description;
  const def = defOf(s);
  switch (def.type) {
    case 'default':
    case 'prefault':
      if (!f.hasDefault) {
        f.hasDefault = true;
        f.default = def.defaultValue;
      }
      f.optional = true;
      walk(def.innerType!, f);
      break;
    case 'optional':
      f.optional = true;
      walk(def.innerType!, f);
      break;
    case 'nullable':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      walk(def.innerType!, f);
      break;
    case 'pipe': {
      // A string piped into values (`z.string().pipe(z.enum(…))`, also as one option of a union) reads as those values.
      const typesBefore = [...f.types];
      const valuesBefore = f.values.length;
      walk(def.in!, f);
      const out: Facts = { types: [], values: [], hasDefault: false, optional: false };
      walk(def.out!, out);
      const added = f.types.filter((t) => !typesBefore.includes(t));
      if (f.values.length === valuesBefore && added.every((t) => t === 'string') && out.values.length > 0) {
        if (added.length) f.types = f.types.filter((t) => t !== 'string');
        out.types.forEach((t) => addType(f, t));
        addValues(f, out.values);
      }
      f.description ??= out.description;
      break;
    }
    case 'union':
      for (const o of def.options ?? []) walk(o, f);
      break;
    case 'enum': {
      const vs = Object.values(def.entries ?? {}).map(String);
      addValues(f, vs);
      addType(f, vs.length === 2 && vs.includes('true') && vs.includes('false') ? 'boolean' : 'enum');
      break;
    }
    case 'literal':
      addValues(f, (def.values ?? []).map(String));
      addType(f, 'enum');
      break;
    case 'boolean':
      addType(f, 'boolean');
      addValues(f, ['true', 'false']);
      break;
    case 'number':
      addType(f, 'number');
      break;
    case 'string':
      addType(f, 'string');
      break;
    case 'transform':
      break;
    default:
      addType(f, def.type);
  }
  // Checks sit on the schema that declares them: bounds on a number, refinements on wrappers.
  readChecks(f, def);
}

function typeText(f: Facts): string {
  const open = f.types.filter((t) => t !== 'enum' && t !== 'boolean');
  if (f.values.length) {
    // Values plus any open type (`all|integer`); booleans stay `true|false`.
    return [...f.values, ...open].join('|');
  }
  let t = open.join('|') || 'string';
  const num = open.length === 1 && (t === 'integer' || t === 'number');
  if (num && f.min && !(f.min.value <= -Number.MAX_SAFE_INTEGER)) {
    const v = !f.min.inclusive && t === 'integer' ? f.min.value + 1 : f.min.value;
    t += ` ${f.min.inclusive || t.startsWith('integer') ? '≥' : '>'} ${v}`;
  }
  if (num && f.max && f.max.value < Number.MAX_SAFE_INTEGER) t += ` ${f.max.inclusive ? '≤' : '<'} ${f.max.value}`;
  return t;
}

/** The documented facts of one property schema. */
export function describeProperty(name: string, schema: z.ZodType): PropertyDoc {
  const f: Facts = { types: [], values: [], hasDefault: false, optional: false };
  walk(schema, f);
  // Refinements cannot be read, only run: keep the values the property's schema really accepts
  // (`useFlumeEventFormat` is a boolean refined to false).
  f.values = f.values.filter((v) => schema.safeParse(v).success);
  const optin = (schema as unknown as { _zod: { optin?: string } })._zod.optin;
  const doc: PropertyDoc = {
    name,
    type: typeText(f),
    required: !f.optional && optin !== 'optional',
  };
  if (f.values.length) doc.values = f.values;
  if (f.hasDefault) doc.default = String(f.default);
  if (f.description) doc.description = f.description;
  return doc;
}

/** The documentation of a registered factory. */
export function describeFactory(factory: AnyFactory): ComponentDoc {
  const def = defOf(factory.schema);
  if (def.type !== 'object' || !def.shape) throw new Error(`${factory.kind} ${factory.type}: its schema is not an object schema (${def.type}); cannot describe it`);
  const doc: ComponentDoc = {
    kind: factory.kind,
    type: factory.type,
    aliases: [...factory.aliases],
    properties: Object.entries(def.shape).map(([k, s]) => describeProperty(k, s)),
  };
  if (factory.schema.description) doc.description = factory.schema.description;
  if (factory.dynamicKeys) doc.extraKeys = factory.dynamicKeys.source;
  return doc;
}

/** Every registered component, in flow order, types sorted within a kind. */
export function allComponents(): ComponentDoc[] {
  return KINDS.flatMap((kind) => componentTypes(kind).map((t) => describeFactory(findComponent(kind, t)!)));
}

/**
 * Components answering to `name`: a type or alias of any kind (exact, then ignoring case), optionally
 * qualified as `kind:type` (`sink:hdfs`). Empty when nothing matches.
 */
export function findComponents(name: string): ComponentDoc[] {
  const m = /^(source|interceptor|channel|sink)s?[:/](.+)$/.exec(name);
  const kinds = m ? [m[1] as ComponentKind] : KINDS;
  const wanted = m ? m[2] : name;
  const all = allComponents().filter((c) => kinds.includes(c.kind));
  const exact = all.filter((c) => c.type === wanted || c.aliases.includes(wanted));
  if (exact.length) return exact;
  const lower = wanted.toLowerCase();
  return all.filter((c) => c.type.toLowerCase() === lower || c.aliases.some((a) => a.toLowerCase() === lower));
}

/** A "did you mean" for an unknown type name. */
export function suggestType(name: string): string | undefined {
  return closest(name, allComponents().flatMap((c) => [c.type, ...c.aliases]));
}

/** Keys read by the agent itself, not by a component's schema (config.ts). */
export const AGENT_KEYS: { key: string; meaning: string }[] = [
  { key: '<agent>.sources / .channels / .sinks', meaning: 'the components of the agent, space-separated names (every configured component must be listed)' },
  { key: '<agent>.<kind>s.<name>.type', meaning: 'the component type: ours or Flume\'s class name (the aliases below)' },
  { key: '<agent>.sources.<name>.channels', meaning: 'the channel(s) the source puts into; every batch goes to all of them (replicating)' },
  { key: '<agent>.sources.<name>.interceptors', meaning: 'interceptor names, applied in this order; each is configured under interceptors.<i>.type and interceptors.<i>.<property>' },
  { key: '<agent>.sources.<name>.selector.type', meaning: '`replicating` only; `multiplexing` is refused with an error' },
  { key: '<agent>.sources.<name>.selector.optional', meaning: 'accepted and ignored: every channel of a source is required (a failing channel is retried, never skipped)' },
  { key: '<agent>.sinks.<name>.channel', meaning: 'the one channel the sink takes from' },
  { key: '<agent>.sinkgroups', meaning: 'refused with an error: sink groups (failover, load_balance) are not supported; give each sink its own channel' },
];

// ── text (smartcar agent --describe) ─────────────────────────────────────────────────────────────

function wrap(text: string, width: number, indent: string): string {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + w.length > width) {
      out.push(indent + line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(indent + line);
  return out.join('\n');
}

const plural = (k: ComponentKind) => `${k}s`;

/** `smartcar agent --describe`: every registered kind and type, with aliases. */
export function formatComponentList(): string {
  const comps = allComponents();
  const w = Math.max(...comps.map((c) => c.type.length));
  let out = 'Components of the collection agent (use Flume\'s class names or ours as `type`):\n';
  for (const kind of KINDS) {
    out += `\n${plural(kind)}\n`;
    for (const c of comps.filter((x) => x.kind === kind)) {
      out += `  ${c.type.padEnd(w)}  ${c.aliases.length ? `aliases: ${c.aliases.join(', ')}` : ''}`.trimEnd() + '\n';
    }
  }
  out += '\nProperties of one: smartcar agent --describe TYPE   (e.g. --describe spooldir, --describe sink:hdfs)\n';
  return out;
}

function propertyHead(p: PropertyDoc): string {
  const req = p.required ? 'required' : p.default !== undefined ? `default ${p.default === '' ? '(empty)' : p.default}` : 'optional';
  return `${p.name}  ${p.type}  ${req}`;
}

/** `smartcar agent --describe TYPE`: one component's properties. */
export function formatComponent(c: ComponentDoc): string {
  let out = `${c.kind} ${c.type}${c.aliases.length ? `  (aliases: ${c.aliases.join(', ')})` : ''}\n`;
  if (c.description) out += wrap(c.description, 100, '  ') + '\n';
  out += `\nProperties (${c.kind === 'interceptor' ? '<agent>.sources.<source>.interceptors.<name>.' : `<agent>.${plural(c.kind)}.<name>.`}<property> = <value>):\n`;
  for (const p of c.properties) {
    out += `\n  ${propertyHead(p)}\n`;
    if (p.description) out += wrap(p.description, 96, '      ') + '\n';
  }
  if (c.extraKeys) out += `\n  Also accepted: keys matching /${c.extraKeys}/ (see the descriptions above).\n`;
  return out;
}

// ── markdown (scripts/collect-docs.ts → docs/collect.md) ─────────────────────────────────────────

/** Plain text in a table cell: pipes, `<placeholders>` and `*` would otherwise be read as markup. */
const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/[|<*]/g, (c) => `\\${c}`).replace(/\n/g, ' ');
const code = (s: string) => (s === '' ? '(empty)' : `\`${s.replace(/\|/g, '\\|')}\``);

function markdownComponent(c: ComponentDoc): string {
  let out = `### ${c.kind} \`${c.type}\`\n\n`;
  out += c.aliases.length ? `Aliases: ${c.aliases.map((a) => `\`${a}\``).join(', ')}.` : 'No aliases.';
  if (c.description) out += ` ${cell(c.description)}`;
  out += '\n\n| Flume property | type / allowed values | default | required | behaviour here |\n|---|---|---|---|---|\n';
  for (const p of c.properties) {
    out += `| \`${p.name}\` | ${code(p.type)} | ${p.default === undefined ? '—' : code(p.default)} | ${p.required ? 'yes' : ''} | ${cell(p.description ?? '')} |\n`;
  }
  if (c.extraKeys) out += `\nAlso accepted: keys matching \`/${c.extraKeys}/\` (see the table).\n`;
  return out;
}

/** The metrics the agent registers (name, type, help), from the process's registry. */
export async function collectMetrics(): Promise<{ name: string; type: string; help: string; labels: string[] }[]> {
  const all = await registry.getMetricsAsJSON();
  return all
    .filter((m) => m.name.startsWith('smartcar_collect_'))
    .map((m) => ({
      name: m.name,
      type: String(m.type),
      help: m.help,
      labels: (registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? [],
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The generated part of docs/collect.md: agent keys, every component's properties, the metrics. */
export async function markdownReference(): Promise<string> {
  let out = '### Keys the agent reads itself\n\n| key | meaning |\n|---|---|\n';
  for (const k of AGENT_KEYS) out += `| \`${k.key}\` | ${cell(k.meaning)} |\n`;
  for (const c of allComponents()) out += '\n' + markdownComponent(c);
  out += '\n### Metrics\n\nLabel `agent` is the agent\'s name, `component` the component\'s name in the agent file (for interceptors '
    + '`<source>.<interceptor>`). Served by `--metrics-port` at `/metrics`.\n\n| metric | type | labels | meaning |\n|---|---|---|---|\n';
  for (const m of await collectMetrics()) out += `| \`${m.name}\` | ${m.type} | ${m.labels.join(', ')} | ${cell(m.help)} |\n`;
  return out;
}

export const DOC_BEGIN = '<!-- generated: collect-docs -->';
export const DOC_END = '<!-- end generated -->';

/** The text between the markers of a document, without the newline after the begin marker; undefined when absent. */
export function generatedBlock(doc: string): string | undefined {
  const a = doc.indexOf(DOC_BEGIN);
  const b = doc.indexOf(DOC_END);
  if (a < 0 || b < a) return undefined;
  return doc.slice(a + DOC_BEGIN.length, b).replace(/^\n/, '');
}

/** The document with its generated block replaced by `block`. */
export function replaceGeneratedBlock(doc: string, block: string): string {
  const a = doc.indexOf(DOC_BEGIN);
  const b = doc.indexOf(DOC_END);
  if (a < 0 || b < a) throw new Error(`the document has no ${DOC_BEGIN} … ${DOC_END} markers`);
  return doc.slice(0, a + DOC_BEGIN.length) + '\n' + block + doc.slice(b);
}

/** `smartcar agent --describe [TYPE]`: the list, or one component (several when a name fits several kinds). */
export function describeCommand(type: string | undefined): string {
  if (type === undefined) return formatComponentList();
  const found = findComponents(type);
  if (!found.length) {
    const hint = suggestType(type);
    throw new UserError(`unknown component type '${type}'${hint ? ` — did you mean '${hint}'?` : ''} (smartcar agent --describe lists them all)`);
  }
  return found.map(formatComponent).join('\n');
}
