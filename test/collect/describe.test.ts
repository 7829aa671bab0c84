import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  KINDS, allComponents, describeFactory, findComponents, formatComponent, generatedBlock, markdownReference, replaceGeneratedBlock,
  type ComponentDoc, type PropertyDoc,
} from '../../src/collect/describe.ts';
import { componentTypes, findComponent } from '../../src/collect/index.ts';

const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/smartcar.js', 'agent', ...args], { encoding: 'utf8', env: { ...process.env, SMARTCAR_LOG_LEVEL: 'warn' } });

const schemaOf = (c: ComponentDoc) => findComponent(c.kind, c.type)!.schema;
/** A value the documentation says is acceptable, for filling required properties. */
const sample = (p: PropertyDoc) => p.values?.[0] ?? (/^(integer|number)/.test(p.type) ? '1' : 'x');
const requiredProps = (c: ComponentDoc) => Object.fromEntries(c.properties.filter((p) => p.required).map((p) => [p.name, sample(p)]));
const issuesAt = (c: ComponentDoc, raw: Record<string, string>, key: string) => {
  const r = schemaOf(c).safeParse(raw);
  return r.success ? [] : r.error.issues.filter((i) => i.path[0] === key);
};

describe('component reference from the schemas', () => {
  it('describes every registered type of every kind, each property with a type and a description', () => {
    const comps = allComponents();
    for (const kind of KINDS) {
      expect(comps.filter((c) => c.kind === kind).map((c) => c.type)).toEqual(componentTypes(kind));
    }
    expect(comps.length).toBeGreaterThanOrEqual(15);
    for (const c of comps) {
      expect(c.properties.length, `${c.kind} ${c.type}`).toBeGreaterThan(0);
      expect(c.description, `${c.kind} ${c.type} has no .describe() text`).toBeTruthy();
      for (const p of c.properties) {
        expect(p.type, `${c.type}.${p.name}`).toMatch(/\S/);
        expect(p.description, `${c.kind} ${c.type}: property ${p.name} has no .describe() text`).toBeTruthy();
        expect(p.required && p.default !== undefined, `${c.type}.${p.name} is both required and defaulted`).toBe(false);
      }
      expect(formatComponent(c)).toContain(`${c.kind} ${c.type}`);
    }
  });

  it('spooldir: spoolDir is required, deletePolicy is never|immediate defaulting to never', () => {
    const [spool] = findComponents('spooldir');
    const byName = new Map(spool.properties.map((p) => [p.name, p]));
    expect(byName.get('spoolDir')).toMatchObject({ required: true, type: 'string' });
    expect(byName.get('deletePolicy')).toMatchObject({ required: false, values: ['never', 'immediate'], default: 'never', type: 'never|immediate' });
    expect(byName.get('batchSize')).toMatchObject({ required: false, type: 'integer ≥ 1', default: '100' });
    expect(byName.get('fileHeader')).toMatchObject({ values: ['true', 'false'], default: 'false' });
  });

  it('documented defaults are the values the schema applies when a property is left out', () => {
    let checked = 0;
    for (const c of allComponents()) {
      const parsed = schemaOf(c).safeParse(requiredProps(c));
      expect(parsed.success, `${c.type} with its required properties only: ${parsed.success ? '' : parsed.error.message}`).toBe(true);
      const data = parsed.data as Record<string, unknown>;
      for (const p of c.properties) {
        if (p.default === undefined) continue;
        expect(String(data[p.name]), `${c.type}.${p.name}`).toBe(p.default);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('documented allowed values are accepted and anything else is refused; required properties are required', () => {
    for (const c of allComponents()) {
      const base = requiredProps(c);
      for (const p of c.properties) {
        if (p.values) {
          for (const v of p.values) expect(issuesAt(c, { ...base, [p.name]: v }, p.name), `${c.type}.${p.name} = ${v}`).toEqual([]);
          expect(issuesAt(c, { ...base, [p.name]: 'no-such-value' }, p.name).length, `${c.type}.${p.name} = no-such-value`).toBeGreaterThan(0);
        }
        if (p.required) {
          const rest = { ...base };
          delete rest[p.name];
          expect(issuesAt(c, rest, p.name).length, `${c.type} without ${p.name}`).toBeGreaterThan(0);
        }
      }
    }
  });

  it('every boolean property reads true/false in any letter case and JSON booleans, and refuses other spellings', () => {
    let checked = 0;
    for (const c of allComponents()) {
      const base = requiredProps(c);
      for (const p of c.properties.filter((q) => q.type === 'true|false')) {
        const read = (v: unknown) => {
          const r = schemaOf(c).safeParse({ ...base, [p.name]: v });
          return r.success ? (r.data as Record<string, unknown>)[p.name] : 'refused';
        };
        // A property whose schema accepts only one value (kafka's useFlumeEventFormat = false) refuses the other.
        const t = read('true');
        const f = read('false');
        for (const v of ['TRUE', 'True', ' true ', true]) expect(read(v), `${c.type}.${p.name} = ${String(v)}`).toBe(t);
        for (const v of ['FALSE', 'False', false]) expect(read(v), `${c.type}.${p.name} = ${String(v)}`).toBe(f);
        expect([t, f], `${c.type}.${p.name} reads true and false as themselves`).toEqual([t === 'refused' ? 'refused' : true, f === 'refused' ? 'refused' : false]);
        expect(t === 'refused' && f === 'refused', `${c.type}.${p.name} refuses both`).toBe(false);
        for (const v of ['yes', 'no', '1', '0', 'on', 'off', 'ture', '']) expect(read(v), `${c.type}.${p.name} = '${v}'`).toBe('refused');
        expect(issuesAt(c, { ...base, [p.name]: 'yes' }, p.name).map((i) => i.message), `${c.type}.${p.name} = yes`).toEqual(['must be true or false']);
        checked++;
      }
    }
    // Sources, interceptors, sinks and the file channel all have booleans.
    expect(checked).toBeGreaterThan(15);
  });

  it('reads integer bounds from the schema: a value below the documented minimum is refused', () => {
    const [file] = findComponents('channel:file');
    const capacity = file.properties.find((p) => p.name === 'capacity')!;
    expect(capacity.type).toBe('integer ≥ 1');
    expect(issuesAt(file, { capacity: '0' }, 'capacity').length).toBeGreaterThan(0);
    expect(issuesAt(file, { capacity: '1.5' }, 'capacity').length).toBeGreaterThan(0);
    expect(issuesAt(file, { capacity: '1' }, 'capacity')).toEqual([]);
    // The channels' one cross-field rule lives in their schemas too: a transaction must fit in the channel.
    for (const kind of ['channel:file', 'channel:memory']) {
      const [ch] = findComponents(kind);
      expect(issuesAt(ch, { capacity: '100', transactionCapacity: '200' }, 'transactionCapacity').map((i) => i.message)).toEqual(['transactionCapacity 200 is larger than capacity 100; lower it or raise capacity']);
      expect(issuesAt(ch, { capacity: '100', transactionCapacity: '100' }, 'transactionCapacity')).toEqual([]);
    }
  });

  it('finds components by type, Flume class name, kind:type and case-insensitively', () => {
    expect(findComponents('org.apache.flume.sink.kafka.KafkaSink').map((c) => `${c.kind}:${c.type}`)).toEqual(['sink:kafka']);
    expect(findComponents('sink:lake').map((c) => c.type)).toEqual(['hdfs']);
    expect(findComponents('taildir').map((c) => c.type)).toEqual(['TAILDIR']);
    expect(findComponents('Memory').map((c) => c.type)).toEqual(['memory']);
    expect(findComponents('source:memory')).toEqual([]);
    expect(findComponents('nothing-like-it')).toEqual([]);
  });

  it('refuses a schema it cannot read instead of guessing', () => {
    const f = findComponent('sink', 'null')!;
    expect(() => describeFactory({ ...f, schema: f.schema.array() } as typeof f)).toThrow(/not an object schema/);
  });
});

describe('smartcar agent --describe', () => {
  it('without a type lists every kind and type with its aliases, and needs no -n/-f', () => {
    const r = cli('--describe');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const c of allComponents()) {
      const line = r.stdout.split('\n').find((l) => l.trim().startsWith(`${c.type} `) || l.trim() === c.type);
      expect(line, c.type).toBeDefined();
      for (const a of c.aliases) expect(line).toContain(a);
    }
    expect(r.stdout).toMatch(/^sources$/m);
    expect(r.stdout).toMatch(/^sinks$/m);
  });

  it('with a type prints its properties: type, default, allowed values, required', () => {
    const r = cli('--describe', 'spooldir');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('source spooldir');
    expect(r.stdout).toMatch(/^ {2}spoolDir {2}string {2}required$/m);
    expect(r.stdout).toMatch(/^ {2}deletePolicy {2}never\|immediate {2}default never$/m);
    const kafka = cli('--describe', 'org.apache.flume.sink.kafka.KafkaSink');
    expect(kafka.stdout).toMatch(/^ {2}requiredAcks {2}all\|integer {2}optional$/m);
  });

  it('an unknown type is an error with a suggestion', () => {
    const r = cli('--describe', 'spoldir');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown component type 'spoldir' — did you mean 'spooldir'?");
  });

  it('running an agent still requires -n and -f', () => {
    const r = cli('-f', 'agents/smartcar-agent.properties', '--check');
    expect(r.status).toBe(2); // a usage error
    expect(r.stderr).toContain("required option '-n, --name <agent>' not specified");
    expect(cli('-n', 'SmartCar_Agent', '--check').stderr).toContain("required option '-f, --conf-file <file>' not specified");
  });
});

describe('docs/collect.md', () => {
  it('holds exactly what scripts/collect-docs.ts prints between its markers', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/collect-docs.ts'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const block = generatedBlock(fs.readFileSync('docs/collect.md', 'utf8'));
    expect(block, 'docs/collect.md lacks the generated markers').toBeDefined();
    // On failure: npx tsx scripts/collect-docs.ts --write
    expect(block).toBe(r.stdout);
  });

  it('has one table row per property, each with five cells (pipes in values escaped)', async () => {
    const md = await markdownReference();
    for (const c of allComponents()) {
      const section = md.split(`### ${c.kind} \`${c.type}\`\n`)[1].split('\n### ')[0];
      const rows = section.split('\n').filter((l) => l.startsWith('| `'));
      expect(rows.map((r) => r.slice(3, r.indexOf('`', 3))), c.type).toEqual(c.properties.map((p) => p.name));
      for (const row of rows) expect(row.split(/(?<!\\)\|/).length, row).toBe(7);
    }
    expect(md).toContain('`smartcar_collect_interceptor_dropped_total`');
  });

  it('replaces only the generated block', () => {
    const doc = 'intro\n<!-- generated: collect-docs -->\nold\n<!-- end generated -->\noutro\n';
    const next = replaceGeneratedBlock(doc, 'new\n');
    expect(next).toBe('intro\n<!-- generated: collect-docs -->\nnew\n<!-- end generated -->\noutro\n');
    expect(generatedBlock(next)).toBe('new\n');
    expect(() => replaceGeneratedBlock('no markers', 'x')).toThrow(/markers/);
  });
});
