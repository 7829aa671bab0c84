import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { LakeSink, lakeRelative, lakeSinkSchema } from '../../src/collect/sink/index.ts';
import { findComponent } from '../../src/collect/registry.ts';
import { sinkMetrics } from '../../src/collect/sink/metrics.ts';
import { TestChannel, ev, sinkContext } from './support/test-channel.ts';

const roots: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-sink-lake-'));
  roots.push(d);
  return d;
};
afterEach(() => {
  for (const d of roots.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const DAY = Date.UTC(2024, 0, 1, 9);
/** Status-like lines with the headers the seed's interceptors set. */
const lines = (n: number, from = 0, ts = DAY) =>
  Array.from({ length: n }, (_, i) => ev(`2024010109${String(i + from).padStart(6, '0')},A${String(i + from).padStart(4, '0')},ok`, { timestamp: String(ts), logType: 'car-batch-log' }));

function sink(root: string, props: Record<string, unknown>, channel = new TestChannel(), name = 'k1') {
  const cfg = lakeSinkSchema.parse({ 'hdfs.timeZone': 'UTC', ...props });
  const ctx = sinkContext(root, name);
  return { s: new LakeSink(cfg, channel, ctx), channel, ctx };
}

/** Every file under a directory, relative, sorted. */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}
const readLines = (files: string[]) => files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean));
const finalLogs = (dir: string) => tree(dir).filter((f) => f.endsWith('.log')).map((f) => path.join(dir, f));

const SEED = {
  'hdfs.path': '/pilot-pjt/collect/%{logType}/wrk_date=%Y%m%d', 'hdfs.filePrefix': 'car-batch-log', 'hdfs.fileSuffix': '.log',
  'hdfs.fileType': 'DataStream', 'hdfs.writeFormat': 'Text', 'hdfs.batchSize': '10000', 'hdfs.rollSize': String(64 * 1024 * 1024),
  'hdfs.rollInterval': '0', 'hdfs.rollCount': '0', 'hdfs.idleTimeout': '100',
};

describe('lake sink: paths and names', () => {
  it('maps the HDFS paths of agent files under the lake root', () => {
    expect(lakeRelative('/pilot-pjt/collect/%{logType}/wrk_date=%Y%m%d')).toBe('collect/%{logType}/wrk_date=%Y%m%d');
    expect(lakeRelative('hdfs://nn:8020/pilot-pjt/collect/x')).toBe('collect/x');
    expect(lakeRelative('hdfs://namenode/data/x')).toBe('data/x');
    expect(lakeRelative('/pilot-pjtx/y')).toBe('pilot-pjtx/y');
    expect(lakeRelative('relative/dir')).toBe('relative/dir');
  });

  it('writes the seed layout: <lake>/collect/car-batch-log/wrk_date=YYYYMMDD/car-batch-log.<millis>.log', async () => {
    const root = tmp();
    const { s, channel } = sink(root, SEED);
    await channel.add(lines(500));
    await s.start();
    const before = Date.now();
    expect(await s.process()).toBe(500);
    await s.stop();
    const files = tree(path.join(root, 'lake'));
    expect(files).toHaveLength(1);
    const m = /^collect\/car-batch-log\/wrk_date=20240101\/car-batch-log\.(\d{13})\.log$/.exec(files[0]);
    expect(m).not.toBeNull();
    expect(Math.abs(Number(m![1]) - before)).toBeLessThan(5000);
    expect(readLines(finalLogs(path.join(root, 'lake')))).toEqual(lines(500).map((e) => e.body.toString()));
  });

  it('keeps open files under an in-use name that readers skip, and renames them on stop', async () => {
    const root = tmp();
    const { s, channel } = sink(root, SEED);
    await channel.add(lines(10));
    await s.start();
    await s.process();
    const dir = path.join(root, 'lake', 'collect', 'car-batch-log', 'wrk_date=20240101');
    const open = fs.readdirSync(dir);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatch(/^car-batch-log\.\d{13}\.log\.a1_k1\.tmp$/);
    expect(open.filter((f) => f.endsWith('.log'))).toEqual([]); // what src/sql's readers match
    await s.stop();
    expect(fs.readdirSync(dir)[0]).toMatch(/^car-batch-log\.\d{13}\.log$/);
    await s.stop(); // idempotent
  });

  it('honours inUsePrefix and inUseSuffix', async () => {
    const root = tmp();
    const { s, channel } = sink(root, { 'hdfs.path': 'x', 'hdfs.inUsePrefix': '_', 'hdfs.inUseSuffix': '', 'hdfs.rollCount': '0' });
    await channel.add([ev('a')]);
    await s.start();
    await s.process();
    expect(fs.readdirSync(path.join(root, 'lake', 'x'))[0]).toMatch(/^_FlumeData\.\d{13}\.a1_k1$/);
    await s.stop();
    expect(fs.readdirSync(path.join(root, 'lake', 'x'))[0]).toMatch(/^FlumeData\.\d{13}$/);
  });

  it('splits a batch between buckets by header and date', async () => {
    const root = tmp();
    const { s, channel } = sink(root, { ...SEED, 'hdfs.filePrefix': '%{logType}' });
    await channel.add([...lines(3, 0), ...lines(2, 10, DAY + 86_400_000), ...lines(1, 20).map((e) => ({ ...e, headers: { ...e.headers, logType: 'other' } }))]);
    await s.start();
    expect(await s.process()).toBe(6);
    await s.stop();
    const files = tree(path.join(root, 'lake'));
    expect(files.map((f) => f.replace(/\d{13}/, 'N'))).toEqual([
      'collect/car-batch-log/wrk_date=20240101/car-batch-log.N.log',
      'collect/car-batch-log/wrk_date=20240102/car-batch-log.N.log',
      'collect/other/wrk_date=20240101/other.N.log',
    ]);
  });

  it('refuses an hdfs.path leading outside the lake, and dead-letters a header that would', async () => {
    const root = tmp();
    expect(() => sink(root, { 'hdfs.path': '/pilot-pjt/../../etc' })).toThrow(/outside the lake root/);
    const { s, channel, ctx } = sink(root, { 'hdfs.path': 'collect/%{logType}', 'hdfs.rollCount': '0' });
    await channel.add([ev('good', { logType: 'ok' }), ev('evil', { logType: '../../../tmp' }), ev('evil2', { logType: '..' })]);
    await s.start();
    expect(await s.process()).toBe(3);
    await s.stop();
    // '..' alone stays inside the lake (collect/.. is the lake root); '../../../tmp' does not.
    expect(readLines(tree(path.join(root, 'lake')).map((f) => path.join(root, 'lake', f))).sort()).toEqual(['evil2', 'good']);
    expect(ctx.deadLetters.count).toBe(1);
    const dl = JSON.parse(fs.readFileSync(ctx.deadLetters.file, 'utf8')) as { body: string; reason: string };
    expect(dl.body).toBe('evil');
    expect(dl.reason).toMatch(/leads outside the lake root/);
  });
});

describe('lake sink: rolling', () => {
  it('rolls by count: 25 events, rollCount 10 → 10 + 10 closed, 5 open until stop', async () => {
    const root = tmp();
    const { s, channel } = sink(root, { 'hdfs.path': 'r', 'hdfs.rollCount': '10', 'hdfs.rollSize': '0' });
    await channel.add(lines(25));
    await s.start();
    expect(await s.process()).toBe(25);
    const dir = path.join(root, 'lake', 'r');
    const closed = fs.readdirSync(dir).filter((f) => !f.endsWith('.tmp')).sort();
    expect(closed).toHaveLength(2);
    expect(closed.map((f) => readLines([path.join(dir, f)]).length)).toEqual([10, 10]);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toHaveLength(1);
    await s.stop();
    const all = fs.readdirSync(dir).sort();
    expect(all.map((f) => readLines([path.join(dir, f)]).length)).toEqual([10, 10, 5]);
    // Names follow the counter: increasing, so sorting by name is sorting by time.
    expect(readLines(all.map((f) => path.join(dir, f)))).toEqual(lines(25).map((e) => e.body.toString()));
  });

  it('rolls by size: a file closes at the first event reaching rollSize', async () => {
    const root = tmp();
    const { s, channel } = sink(root, { 'hdfs.path': 'r', 'hdfs.rollCount': '0', 'hdfs.rollSize': '35' });
    await channel.add(['aaaaaaaaa', 'bbbbbbbbb', 'ccccccccc', 'ddddddddd', 'eeeeeeeee'].map((b) => ev(b))); // 10 bytes per line
    await s.start();
    await s.process();
    await s.stop();
    const dir = path.join(root, 'lake', 'r');
    const sizes = fs.readdirSync(dir).sort().map((f) => fs.statSync(path.join(dir, f)).size);
    expect(sizes).toEqual([40, 10]);
  });

  it('rolls by interval and by idle time, with no new events', async () => {
    for (const prop of ['hdfs.rollInterval', 'hdfs.idleTimeout']) {
      const root = tmp();
      const { s, channel } = sink(root, { 'hdfs.path': 'r', 'hdfs.rollCount': '0', 'hdfs.rollSize': '0', 'hdfs.rollInterval': '0', [prop]: '0.4' });
      await channel.add([ev('x')]);
      await s.start();
      const wrote = Date.now();
      await s.process();
      const dir = path.join(root, 'lake', 'r');
      expect(fs.readdirSync(dir)[0]).toMatch(/\.tmp$/);
      const t0 = Date.now();
      while (!/^FlumeData\.\d{13}$/.test(fs.readdirSync(dir)[0]) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 25));
      expect(fs.readdirSync(dir)[0]).toMatch(/^FlumeData\.\d{13}$/);
      expect(Date.now() - wrote).toBeGreaterThanOrEqual(400); // not closed before its time
      await s.stop();
    }
  });

  it('an idle timeout does not close a file that keeps receiving events', async () => {
    const root = tmp();
    const { s, channel } = sink(root, { 'hdfs.path': 'r', 'hdfs.rollCount': '0', 'hdfs.rollSize': '0', 'hdfs.rollInterval': '0', 'hdfs.idleTimeout': '1.5' });
    await s.start();
    for (let i = 0; i < 6; i++) {
      await channel.add([ev(`e${i}`)]);
      await s.process();
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(fs.readdirSync(path.join(root, 'lake', 'r')).filter((f) => f.endsWith('.tmp'))).toHaveLength(1);
    await s.stop();
    expect(fs.readdirSync(path.join(root, 'lake', 'r'))).toHaveLength(1);
  });

  it('closes the least recently written files beyond maxOpenFiles', async () => {
    const root = tmp();
    const { s, channel } = sink(root, { 'hdfs.path': 'r/%{k}', 'hdfs.rollCount': '0', 'hdfs.maxOpenFiles': '2' });
    await s.start();
    for (const k of ['a', 'b', 'c']) {
      await channel.add([ev(k, { k })]);
      await s.process();
    }
    expect(s.openFiles().map((f) => path.basename(path.dirname(f.path))).sort()).toEqual(['b', 'c']);
    expect(fs.readdirSync(path.join(root, 'lake', 'r', 'a'))[0]).toMatch(/^FlumeData\.\d{13}$/);
    await s.stop();
  });
});

describe('lake sink: batches, formats, failures', () => {
  it('takes at most batchSize events per process()', async () => {
    const root = tmp();
    const { s, channel } = sink(root, { 'hdfs.path': 'b', 'hdfs.batchSize': '100', 'hdfs.rollCount': '0', 'hdfs.rollSize': '0' });
    await channel.add(lines(250));
    await s.start();
    const got = [await s.process(), await s.process(), await s.process(), await s.process()];
    expect(got).toEqual([100, 100, 50, 0]);
    await s.stop();
  });

  it('writes gzip members per batch that read back as one text file', async () => {
    const root = tmp();
    const { s, channel } = sink(root, { 'hdfs.path': 'g', 'hdfs.fileType': 'CompressedStream', 'hdfs.codeC': 'gzip', 'hdfs.fileSuffix': '.log', 'hdfs.batchSize': '40', 'hdfs.rollCount': '0', 'hdfs.rollSize': '0' });
    await channel.add(lines(100));
    await s.start();
    while (await s.process());
    await s.stop();
    const files = fs.readdirSync(path.join(root, 'lake', 'g'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^FlumeData\.\d{13}\.log\.gz$/);
    const text = zlib.gunzipSync(fs.readFileSync(path.join(root, 'lake', 'g', files[0]))).toString();
    expect(text.split('\n').filter(Boolean)).toEqual(lines(100).map((e) => e.body.toString()));
  });

  it('honours serializer.appendNewline = false', async () => {
    const root = tmp();
    const { s, channel } = sink(root, { 'hdfs.path': 'n', 'serializer.appendNewline': 'false', 'hdfs.rollCount': '0' });
    await channel.add([ev('a'), ev('b')]);
    await s.start();
    await s.process();
    await s.stop();
    const dir = path.join(root, 'lake', 'n');
    expect(fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0]), 'utf8')).toBe('ab');
  });

  it('dead-letters events without a timestamp and delivers the rest', async () => {
    const root = tmp();
    const { s, channel, ctx } = sink(root, SEED);
    await channel.add([...lines(3), ev('no-time-1', { logType: 'car-batch-log' }), ev('no-time-2', { logType: 'car-batch-log', timestamp: 'soon' })]);
    await s.start();
    expect(await s.process()).toBe(5);
    await s.stop();
    expect(channel.size()).toBe(0);
    expect(readLines(finalLogs(path.join(root, 'lake')))).toHaveLength(3);
    const dl = fs.readFileSync(path.join(root, 'dead-letter', 'collect-a1.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(dl.map((d) => [d.component, d.body])).toEqual([['k1', 'no-time-1'], ['k1', 'no-time-2']]);
    expect(String(dl[0].reason)).toMatch(/no 'timestamp' header/);
    expect(String(dl[1].reason)).toMatch(/not epoch milliseconds/);
    expect(dl[0].headers).toEqual({ logType: 'car-batch-log' });
    expect(typeof dl[0].time).toBe('string');
    expect(ctx.deadLetters.count).toBe(2);
  });

  it('a failed commit rolls back, truncates what the batch wrote, and the retry writes each event once', async () => {
    const root = tmp();
    const { s, channel } = sink(root, { 'hdfs.path': 'f', 'hdfs.batchSize': '10', 'hdfs.rollCount': '0', 'hdfs.rollSize': '0' });
    await channel.add(lines(30));
    await s.start();
    expect(await s.process()).toBe(10);
    channel.failCommits = 1;
    await expect(s.process()).rejects.toThrow(/injected commit failure/);
    expect(channel.size()).toBe(20);
    while (await s.process());
    await s.stop();
    expect(readLines(tree(path.join(root, 'lake')).map((f) => path.join(root, 'lake', f)))).toEqual(lines(30).map((e) => e.body.toString()));
  });

  it('counts taken, delivered, bytes, batches and files in Prometheus metrics', async () => {
    const root = tmp();
    const { s, channel } = sink(root, { 'hdfs.path': 'm', 'hdfs.rollCount': '4', 'hdfs.rollSize': '0' }, new TestChannel(), 'metered');
    await channel.add([ev('abc'), ev('de'), ev('f'), ev('gh'), ev('i')]);
    await s.start();
    await s.process();
    await s.stop();
    const val = async (m: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }) => (await m.get()).values.find((v) => v.labels.component === 'metered')?.value;
    expect(await val(sinkMetrics.taken)).toBe(5);
    expect(await val(sinkMetrics.delivered)).toBe(5);
    expect(await val(sinkMetrics.bytes)).toBe(14); // 9 body bytes + 5 newlines
    expect(await val(sinkMetrics.batches)).toBe(1);
    expect(await val(sinkMetrics.filesOpened)).toBe(2);
    expect(await val(sinkMetrics.filesClosed)).toBe(2);
    expect(await val(sinkMetrics.openFiles)).toBe(0);
  });
});

describe('lake sink: configuration', () => {
  it('is registered under hdfs, lake and Flume\'s class name', async () => {
    await import('../../src/collect/sink/index.ts');
    for (const t of ['hdfs', 'lake', 'org.apache.flume.sink.hdfs.HDFSEventSink']) expect(findComponent('sink', t)?.type).toBe('hdfs');
    for (const t of ['kafka', 'org.apache.flume.sink.kafka.KafkaSink', 'logger', 'org.apache.flume.sink.LoggerSink', 'null', 'org.apache.flume.sink.NullSink']) expect(findComponent('sink', t)).toBeDefined();
  });

  it('parses the seed agent\'s string properties with Flume\'s defaults', () => {
    const c = lakeSinkSchema.parse({ 'hdfs.path': '/x', 'hdfs.useLocalTimeStamp': 'true', 'hdfs.round': 'false', 'hdfs.callTimeout': '10000', 'hdfs.threadsPoolSize': '10' });
    expect(c['hdfs.useLocalTimeStamp']).toBe(true);
    expect(c['hdfs.round']).toBe(false);
    expect([c['hdfs.filePrefix'], c['hdfs.inUseSuffix'], c['hdfs.rollInterval'], c['hdfs.rollSize'], c['hdfs.rollCount'], c['hdfs.batchSize'], c['hdfs.maxOpenFiles']]).toEqual(['FlumeData', '.tmp', 30, 1024, 10, 100, 5000]);
  });

  it('explains what to use instead of unsupported settings', () => {
    const err = (p: Record<string, unknown>) => {
      const r = lakeSinkSchema.safeParse({ 'hdfs.path': '/x', ...p });
      return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    expect(err({ 'hdfs.fileType': 'SequenceFile' })).toMatch(/SequenceFile is not supported.*use hdfs.fileType = DataStream/);
    expect(err({ 'hdfs.fileType': 'CompressedStream' })).toMatch(/needs hdfs.codeC = gzip/);
    expect(err({ 'hdfs.fileType': 'CompressedStream', 'hdfs.codeC': 'snappy' })).toMatch(/only the gzip codec/);
    expect(err({ serializer: 'avro_event' })).toMatch(/only serializer = TEXT/);
    expect(err({ 'hdfs.timeZone': 'Nowhere/City' })).toMatch(/unknown time zone/);
    expect(err({ 'hdfs.pth': '/y' })).toMatch(/hdfs.pth/);
    expect(err({ 'hdfs.rollSize': 'big' })).toMatch(/hdfs.rollSize/);
  });
});

describe('lake sink: the SQL layer reads what it wrote', () => {
  it('a simulated status day lands in smartcar_status_info; the open file is invisible until closed', async () => {
    const { writeStatusDay } = await import('../../src/sim/index.ts');
    const { openCatalog } = await import('../../src/sql/index.ts');
    const root = tmp();
    const spool = path.join(root, 'spool');
    const { file, records } = await writeStatusDay({ date: '20240101', cars: 2, outDir: spool, seed: 3 });
    // What the seed's interceptors produce: record lines only, the processing date appended, headers set.
    const body = fs.readFileSync(file, 'utf8').split('\n').filter((l) => /^\d{14}/.test(l));
    expect(body.length).toBe(records);
    const { s, channel } = sink(root, { ...SEED, 'hdfs.rollSize': String(1024 * 1024) });
    await channel.add(body.map((l) => ev(`${l},20240101`, { timestamp: String(DAY), logType: 'car-batch-log' })));
    await s.start();
    while (await s.process());
    expect(s.openFiles()).toHaveLength(1);
    const count = async () => {
      const cat = await openCatalog({ dataDir: root });
      try {
        return Number((await cat.query(`select count(*) from smartcar_status_info where wrk_date = '20240101'`)).rows[0][0]);
      } finally {
        await cat.close();
      }
    };
    const inUse = s.openFiles()[0].committed;
    const before = await count();
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(records); // the open file's lines are not visible yet
    expect(inUse).toBeGreaterThan(0);
    await s.stop();
    expect(await count()).toBe(records);
  });
});
