/**
 * The spooldir source's directory watch: with the fallback scan set to a minute, a file moved into the
 * spool is still picked up at once (only the watch can have woken the source), and Flume's contract
 * holds: a file being written under another name (`*.tmp`, hidden) is never read, however many change
 * events its writing causes; once renamed, it is read whole.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findComponent, type SourceFactory } from '../../src/collect/registry.ts';
import type { CollectEvent, Source } from '../../src/collect/types.ts';
import { asEvents, type EventBatch } from '../../src/collect/batch.ts';
import { createLogger } from '../../src/core/log.ts';
import '../../src/collect/source/spooldir.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-spoolwatch-'));
  dirs.push(d);
  return d;
};
const sources: Source[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const waitFor = async (cond: () => boolean, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

function start(props: Record<string, string>, dataDir: string) {
  const got: { lines: string[]; at: number[] } = { lines: [], at: [] };
  const f = findComponent('source', 'spooldir') as SourceFactory<unknown>;
  const deliver = async (batch: CollectEvent[] | EventBatch) => {
    for (const e of asEvents(batch)) got.lines.push(e.body.toString());
    got.at.push(performance.now());
  };
  const src: Source = f.create(f.schema.parse(props), deliver, {
    agent: 'a', name: 'src', dataDir, lakeRoot: path.join(dataDir, 'lake'), stateDir: path.join(dataDir, 'state'), brokers: [],
    deadLetters: { write: () => {} }, log: createLogger('test'), resume: undefined,
  });
  sources.push(src);
  return { src, got };
}

const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `20240101${String(i).padStart(6, '0')},${tag}${i}`);
const settle = () => new Promise((r) => setTimeout(r, 300));

describe('spooldir source watches its directory', () => {
  it('picks up a file moved in without waiting for the scan (pollDelay 60 s), file after file', async () => {
    const d = tmp();
    const spool = path.join(d, 'spool');
    const { src, got } = start({ spoolDir: 'spool', pollDelay: '60000', deletePolicy: 'immediate', batchSize: '500' }, d);
    await src.start();
    await settle(); // the first scan found nothing; the source now sleeps for a minute unless woken
    for (const tag of ['A', 'B', 'C']) {
      const staged = path.join(d, `${tag}.staged`);
      fs.writeFileSync(staged, lines(1000, tag).join('\n') + '\n');
      const n = got.lines.length;
      const t0 = performance.now();
      fs.renameSync(staged, path.join(spool, `${tag}.txt`));
      await waitFor(() => got.lines.length === n + 1000, 5000, `file ${tag} ingested`);
      // Woken by the watch: far sooner than the 60 s scan (generous bound for a loaded machine).
      expect(got.at[got.at.length - 1] - t0).toBeLessThan(5000);
      await waitFor(() => !fs.existsSync(path.join(spool, `${tag}.txt`)), 5000, `file ${tag} deleted`);
      await settle();
    }
    expect(got.lines).toEqual([...lines(1000, 'A'), ...lines(1000, 'B'), ...lines(1000, 'C')]);
  });

  it('never reads a file while it is written under a .tmp or hidden name; reads it whole once renamed', async () => {
    const d = tmp();
    const spool = path.join(d, 'spool');
    fs.mkdirSync(spool);
    const { src, got } = start({ spoolDir: 'spool', pollDelay: '60000', deletePolicy: 'never', batchSize: '100' }, d);
    await src.start();
    await settle();
    const all = lines(3000, 'T');
    for (const name of ['day.txt.tmp', '.day2.txt']) {
      const fd = fs.openSync(path.join(spool, name), 'w');
      // Written in 30 pieces over ~0.6 s: each write is a change event in the watched directory.
      for (let i = 0; i < 30; i++) {
        fs.writeSync(fd, all.slice(i * 100, (i + 1) * 100).join('\n') + '\n');
        await new Promise((r) => setTimeout(r, 20));
      }
      fs.closeSync(fd);
    }
    await settle();
    expect(got.lines).toEqual([]);
    fs.renameSync(path.join(spool, 'day.txt.tmp'), path.join(spool, 'day.txt'));
    await waitFor(() => fs.existsSync(path.join(spool, 'day.txt.COMPLETED')), 5000, 'day.txt completed');
    expect(got.lines).toEqual(all);
    expect(fs.readdirSync(spool).sort()).toEqual(['.day2.txt', 'day.txt.COMPLETED']);
  });

  it('watches subdirectories with recursiveDirectorySearch', async () => {
    const d = tmp();
    const sub = path.join(d, 'spool', 'cars', 'b');
    fs.mkdirSync(sub, { recursive: true });
    const { src, got } = start({ spoolDir: 'spool', pollDelay: '60000', deletePolicy: 'immediate', recursiveDirectorySearch: 'true' }, d);
    await src.start();
    await settle();
    fs.writeFileSync(path.join(d, 'x'), lines(10, 'R').join('\n') + '\n');
    fs.renameSync(path.join(d, 'x'), path.join(sub, 'r.txt'));
    await waitFor(() => got.lines.length === 10, 5000, 'file in a subdirectory ingested');
    expect(got.lines).toEqual(lines(10, 'R'));
  });
});
