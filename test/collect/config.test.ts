import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProperties, closest } from '../../src/collect/properties.ts';
import { AgentConfigError, fromJson, fromProperties, validateComponent } from '../../src/collect/config.ts';
import '../../src/collect/interceptor/index.ts';
import '../../src/collect/source/index.ts';

describe('properties files', () => {
  it('reads separators, comments, continuations and Java escapes with line numbers', () => {
    const e = parseProperties('# c\n! c\na = 1\nb:2\nc 3\n  d = x \\\n    y\ne = ^\\\\d{14}\nf = \\u0041\\t\n');
    expect(e).toEqual([
      { key: 'a', value: '1', line: 3 }, { key: 'b', value: '2', line: 4 }, { key: 'c', value: '3', line: 5 },
      { key: 'd', value: 'x y', line: 6 }, { key: 'e', value: '^\\d{14}', line: 8 }, { key: 'f', value: 'A', line: 9 },
    ]);
  });

  it('suggests the closest key for a misspelling', () => {
    expect(closest('transactionCapasity', ['capacity', 'transactionCapacity'])).toBe('transactionCapacity');
    expect(closest('zzzz', ['capacity'])).toBeUndefined();
  });
});

const seedFile = fs.readFileSync('agents/smartcar-agent.properties', 'utf8');

describe('agent definitions', () => {
  it('reads the shipped seed agent: both flows, interceptors in order, channel bindings', () => {
    const def = fromProperties(seedFile, 'agent.properties', 'SmartCar_Agent');
    expect(def.sources.map((s) => s.name)).toEqual(['SmartCarInfo_SpoolSource', 'DriverCarInfo_TailSource']);
    const spool = def.sources[0];
    expect(spool.type).toBe('spooldir');
    expect(spool.channels).toEqual(['SmartCarInfo_Channel']);
    expect(spool.interceptors.map((i) => i.type)).toEqual(['timestamp', 'static', 'com.wikibook.bigdata.smartcar.flume.CollectDayInterceptor$Builder', 'regex_filter']);
    expect(spool.interceptors[3].props.get('regex')?.value).toBe('^\\d{14}');
    expect(def.sinks.find((s) => s.name === 'DriverCarInfo_KafkaSink')?.channel).toBe('DriverCarInfo_Channel');
  });

  it('names the agents in the file when -n is wrong', () => {
    expect(() => fromProperties(seedFile, 'f', 'Nope')).toThrow(/no agent named 'Nope' \(agents in this file: SmartCar_Agent\)/);
  });

  it('reports a missing type, an unlisted component and a missing channel binding with lines', () => {
    const text = 'a.sources = s\na.channels = c\na.sinks = k\na.sources.s.channels = c\na.channels.c.type = memory\na.sinks.k.type = null\na.sinks.other.type = null\n';
    try {
      fromProperties(text, 'f.conf', 'a');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AgentConfigError);
      const msg = (err as Error).message;
      expect(msg).toContain("f.conf:7: sink 'other' is configured but not listed in a.sinks (line 3)");
      expect(msg).toContain('a.sources.s.type is missing');
      expect(msg).toContain("f.conf:6: a.sinks.k.channel is missing");
    }
  });

  it('rejects a misspelled property naming the line and the right key; lenient makes it a warning', () => {
    const def = fromProperties('a.sources = s\na.sources.s.type = spooldir\na.sources.s.spoolDir = x\na.sources.s.batchSise = 5\na.sources.s.channels = c\na.channels = c\na.channels.c.type = memory\n', 'f.conf', 'a');
    const problems: string[] = [];
    expect(validateComponent(def, 'source', def.sources[0], problems)).toBeUndefined();
    expect(problems).toEqual(["f.conf:4: source 's' (spooldir): unknown property 'batchSise' — did you mean 'batchSize'?"]);
    const warnings: string[] = [];
    const v = validateComponent(def, 'source', def.sources[0], [], true, warnings);
    expect(v?.config).toMatchObject({ spoolDir: 'x', batchSize: 100 });
    expect(warnings[0]).toContain('ignored: --lenient');
  });

  it('reports bad values and missing required properties', () => {
    const def = fromProperties('a.sources = s t\na.sources.s.type = spooldir\na.sources.s.spoolDir = x\na.sources.s.batchSize = lots\na.sources.s.channels = c\na.sources.t.type = spooldir\na.sources.t.channels = c\n', 'f.conf', 'a');
    const problems: string[] = [];
    validateComponent(def, 'source', def.sources[0], problems);
    validateComponent(def, 'source', def.sources[1], problems);
    expect(problems[0]).toMatch(/^f\.conf:4: source 's' \(spooldir\): property 'batchSize' = 'lots': /);
    expect(problems[1]).toBe("f.conf:6: source 't' (spooldir): missing required property 'spoolDir'");
  });

  it('rejects an unknown type with a suggestion and the known types', () => {
    const def = fromProperties('a.sources = s\na.sources.s.type = spooldr\na.sources.s.channels = c\n', 'f.conf', 'a');
    const problems: string[] = [];
    validateComponent(def, 'source', def.sources[0], problems);
    expect(problems[0]).toMatch(/^f\.conf:2: source 's': unknown type 'spooldr' — did you mean 'spooldir'\? \(known: .*spooldir/);
  });

  it('reads the same agent from the project JSON format', () => {
    const def = fromJson(JSON.stringify({ a: {
      sources: { s: { type: 'spooldir', spoolDir: 'in', channels: ['c'], interceptors: [{ name: 'f', type: 'regex_filter', regex: '^\\d{14}' }] } },
      channels: { c: { type: 'memory', capacity: 10 } },
      sinks: { k: { type: 'null', channel: 'c' } },
    } }), 'a.json', 'a');
    expect(def.sources[0].interceptors[0].props.get('regex')?.value).toBe('^\\d{14}');
    expect(def.channels[0].props.get('capacity')?.value).toBe('10');
    expect(def.sinks[0].channel).toBe('c');
  });
});
