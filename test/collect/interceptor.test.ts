import { describe, expect, it } from 'vitest';
import { findComponent, type InterceptorFactory } from '../../src/collect/registry.ts';
import { compileRangeTest } from '../../src/collect/interceptor/index.ts';
import { EventBatch } from '../../src/collect/batch.ts';
import type { CollectEvent, Interceptor } from '../../src/collect/types.ts';
import { spawnSync } from 'node:child_process';
import { createLogger } from '../../src/core/log.ts';

const ctx = { agent: 'a', name: 'i', dataDir: '/tmp', lakeRoot: '/tmp/lake', stateDir: '/tmp/s', brokers: [], deadLetters: { write() {} }, log: createLogger('test') };

function make(type: string, props: Record<string, string> = {}) {
  const f = findComponent('interceptor', type) as InterceptorFactory<unknown>;
  const cfg = f.schema.parse(props);
  return f.create(cfg, ctx);
}
/** Expected values from the system's own tools (coreutils, iproute2), not from the code under test. */
const sh = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout.trim();
/** Events through an interceptor as the agent passes them (the built-ins take the batch itself). */
const run = (ic: Interceptor, events: CollectEvent[]): CollectEvent[] =>
  ic.interceptBatch ? ic.interceptBatch(EventBatch.fromEvents(events)).events() : ic.intercept(events);
const ev = (body: string, headers: Record<string, string> = {}): CollectEvent => ({ headers, body: Buffer.from(body) });

describe('interceptors', () => {
  it('timestamp sets the processing time, keeps an existing one with preserveExisting, and keeps shared headers shared', () => {
    const shared = {};
    const t0 = Date.now();
    const out = run(make('timestamp', { preserveExisting: 'true' }), [ev('a', shared), ev('b', shared), ev('c', { timestamp: '5' })]);
    const t1 = Date.now();
    expect(Number(out[0].headers.timestamp)).toBeGreaterThanOrEqual(t0);
    expect(Number(out[0].headers.timestamp)).toBeLessThanOrEqual(t1);
    expect(out[0].headers).toBe(out[1].headers);
    expect(out[2].headers.timestamp).toBe('5');
    const replaced = run(make('timestamp'), [ev('c', { timestamp: '5' })]);
    expect(replaced[0].headers.timestamp).not.toBe('5');
  });

  it('static adds its header (logType = car-batch-log) and host adds the host', () => {
    const out = run(make('static', { key: 'logType', value: 'car-batch-log' }), [ev('x')]);
    expect(out[0].headers).toEqual({ logType: 'car-batch-log' });
    expect(run(make('host', { useIP: 'false' }), [ev('x')])[0].headers.host).toBe(sh('hostname'));
    // useIP (the default): a non-loopback IPv4 address of this host as `ip` lists them, or 127.0.0.1 if none.
    const ips = sh('ip', '-4', '-o', 'addr', 'show').split('\n').map((l) => /inet (\d+\.\d+\.\d+\.\d+)/.exec(l)?.[1]).filter((a): a is string => !!a && !a.startsWith('127.'));
    expect(ips.length ? ips : ['127.0.0.1']).toContain(run(make('host'), [ev('x')])[0].headers.host);
  });

  it('regex_filter keeps only record lines with the seed regex, and excludes with excludeEvents', () => {
    const lines = ['20240101000000,A0001,1', 'SmartCar Status Information,CarNum', '2024010100000,short', 'x20240101000000', '99999999999999'];
    const kept = run(make('regex_filter', { regex: '^\\d{14}' }), lines.map((l) => ev(l))).map((e) => e.body.toString());
    expect(kept).toEqual(['20240101000000,A0001,1', '99999999999999']);
    const dropped = run(make('regex_filter', { regex: '^\\d{14}', excludeEvents: 'true' }), lines.map((l) => ev(l))).map((e) => e.body.toString());
    expect(dropped).toEqual(lines.filter((l) => !kept.includes(l)));
  });

  it('the byte-level fast path agrees with the regex on every kind of line', () => {
    const fastRange = compileRangeTest('^\\d{14}');
    const fast = (b: Buffer) => fastRange(b, 0, b.length);
    const re = /^\d{14}/;
    const samples = ['', '1', '12345678901234', '1234567890123x', '١٢٣٤٥٦٧٨٩٠١٢٣٤', '12345678901234567', ' 12345678901234', '\u000012345678901234'];
    for (let i = 0; i < 2000; i++) samples.push(Array.from({ length: 16 }, () => String.fromCharCode(40 + Math.floor(Math.random() * 30))).join(''));
    for (const s of samples) expect(fast(Buffer.from(s)), s).toBe(re.test(s));
    expect(compileRangeTest('^\\d{14}').bytewise).toBe(true);
    expect(compileRangeTest('^[0-9]{14}').bytewise).toBe(true);
    expect(compileRangeTest('car').bytewise).toBe(false);
  });

  it('collect_day appends the processing date to every line', () => {
    // The processing date as date(1) prints it in this machine's zone; read before and after (midnight).
    const before = sh('date', '+%Y%m%d');
    const out = run(make('collect_day'), [ev('20240101000000,A0001'), ev('b')]);
    const after = sh('date', '+%Y%m%d');
    expect(before).toMatch(/^\d{8}$/);
    const got = out.map((e) => e.body.toString());
    expect([before, after].map((d) => [`20240101000000,A0001,${d}`, `b,${d}`])).toContainEqual(got);
  });

  it('regex_extractor puts captured groups into headers (millis serializer for timestamps)', () => {
    const out = run(make('regex_extractor', {
      regex: '^(\\d{14}),([A-Z]\\d{4})', serializers: 's1 s2',
      'serializers.s1.name': 'timestamp', 'serializers.s1.type': 'org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer',
      'serializers.s2.name': 'car',
    }), [ev('20240101000010,A0001,1'), ev('garbage')]);
    expect(out[0].headers).toEqual({ timestamp: String(Date.UTC(2024, 0, 1, 0, 0, 10)), car: 'A0001' });
    expect(out[1].headers).toEqual({});
  });
});
