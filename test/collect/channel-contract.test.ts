/**
 * The channel contract (src/collect/types.ts), one suite run against the memory and the file channel:
 * both are built through the registry from Flume-style string properties, as the agent builds them.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import '../../src/collect/channel/index.ts';
import { ChannelStateError, MemoryChannel, TransactionCapacityError } from '../../src/collect/channel/index.ts';
import { findComponent } from '../../src/collect/registry.ts';
import { ChannelFullError, type Channel } from '../../src/collect/types.ts';
import { bodies, context, events, tmpDir } from './support/channel-fixtures.ts';

type Make = (props: Record<string, string>) => Promise<Channel>;

const dirs: string[] = [];
const open: Channel[] = [];
afterEach(async () => {
  for (const ch of open.splice(0)) await ch.stop();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function maker(type: string, extra: Record<string, string>): Make {
  return async (props) => {
    const dir = tmpDir(type);
    dirs.push(dir);
    const f = findComponent('channel', type);
    if (!f) throw new Error(`no channel type ${type}`);
    const config = f.schema.parse({ ...extra, ...props });
    const ch = f.create(config as never, context(`ch-${type}`, dir));
    await ch.start();
    open.push(ch);
    return ch;
  };
}

const kinds: [string, Make][] = [
  ['memory', maker('memory', {})],
  // minimumRequiredSpace 0: the contract must not depend on this machine's free disk.
  ['file', maker('file', { minimumRequiredSpace: '0', checkpointInterval: '0' })],
];

describe('memory channel byteCapacity', () => {
  it('refuses puts whose bodies exceed byteCapacity less its header buffer, and frees bytes when takes commit', async () => {
    const f = findComponent('channel', 'org.apache.flume.channel.MemoryChannel')!;
    const ch = f.create(f.schema.parse({ capacity: '1000', transactionCapacity: '100', byteCapacity: '100', byteCapacityBufferPercentage: '20' }) as never,
      context('bytes', '/nonexistent')) as MemoryChannel;
    await ch.start();
    open.push(ch);
    const body = (n: number) => ({ headers: {}, body: Buffer.alloc(n, 'b') });
    const tx = ch.transaction();
    tx.put([body(50), body(30)]);
    expect(() => tx.put([body(1)])).toThrow(/byteCapacity/);
    expect(() => tx.put([body(1)])).toThrow(ChannelFullError);
    await tx.commit();
    expect(ch.bytesUsed()).toBe(80);
    const t = ch.transaction();
    t.take(1);
    await t.rollback();
    expect(ch.bytesUsed()).toBe(80);
    const t2 = ch.transaction();
    t2.take(1);
    await t2.commit();
    expect(ch.bytesUsed()).toBe(30);
    const p = ch.transaction();
    p.put([body(50)]);
    await p.commit();
    expect(ch.size()).toBe(2);
  });
});

describe.each(kinds)('%s channel contract', (_kind, make) => {
  it('makes committed puts visible to takers, in order, with their headers', async () => {
    const ch = await make({ capacity: '100', transactionCapacity: '10' });
    const tx = ch.transaction();
    const h = { logType: 'car-batch-log', timestamp: '1704067200000' };
    tx.put(events(0, 3, h));
    tx.put(events(3, 5, {}));
    await tx.commit();
    expect(ch.size()).toBe(5);
    const t = ch.transaction();
    const got = t.take(10);
    await t.commit();
    expect(bodies(got)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    expect(got[0].headers).toEqual(h);
    expect(got[4].headers).toEqual({});
    expect(ch.size()).toBe(0);
  });

  it('keeps staged puts invisible until commit and discards them on rollback', async () => {
    const ch = await make({});
    const tx = ch.transaction();
    tx.put(events(0, 4));
    const peek = ch.transaction();
    expect(peek.take(10)).toEqual([]);
    await peek.commit();
    expect(ch.size()).toBe(0);
    await tx.rollback();
    expect(ch.size()).toBe(0);
    const t = ch.transaction();
    expect(t.take(10)).toEqual([]);
    await t.rollback();
    // The room the rolled-back put held is free again.
    const full = ch.transaction();
    full.put(events(0, 100));
    await full.commit();
    expect(ch.size()).toBe(100);
  });

  it('removes taken events for good on commit', async () => {
    const ch = await make({});
    const tx = ch.transaction();
    tx.put(events(0, 10));
    await tx.commit();
    const t = ch.transaction();
    expect(bodies(t.take(4))).toEqual(['e0', 'e1', 'e2', 'e3']);
    expect(ch.size()).toBe(10);
    await t.commit();
    expect(ch.size()).toBe(6);
    const t2 = ch.transaction();
    expect(bodies(t2.take(100))).toEqual(['e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
    await t2.commit();
  });

  it('returns rolled-back takes to the head in order, even when two takes roll back in reverse order', async () => {
    const ch = await make({});
    const tx = ch.transaction();
    tx.put(events(0, 5));
    await tx.commit();
    const tx2 = ch.transaction();
    tx2.put(events(5, 10));
    await tx2.commit();
    const a = ch.transaction();
    expect(bodies(a.take(3))).toEqual(['e0', 'e1', 'e2']);
    const b = ch.transaction();
    expect(bodies(b.take(4))).toEqual(['e3', 'e4', 'e5', 'e6']);
    await b.rollback();
    await a.rollback();
    const c = ch.transaction();
    expect(bodies(c.take(20))).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
    await c.rollback();
    const d = ch.transaction();
    expect(bodies(d.take(2))).toEqual(['e0', 'e1']);
    await d.commit();
    expect(ch.size()).toBe(8);
  });

  it('hides events of an open take from other takers', async () => {
    const ch = await make({});
    const tx = ch.transaction();
    tx.put(events(0, 6));
    await tx.commit();
    const a = ch.transaction();
    const b = ch.transaction();
    expect(bodies(a.take(4))).toEqual(['e0', 'e1', 'e2', 'e3']);
    expect(bodies(b.take(4))).toEqual(['e4', 'e5']);
    await b.commit();
    await a.rollback();
    const c = ch.transaction();
    expect(bodies(c.take(10))).toEqual(['e0', 'e1', 'e2', 'e3']);
    await c.commit();
  });

  it('refuses a put beyond capacity with ChannelFullError and stages nothing', async () => {
    const ch = await make({ capacity: '10', transactionCapacity: '10' });
    expect(ch.capacity).toBe(10);
    const tx = ch.transaction();
    tx.put(events(0, 8));
    await tx.commit();
    const over = ch.transaction();
    expect(() => over.put(events(8, 11))).toThrow(ChannelFullError);
    over.put(events(8, 10));
    expect(() => over.put(events(10, 11))).toThrow(/full \(capacity 10\)/);
    await over.commit();
    expect(ch.size()).toBe(10);
    // Events held by an open take still count: a rollback must be able to return them.
    const t = ch.transaction();
    t.take(5);
    const p = ch.transaction();
    expect(() => p.put(events(20, 21))).toThrow(ChannelFullError);
    await p.rollback();
    await t.commit();
    const q = ch.transaction();
    q.put(events(20, 25));
    await q.commit();
    expect(ch.size()).toBe(10);
  });

  it('refuses puts and takes beyond transactionCapacity', async () => {
    const ch = await make({ capacity: '100', transactionCapacity: '5' });
    const tx = ch.transaction();
    tx.put(events(0, 3));
    expect(() => tx.put(events(3, 6))).toThrow(TransactionCapacityError);
    expect(() => tx.put(events(3, 6))).toThrow(/transactionCapacity 5/);
    tx.put(events(3, 5));
    await tx.commit();
    const t = ch.transaction();
    expect(() => t.take(6)).toThrow(TransactionCapacityError);
    expect(bodies(t.take(3))).toEqual(['e0', 'e1', 'e2']);
    expect(() => t.take(3)).toThrow(TransactionCapacityError);
    await t.commit();
    expect(() => ch.transaction().put(events(0, 6))).toThrow(TransactionCapacityError);
  });

  it('rejects transactionCapacity above capacity at creation', async () => {
    await expect(make({ capacity: '10', transactionCapacity: '20' })).rejects.toThrow(/transactionCapacity 20 is larger than capacity 10/);
  });

  it('does not mix puts and takes in one transaction, nor reuse a finished one', async () => {
    const ch = await make({});
    const tx = ch.transaction();
    tx.put(events(0, 2));
    expect(() => tx.take(1)).toThrow(ChannelStateError);
    await tx.commit();
    expect(() => tx.put(events(2, 3))).toThrow(/transaction is done/);
    await expect(tx.commit()).rejects.toThrow(ChannelStateError);
    await expect(tx.rollback()).rejects.toThrow(/committed/);
    const t = ch.transaction();
    t.take(1);
    expect(() => t.put(events(0, 1))).toThrow(/either puts or takes/);
    await t.rollback();
    await t.rollback();
    expect(ch.size()).toBe(2);
  });

  it('returns the last committed marker of each owner, committed with puts, takes or alone', async () => {
    const ch = await make({});
    expect(ch.marker('spool')).toBeUndefined();
    const a = ch.transaction();
    a.put(events(0, 2));
    await a.commit({ owner: 'spool', value: '{"file":"a","pos":2}' });
    expect(ch.marker('spool')).toBe('{"file":"a","pos":2}');
    // Every event filtered out by interceptors: the position still moves.
    const b = ch.transaction();
    await b.commit({ owner: 'spool', value: '{"file":"a","pos":9}' });
    expect(ch.marker('spool')).toBe('{"file":"a","pos":9}');
    expect(ch.size()).toBe(2);
    const c = ch.transaction();
    c.put(events(2, 3));
    await c.rollback();
    expect(ch.marker('spool')).toBe('{"file":"a","pos":9}');
    const t = ch.transaction();
    t.take(2);
    await t.commit({ owner: 'lake', value: 'open=2' });
    expect(ch.marker('lake')).toBe('open=2');
    expect(ch.marker('spool')).toBe('{"file":"a","pos":9}');
  });

  it('wakes waitForEvents on a commit, without waiting for the timeout', async () => {
    const ch = await make({});
    const t0 = Date.now();
    const waiting = ch.waitForEvents(10_000);
    setTimeout(() => {
      const tx = ch.transaction();
      tx.put(events(0, 1));
      void tx.commit();
    }, 30);
    await waiting;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(ch.size()).toBe(1);
    // Nothing to take: it resolves after the timeout.
    const t = ch.transaction();
    t.take(1);
    await t.commit();
    const t1 = Date.now();
    await ch.waitForEvents(50);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(40);
  });

  it('wakes waitForSpace when a take commits', async () => {
    const ch = await make({ capacity: '10', transactionCapacity: '10' });
    const tx = ch.transaction();
    tx.put(events(0, 10));
    await tx.commit();
    const t0 = Date.now();
    const waiting = ch.waitForSpace(3, 10_000);
    let woke = false;
    void waiting.then(() => { woke = true; });
    const t = ch.transaction();
    t.take(3);
    await new Promise((r) => setTimeout(r, 20));
    expect(woke).toBe(false);
    await t.commit();
    await waiting;
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('refuses transactions after stop', async () => {
    const ch = await make({});
    await ch.stop();
    await ch.stop();
    expect(() => ch.transaction()).toThrow(/stopped/);
  });
});
