/**
 * Model options come from one zod schema per model: the schema validates a config (file or flags),
 * and the same schema produces the command's flags, their help text and the option tables of
 * docs/ml.md (`markdownOptions`). Keys are camelCase; their flags are kebab-case (`maxDepth` →
 * `--max-depth`). Flags arrive as strings, so numeric fields use `z.coerce`.
 *
 * Light on purpose (zod and commander only): cli.ts builds every command's flags from it.
 */
import type { Command } from 'commander';
import type { z } from 'zod';
import { UserError } from '../core/cli.ts';

export type ObjectSchema = z.ZodObject<z.ZodRawShape>;

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  entries?: Record<string, string>;
  defaultValue?: unknown;
  options?: z.ZodType[];
  values?: unknown[];
  checks?: { _zod: { def: { check: string; format?: string; value?: number; inclusive?: boolean } } }[];
}

export interface OptionDoc {
  key: string;
  flag: string;
  type: string;
  default?: string;
  description: string;
  boolean: boolean;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
export const flagOf = (key: string): string => '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

function facts(s: z.ZodType, out: { type?: string; default?: unknown; description?: string; min?: string; max?: string }): void {
  if (out.description === undefined && s.description) out.description = s.description;
  const def = defOf(s);
  switch (def.type) {
    case 'default':
    case 'prefault':
      if (!('default' in out)) out.default = def.defaultValue;
      return facts(def.innerType!, out);
    case 'optional':
    case 'nullable':
    case 'readonly':
      return facts(def.innerType!, out);
    case 'pipe':
      facts(def.in!, out);
      if (!out.type || out.type === 'string') {
        const o: typeof out = {};
        facts(def.out!, o);
        if (o.type && o.type !== 'string') out.type = o.type;
      }
      return;
    case 'enum':
      out.type = Object.values(def.entries ?? {}).join('|');
      return;
    case 'literal':
      out.type = (def.values ?? []).map(String).join('|');
      return;
    case 'union':
      out.type = (def.options ?? []).map((o) => { const f: typeof out = {}; facts(o, f); return f.type; }).filter(Boolean).join('|');
      return;
    case 'number': {
      let t = 'number';
      for (const c of def.checks ?? []) {
        const d = c._zod.def;
        if (d.check === 'number_format' && d.format && /int/.test(d.format)) t = 'integer';
        if (d.check === 'greater_than') out.min = `${d.inclusive ? '≥' : '>'} ${d.value}`;
        if (d.check === 'less_than') out.max = `${d.inclusive ? '≤' : '<'} ${d.value}`;
      }
      out.type = [t, out.min, out.max].filter(Boolean).join(' ');
      return;
    }
    default:
      out.type ??= def.type;
  }
}

export function optionDocs(schema: ObjectSchema): OptionDoc[] {
  return Object.entries(schema.shape).map(([key, field]) => {
    const f: { type?: string; default?: unknown; description?: string } = {};
    facts(field as z.ZodType, f);
    return {
      key,
      flag: flagOf(key),
      type: f.type ?? 'string',
      default: f.default === undefined ? undefined : Array.isArray(f.default) ? f.default.join(',') : String(f.default),
      description: f.description ?? '',
      boolean: f.type === 'boolean',
    };
  });
}

/** Adds one flag per schema key (except `skip`); defaults are shown, and applied by the schema. */
export function addSchemaOptions(cmd: Command, schema: ObjectSchema, skip: string[] = []): Command {
  for (const o of optionDocs(schema)) {
    if (skip.includes(o.key)) continue;
    const text = `${o.description}${o.type.includes('|') ? ` (${o.type})` : ''}${o.default !== undefined ? ` (default: ${o.default})` : ''}`;
    cmd.option(o.boolean ? o.flag : `${o.flag} <${o.type.includes('|') ? 'name' : o.type.split(' ')[0] === 'integer' ? 'n' : 'value'}>`, text);
  }
  return cmd;
}

/** Validates flags (commander's camelCase object) with the schema; errors name the flag. */
export function parseOptions<S extends ObjectSchema>(schema: S, raw: Record<string, unknown>): z.output<S> {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) if (raw[key] !== undefined) picked[key] = raw[key];
  const r = schema.safeParse(picked);
  if (!r.success) {
    throw new UserError(r.error.issues.map((i) => `${i.path.length ? flagOf(String(i.path[0])) : 'options'}: ${i.message}${i.path.length && raw[String(i.path[0])] !== undefined ? ` (got '${String(raw[String(i.path[0])])}')` : ''}`).join('; '));
  }
  return r.data;
}

/** The schema as a Markdown table (docs/ml.md). */
export function markdownOptions(schema: ObjectSchema): string {
  const rows = optionDocs(schema).map((o) => `| \`${o.flag}\` | ${o.type.replace(/\|/g, '\\|')} | ${o.default === undefined ? '' : `\`${o.default}\``} | ${o.description} |`);
  return ['| flag | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
