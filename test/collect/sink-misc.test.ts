import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDeadLetters } from '../../src/collect/deadletter.ts';
import { LoggerSink, NullSink, loggerSinkSchema, nullSinkSchema } from '../../src/collect/sink/index.ts';
import { registry } from '../../src/core/metrics.ts';
import { TestChannel, ev, sinkContext } from './support/test-channel.ts';

const roots: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-sink-misc-'));
  roots.push(d);
  return d;
};
afterEach(() => {
  for (const d of roots.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('logger and null sinks', () => {
  it('logger logs each event at info with the body cut to maxBytesToLog', async () => {
    const ctx = sinkContext(tmp(), 'log1');
    const channel = new TestChannel();
    const sink = new LoggerSink(loggerSinkSchema.parse({ maxBytesToLog: '4' }), channel, ctx);
    await channel.add([ev('abcdefgh', { h: '1' }), ev('xy')]);
    await sink.start();
    expect(await sink.process()).toBe(2);
    expect(await sink.process()).toBe(0);
    await sink.stop();
    const events = ctx.logged.filter((l) => l.msg === 'event');
    expect(events.map((l) => [l.level, l.body, l.bodyBytes, l.headers])).toEqual([[30, 'abcd…', 8, { h: '1' }], [30, 'xy', 2, {}]]);
  });

  it('null discards events in batches of batchSize', async () => {
    const channel = new TestChannel();
    const sink = new NullSink(nullSinkSchema.parse({ batchSize: '3' }), channel, sinkContext(tmp(), 'null1'));
    await channel.add([ev('1'), ev('2'), ev('3'), ev('4')]);
    expect([await sink.process(), await sink.process(), await sink.process()]).toEqual([3, 1, 0]);
    expect(channel.size()).toBe(0);
    expect(await registry.getSingleMetric('smartcar_collect_sink_events_delivered_total')!.get()).toMatchObject({ values: expect.arrayContaining([expect.objectContaining({ labels: { agent: 'a1', component: 'null1' }, value: 4 })]) });
  });

  it('a failed commit rolls back and leaves the events in order for the retry', async () => {
    const channel = new TestChannel();
    const sink = new NullSink(nullSinkSchema.parse({}), channel, sinkContext(tmp(), 'null2'));
    await channel.add([ev('1'), ev('2')]);
    channel.failCommits = 1;
    await expect(sink.process()).rejects.toThrow(/injected/);
    expect(channel.events.map((e) => e.body.toString())).toEqual(['1', '2']);
    expect(await sink.process()).toBe(2);
  });
});

describe('dead letters', () => {
  it('writes one JSON line per event to <data>/dead-letter/collect-<agent>.jsonl and counts them', async () => {
    const root = tmp();
    const dl = new FileDeadLetters(root, 'SmartCar_Agent');
    dl.write('k1', 'no timestamp', [ev('line one', { logType: 'x' }), { headers: {}, body: Buffer.from([0xff, 0xfe, 0x00]) }]);
    dl.write('k2', 'other', [ev('line two')]);
    dl.write('k2', 'nothing', []);
    expect(dl.file).toBe(path.join(root, 'dead-letter', 'collect-SmartCar_Agent.jsonl'));
    const rows = fs.readFileSync(dl.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => [r.component, r.reason, r.body ?? null, r.bodyBase64 ?? null])).toEqual([
      ['k1', 'no timestamp', 'line one', null], ['k1', 'no timestamp', null, '//4A'], ['k2', 'other', 'line two', null],
      ['k2', 'nothing', null, null],
    ]);
    expect(rows[0].headers).toEqual({ logType: 'x' });
    expect(Number.isNaN(Date.parse(String(rows[0].time)))).toBe(false);
    expect(dl.count).toBe(3);
    const m = await registry.getSingleMetric('smartcar_collect_dead_letters_total')!.get();
    expect(m.values.find((v) => v.labels.agent === 'SmartCar_Agent' && v.labels.component === 'k1')?.value).toBe(2);
  });

  it('says where and what to do when the file cannot be written', () => {
    const root = tmp();
    fs.writeFileSync(path.join(root, 'dead-letter'), 'a file where the directory should be');
    const dl = new FileDeadLetters(root, 'a');
    expect(() => dl.write('k1', 'r', [ev('x')])).toThrow(/cannot write dead letters of k1 to .*collect-a\.jsonl.*writable/);
  });
});
