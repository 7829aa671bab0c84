/**
 * The bus producer across a broker crash: the broker runs as its own process, is killed (SIGKILL) in the
 * middle of a stream of sends and started again on the same port and data directory.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { brokerProcess, exited, tmp } from '../broker/support.ts';
import { createBus } from '../../src/bus/index.ts';
import { readAll } from './support.ts';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

describe('the bus producer across a broker restart', () => {
  it('fails or retries the sends of the outage, and every acknowledged record is there after recovery', async () => {
    const dataDir = tmp('producer-restart');
    dirs.push(dataDir);
    let b = await brokerProcess(dataDir);
    const bus = createBus({ brokers: [b.addr] });
    const p = await bus.producer({ acks: -1, retries: 8, retryBackoffMs: 100 });
    const acked = new Set<string>();
    const sendsStarted: { at: number; settled?: number; ok?: boolean; err?: string }[] = [];
    let seq = 0;
    let stop = false;
    let killedAt = Infinity, restartedAt = Infinity;

    const stream = (async () => {
      const inflight = new Set<Promise<void>>();
      while (!stop) {
        const ids = Array.from({ length: 50 }, () => `r${seq++}`);
        const s: (typeof sendsStarted)[number] = { at: Date.now() };
        sendsStarted.push(s);
        const pr: Promise<void> = p.send('restart', ids.map((id, i) => ({ key: `A${i % 10}`, value: id })))
          .then(() => { s.ok = true; for (const id of ids) acked.add(id); }, (e: Error) => { s.ok = false; s.err = e.message; })
          .then(() => { s.settled = Date.now(); })
          .finally(() => inflight.delete(pr));
        inflight.add(pr);
        if (inflight.size >= 4) await Promise.race(inflight);
        await new Promise((r) => setTimeout(r, 5));
      }
      await Promise.all(inflight);
    })();

    // Stream until a good number of sends were acknowledged (however slow the machine), then kill.
    const waitUntil = async (cond: () => boolean, ms: number, what: string) => {
      const end = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitUntil(() => acked.size >= 500, 60_000, '500 acknowledged records');
    const before = acked.size;
    killedAt = Date.now();
    b.proc.kill('SIGKILL');
    await exited(b.proc);
    await new Promise((r) => setTimeout(r, 700));
    b = await brokerProcess(dataDir, b.port);
    restartedAt = Date.now();
    // Then until several sends begun well after the restart have settled.
    await waitUntil(() => sendsStarted.filter((x) => x.at > restartedAt + 300 && x.settled !== undefined).length >= 5, 60_000, 'sends after the restart');
    stop = true;
    await stream;
    await p.close();

    expect(before).toBeGreaterThan(0);
    // Sends begun before the restart that waited through the outage were retried until the broker came back.
    const throughOutage = sendsStarted.filter((s) => s.at < restartedAt && s.settled! > killedAt + 300);
    expect(throughOutage.length).toBeGreaterThan(0);
    expect(throughOutage.filter((s) => s.ok).length).toBeGreaterThan(0);
    // Sends after recovery all went through.
    const after = sendsStarted.filter((s) => s.at > restartedAt + 300);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((s) => s.ok), JSON.stringify(after.filter((s) => !s.ok))).toBe(true);
    // The failures are the sends in flight when the connection broke, with the reason said.
    // Those begun during the outage may also run out of retries when the restart is slow (a loaded machine),
    // and say so; nothing begun after the restart failed (checked above).
    for (const s of sendsStarted.filter((x) => x.ok === false)) {
      if (s.at < killedAt) expect(s.err).toMatch(/connection to .* (closed|failed).*may or may not have been written/);
      else expect(s.err).toMatch(/connection to .* (closed|failed).*may or may not have been written|failed after \d+ retries .*no broker reachable/);
    }

    const got = await readAll(bus, 'restart', acked.size);
    const present = new Set(got.map((r) => r.value.toString()));
    const missing = [...acked].filter((id) => !present.has(id));
    expect(missing).toEqual([]);
    for (const id of present) expect(Number(id.slice(1))).toBeLessThan(seq);
    await bus.close();
    b.proc.kill('SIGTERM');
    await exited(b.proc);
  });
});
