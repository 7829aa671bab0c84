/**
 * EventBatch, the batch form every built-in component uses on the hot path: it must say exactly what the
 * event form says. Each check compares the batch path with the event path (or with plain text) on
 * seeded random input, including CRLF endings, empty lines, bodies without a newline after them and
 * per-event headers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBatch, type Headers } from '../../src/collect/batch.ts';
import { FileChannel } from '../../src/collect/channel/index.ts';
import { decodePut, encodePut, encodePutV1, FILE_HEADER, FILE_MAGIC, logFileName, PUT } from '../../src/collect/channel/wal.ts';
import { readRecord } from '../../src/collect/channel/wal-read.ts';
import '../../src/collect/interceptor/index.ts';
import { findComponent, type InterceptorFactory } from '../../src/collect/registry.ts';
import { CHUNK, linesBatch, openLineReader } from '../../src/collect/source/lines.ts';
import type { CollectEvent } from '../../src/collect/types.ts';
import { createLogger } from '../../src/core/log.ts';
import { rngFor } from '../../src/sim/random.ts';

const ctx = { agent: 'a', name: 'i', dataDir: '/tmp', lakeRoot: '/tmp/lake', stateDir: '/tmp/s', brokers: [], deadLetters: { write() {} }, log: createLogger('test') };
const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-batch-'));
  dirs.push(d);
  return d;
};

/** Random file text: record-like lines, headers, garbage, empty lines, some CRLF. */
function randomText(rand: () => number, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const r = rand();
    let l: string;
    if (r < 0.7) l = `2024010${Math.floor(rand() * 10)}12000${Math.floor(rand() * 10)},A${String(Math.floor(rand() * 9999)).padStart(4, '0')},${Math.floor(rand() * 100)}`;
    else if (r < 0.8) l = 'SmartCar Status Information,CarNum';
    else if (r < 0.9) l = '';
    else l = Array.from({ length: Math.floor(rand() * 30) }, () => String.fromCharCode(32 + Math.floor(rand() * 90))).join('');
    out.push(rand() < 0.1 ? l + '\r' : l);
  }
  return out.join('\n') + '\n';
}

/** A batch as the line reader makes it (views of one chunk), and the lines it must hold. */
function readerBatch(text: string, headers: Headers = { k: 'v' }): { batch: EventBatch; lines: string[] } {
  const d = tmp();
  const file = path.join(d, 'f');
  fs.writeFileSync(file, text);
  const r = openLineReader(fs.openSync(file, 'r'), 0, 2048);
  const read = r.read(100_000);
  r.close();
  return { batch: linesBatch(read.lines, headers), lines: text.split('\n').slice(0, -1).map((l) => l.replace(/\r$/, '')) };
}

const text = (events: CollectEvent[]) => events.map((e) => e.body.toString('latin1'));
const asText = (bufs: Buffer[]) => Buffer.concat(bufs).toString('latin1');

describe('EventBatch', () => {
  it('holds the same events as the event form (fromEvents, events, slice, filter, headers)', () => {
    const shared = { a: '1' };
    const evs: CollectEvent[] = ['x', '', 'yy\nz', 'last'].map((b) => ({ headers: shared, body: Buffer.from(b) }));
    const b = EventBatch.fromEvents(evs);
    expect(b.sharedHeaders).toBe(true);
    expect(text(b.events())).toEqual(['x', '', 'yy\nz', 'last']);
    expect(b.bytes()).toBe(1 + 0 + 4 + 4);
    expect(text(b.slice(1, 3).events())).toEqual(['', 'yy\nz']);
    expect(text(b.filter((i) => i !== 0 && i !== 2).events())).toEqual(['', 'last']);
    const mixed = EventBatch.fromEvents([{ headers: { h: '1' }, body: Buffer.from('a') }, { headers: { h: '2' }, body: Buffer.from('b') }]);
    expect(mixed.sharedHeaders).toBe(false);
    expect(mixed.filter((i) => i === 1).events()).toEqual([{ headers: { h: '2' }, body: Buffer.from('b') }]);
  });

  it('lineRuns gives each body followed by a newline, zero-copy where the lines lie back to back', () => {
    const rand = rngFor(7, 0);
    for (let round = 0; round < 50; round++) {
      const { batch, lines } = readerBatch(randomText(rand, 1 + Math.floor(rand() * 300)));
      expect(text(batch.events())).toEqual(lines);
      const want = (ls: string[]) => ls.map((l) => l + '\n').join('');
      expect(asText(batch.lineRuns())).toBe(want(lines));
      const keep = (i: number) => (i * 7 + round) % 5 !== 0;
      expect(asText(batch.filter(keep).lineRuns())).toBe(want(lines.filter((_, i) => keep(i))));
      const from = Math.floor(rand() * lines.length);
      expect(asText(batch.lineRuns(from, lines.length))).toBe(want(lines.slice(from)));
      // Without CR endings the whole batch is one view of the chunk.
      if (!lines.some((_, i) => batch.data[batch.ends[i]] === 13)) expect(batch.lineRuns().length).toBe(1);
    }
  });
});

/**
 * What a chain of built-in interceptors does to events, written out here from their documented
 * behaviour (docs/collect.md), independently of src/: the oracle for the batch form.
 */
function expectedChain(chain: [string, Record<string, string>][], events: CollectEvent[], now: number, today: string): CollectEvent[] {
  let out = events.map((e) => ({ headers: e.headers, body: Buffer.from(e.body) }));
  const setHeader = (key: string, value: string, preserve: boolean) => {
    out = out.map((e) => (preserve && e.headers[key] !== undefined ? e : { ...e, headers: { ...e.headers, [key]: value } }));
  };
  for (const [type, p] of chain) {
    if (type === 'timestamp') setHeader(p.headerName ?? 'timestamp', String(now), p.preserveExisting === 'true');
    else if (type === 'static') setHeader(p.key ?? 'key', p.value ?? 'value', p.preserveExisting !== 'false');
    else if (type === 'host' && p.useIP === 'false') setHeader(p.hostHeader ?? 'host', os.hostname(), p.preserveExisting === 'true');
    else if (type === 'collect_day') out = out.map((e) => ({ ...e, body: Buffer.concat([e.body, Buffer.from((p.separator ?? ',') + today)]) }));
    else if (type === 'regex_filter') {
      const re = new RegExp(p.regex ?? '.*');
      out = out.filter((e) => re.test(e.body.toString('utf8')) !== (p.excludeEvents === 'true'));
    } else throw new Error(`no oracle for interceptor ${type} ${JSON.stringify(p)}`);
  }
  return out;
}

describe('interceptors: the batch form does what each interceptor documents', () => {
  const make = (type: string, props: Record<string, string> = {}) => {
    const f = findComponent('interceptor', type) as InterceptorFactory<unknown>;
    return f.create(f.schema.parse(props), ctx);
  };
  const chains: [string, Record<string, string>][][] = [
    [['timestamp', { preserveExisting: 'true' }], ['static', { key: 'logType', value: 'car-batch-log' }], ['collect_day', {}], ['regex_filter', { regex: '^\\d{14}' }]],
    [['regex_filter', { regex: '^\\d{14}', excludeEvents: 'true' }], ['host', { useIP: 'false' }]],
    [['regex_filter', { regex: 'A0\\d' }], ['collect_day', { separator: '|' }]],
    [['collect_day', {}], ['collect_day', {}]],
  ];

  it('for the original chain and others, with shared and per-event headers', () => {
    const now = 1_700_000_000_000;
    vi.spyOn(Date, 'now').mockReturnValue(now); // one interception time for the chain and the oracle
    const d = new Date();
    const today = `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
    const rand = rngFor(11, 0);
    let checked = 0;
    for (const chain of chains) {
      const ics = chain.map(([t, p]) => make(t, p));
      for (let round = 0; round < 20; round++) {
        let { batch } = readerBatch(randomText(rand, 1 + Math.floor(rand() * 200)));
        if (round % 2) batch = batch.withHeaders(Array.from({ length: batch.count }, (_, i) => (i % 3 ? { n: String(i % 3) } : { timestamp: '5' }) as Headers));
        const want = expectedChain(chain, batch.events(), now, today);
        for (const ic of ics) batch = ic.interceptBatch!(batch);
        expect(text(batch.events())).toEqual(text(want));
        expect(batch.events().map((e) => e.headers)).toEqual(want.map((e) => e.headers));
        expect(asText(batch.lineRuns())).toBe(text(want).map((l) => l + '\n').join(''));
        checked += want.length;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('collect_day leaves bodies back to back with their newlines (one run: the sinks write it as is)', () => {
    const { batch } = readerBatch('20240101000000,A0001\n20240101000001,A0002\n');
    const out = make('collect_day').interceptBatch!(batch);
    expect(out.lineRuns().length).toBe(1);
    expect(text(out.events())[1]).toMatch(/^20240101000001,A0002,\d{8}$/);
  });
});

describe('line reader', () => {
  it('returns every line exactly once across chunk boundaries, and says when it reached the end', () => {
    const d = tmp();
    const file = path.join(d, 'big');
    const rand = rngFor(3, 0);
    const text = randomText(rand, 250_000) + 'partial';
    expect(text.length).toBeGreaterThan(CHUNK);
    fs.writeFileSync(file, text);
    const r = openLineReader(fs.openSync(file, 'r'), 0, 2048);
    const got: string[] = [];
    let eof = false;
    for (;;) {
      const read = r.read(1000);
      expect(read.lines.count).toBeLessThanOrEqual(1000);
      for (let i = 0; i < read.lines.count; i++) got.push(read.lines.data.toString('latin1', read.lines.starts[i], read.lines.ends[i]));
      if (read.lines.count === 0) { eof = read.eof; break; }
    }
    r.close();
    expect(eof).toBe(true);
    expect(got).toEqual(text.split('\n').slice(0, -1).map((l) => l.replace(/\r$/, '')));
    expect(r.pending().toString()).toBe('partial');
  });
});

describe('write-ahead log put records', () => {
  it('round-trip a batch: shared or per-event headers, gaps between bodies, empty batches', () => {
    const rand = rngFor(5, 0);
    for (let round = 0; round < 24; round++) {
      // Empty batches too: a source commits its position with one (the tail source, on opening a file).
      let batch = round === 0 ? EventBatch.empty() : round === 1 ? EventBatch.fromEvents([]) : readerBatch(randomText(rand, Math.floor(rand() * 100))).batch;
      if (round % 4 === 1) batch = batch.filter((i) => i % 4 !== 1);
      if (round % 4 === 3) {
        // Bodies out of order (the general layout).
        const idx = Array.from({ length: batch.count }, (_, i) => batch.count - 1 - i);
        batch = new EventBatch(batch.data, Uint32Array.from(idx, (i) => batch.starts[i]), Uint32Array.from(idx, (i) => batch.ends[i]), batch.count, batch.headers);
      }
      if (round % 4 === 2) batch = batch.withHeaders(Array.from({ length: batch.count }, (_, i) => ({ n: String(i % 4), ü: 'é' })));
      const rec = Buffer.concat(encodePut(batch, round % 2 ? { owner: 'src', value: `{"offset":${round}}` } : undefined));
      expect(rec[0]).toBe(PUT);
      // The CRC covers the header fields and the data view alike.
      const file = path.join(tmp(), 'rec');
      fs.writeFileSync(file, rec);
      const fd = fs.openSync(file, 'r');
      const read = readRecord(fd, 0, rec.length);
      fs.closeSync(fd);
      expect(read.ok).toBe(true);
      const back = decodePut(PUT, rec.subarray(9), 'test');
      expect(back.marker).toEqual(round % 2 ? { owner: 'src', value: `{"offset":${round}}` } : undefined);
      expect(back.events.events()).toEqual(batch.events());
      expect(asText(back.events.lineRuns())).toBe(asText(batch.lineRuns()));
    }
  });

  it('a log written by the previous version (v1 put records) still replays', async () => {
    const d = tmp();
    const data = path.join(d, 'data');
    fs.mkdirSync(data, { recursive: true });
    const head = Buffer.alloc(FILE_HEADER);
    FILE_MAGIC.copy(head, 0);
    head.writeUInt32LE(1, 8);
    const evs = (from: number, n: number, h: Headers) => Array.from({ length: n }, (_, i) => ({ headers: h, body: Buffer.from(`line ${from + i}`) }));
    const recs = [encodePutV1(evs(0, 3, { a: '1' }), { owner: 'src', value: '3' }), encodePutV1([...evs(3, 1, { a: '1' }), ...evs(4, 1, { b: '2' })], { owner: 'src', value: '5' })];
    fs.writeFileSync(path.join(data, logFileName(1)), Buffer.concat([head, ...recs]));
    const ch = new FileChannel('fc', { checkpointDir: path.join(d, 'ckpt'), dataDir: data, checkpointInterval: 0, minimumRequiredSpace: 0 });
    await ch.start();
    try {
      expect(ch.marker('src')).toBe('5');
      const tx = ch.transaction();
      const got = tx.take(10);
      await tx.commit();
      expect(got.map((e) => e.body.toString())).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
      expect(got.map((e) => e.headers)).toEqual([{ a: '1' }, { a: '1' }, { a: '1' }, { a: '1' }, { b: '2' }]);
    } finally {
      await ch.stop();
    }
  });
});
