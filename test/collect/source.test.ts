import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findComponent, type SourceFactory } from '../../src/collect/registry.ts';
import type { CollectEvent, Source } from '../../src/collect/types.ts';
import { asEvents, type EventBatch } from '../../src/collect/batch.ts';
import { tailTarget } from '../../src/collect/source/index.ts';
import { createLogger } from '../../src/core/log.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-source-'));
  dirs.push(d);
  return d;
};
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

const waitFor = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** A source wired to a recording deliver(): what a channel commit would have accepted, and the last marker. */
function run(type: string, props: Record<string, string>, dataDir: string, resume?: string) {
  const got: { lines: string[]; markers: string[]; dead: string[] } = { lines: [], markers: [], dead: [] };
  const f = findComponent('source', type) as SourceFactory<unknown>;
  const deliver = async (batch: CollectEvent[] | EventBatch, marker: string) => {
    for (const e of asEvents(batch)) got.lines.push(e.body.toString());
    got.markers.push(marker);
  };
  const src: Source = f.create(f.schema.parse(props), deliver, {
    agent: 'a', name: 'src', dataDir, lakeRoot: path.join(dataDir, 'lake'), stateDir: path.join(dataDir, 'state'), brokers: [],
    deadLetters: { write: (_c, reason, events) => { got.dead.push(reason + (events.length ? `: ${events[0].body.toString().slice(0, 10)}` : '')); } },
    log: createLogger('test'), resume,
  });
  return { src, got };
}

const lines = (n: number, tag = 'L') => Array.from({ length: n }, (_, i) => `20240101${String(i).padStart(6, '0')},${tag}${i}`);

describe('spooldir source', () => {
  it('reads complete files in batches and deletes them (deletePolicy immediate), ignoring hidden, in-progress and ignored files', async () => {
    const d = tmp();
    const spool = path.join(d, 'spool');
    fs.mkdirSync(spool);
    fs.writeFileSync(path.join(spool, 'day1.txt'), lines(2500).join('\n') + '\n');
    fs.writeFileSync(path.join(spool, '.hidden'), 'x\n');
    fs.writeFileSync(path.join(spool, 'day2.txt.tmp'), 'in progress\n');
    fs.writeFileSync(path.join(spool, 'skip.bak'), 'ignored\n');
    const { src, got } = run('spooldir', { spoolDir: 'spool', deletePolicy: 'immediate', batchSize: '1000', ignorePattern: '\\.bak$', pollDelay: '20' }, d);
    await src.start();
    await waitFor(() => !fs.existsSync(path.join(spool, 'day1.txt')));
    await src.stop();
    expect(got.lines).toEqual(lines(2500));
    expect(got.markers.map((m) => JSON.parse(m).offset)).toEqual([1000, 2000, 2500].map((n) => lines(n).join('\n').length + 1));
    expect(fs.readdirSync(spool).sort()).toEqual(['.hidden', 'day2.txt.tmp', 'skip.bak']);
  });

  it('renames with .COMPLETED under deletePolicy never, and reads a last line without newline', async () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, 'in'));
    fs.writeFileSync(path.join(d, 'in', 'f.log'), 'a\r\nb\nc');
    const { src, got } = run('spooldir', { spoolDir: path.join(d, 'in'), pollDelay: '20' }, '/nonexistent');
    await src.start();
    await waitFor(() => fs.existsSync(path.join(d, 'in', 'f.log.COMPLETED')));
    await src.stop();
    expect(got.lines).toEqual(['a', 'b', 'c']);
  });

  it('resumes mid-file from its committed marker: no line twice, none skipped', async () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, 'spool'));
    const file = path.join(d, 'spool', 'day.txt');
    fs.writeFileSync(file, lines(3000).join('\n') + '\n');
    // First run: stop after the first committed batch.
    const first = run('spooldir', { spoolDir: 'spool', batchSize: '700', pollDelay: '20', deletePolicy: 'immediate' }, d);
    let allow = 1;
    const f = findComponent('source', 'spooldir') as SourceFactory<unknown>;
    const accepted: string[] = [];
    let marker = '';
    const src1 = f.create(f.schema.parse({ spoolDir: 'spool', batchSize: '700', pollDelay: '20', deletePolicy: 'immediate' }), async (events, m) => {
      if (allow-- <= 0) { await new Promise((r) => setTimeout(r, 50)); throw new Error('crash: not committed'); }
      accepted.push(...asEvents(events).map((e) => e.body.toString()));
      marker = m;
    }, { agent: 'a', name: 'src', dataDir: d, lakeRoot: '', stateDir: '', brokers: [], deadLetters: { write() {} }, log: createLogger('test'), resume: undefined });
    void first;
    await src1.start();
    await waitFor(() => accepted.length === 700);
    await src1.stop();
    expect(fs.existsSync(file)).toBe(true);
    const second = run('spooldir', { spoolDir: 'spool', batchSize: '700', pollDelay: '20', deletePolicy: 'immediate' }, d, marker);
    await second.src.start();
    await waitFor(() => !fs.existsSync(file));
    await second.src.stop();
    expect([...accepted, ...second.got.lines]).toEqual(lines(3000));
  });

  it('quarantines a file modified after pickup, with a dead-letter record, and goes on with the next file', async () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, 'spool'));
    const bad = path.join(d, 'spool', 'a.txt');
    fs.writeFileSync(bad, lines(300).join('\n') + '\n');
    fs.utimesSync(bad, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    fs.writeFileSync(path.join(d, 'spool', 'b.txt'), lines(5, 'B').join('\n') + '\n');
    const f = findComponent('source', 'spooldir') as SourceFactory<unknown>;
    const got: string[] = [];
    const dead: string[] = [];
    let appended = false;
    const src = f.create(f.schema.parse({ spoolDir: 'spool', batchSize: '100', pollDelay: '20', deletePolicy: 'immediate' }), async (events) => {
      got.push(...asEvents(events).map((e) => e.body.toString()));
      if (!appended) { appended = true; fs.appendFileSync(bad, 'late line\n'); }
    }, { agent: 'a', name: 'src', dataDir: d, lakeRoot: '', stateDir: '', brokers: [], deadLetters: { write: (_c, r) => dead.push(r) }, log: createLogger('test'), resume: undefined });
    await src.start();
    await waitFor(() => !fs.existsSync(path.join(d, 'spool', 'b.txt')));
    await src.stop();
    expect(dead[0]).toMatch(/quarantined .*modified after pickup/);
    expect(fs.readdirSync(path.join(d, 'spool', '.quarantine'))[0]).toMatch(/^a\.txt\./);
    expect(got.slice(0, 100)).toEqual(lines(100));
    expect(got.slice(100)).toEqual(lines(5, 'B'));
  });

  it('sends lines longer than deserializer.maxLineLength to the dead letters and keeps the rest', async () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, 'spool'));
    fs.writeFileSync(path.join(d, 'spool', 'x.txt'), `ok1\n${'Z'.repeat(5000)}\nok2\n`);
    const { src, got } = run('spooldir', { spoolDir: 'spool', pollDelay: '20', deletePolicy: 'immediate', 'deserializer.maxLineLength': '100' }, d);
    await src.start();
    await waitFor(() => !fs.existsSync(path.join(d, 'spool', 'x.txt')));
    await src.stop();
    expect(got.lines).toEqual(['ok1', 'ok2']);
    expect(got.dead).toEqual([expect.stringMatching(/^line longer than deserializer.maxLineLength \(100\).*: ZZZZZZZZZZ$/)]);
  });
});

describe('tail sources (exec tail -F, TAILDIR)', () => {
  it('recognises tail commands', () => {
    expect(tailTarget('tail -F /x/SmartCarDriverInfo.log')).toBe('/x/SmartCarDriverInfo.log');
    expect(tailTarget('tail -n +0 -F rel.log')).toBe('rel.log');
    expect(tailTarget('/usr/bin/tail -f a')).toBe('a');
    expect(tailTarget('cat a')).toBeUndefined();
    expect(tailTarget('tail -F a b')).toBeUndefined();
  });

  it('follows appends; a partial line waits for its newline', async () => {
    const d = tmp();
    const log = path.join(d, 'logs', 'd.log');
    fs.mkdirSync(path.dirname(log), { recursive: true });
    fs.writeFileSync(log, 'a\nb\n');
    const { src, got } = run('exec', { command: 'tail -F logs/d.log', batchSize: '1000' }, d);
    await src.start();
    await waitFor(() => got.lines.length === 2);
    fs.appendFileSync(log, 'c\npart');
    await waitFor(() => got.lines.length === 3);
    await new Promise((r) => setTimeout(r, 200));
    expect(got.lines).toEqual(['a', 'b', 'c']);
    fs.appendFileSync(log, 'ial\n');
    await waitFor(() => got.lines.length === 4);
    await src.stop();
    expect(got.lines).toEqual(['a', 'b', 'c', 'partial']);
  });

  it('across rotation, truncation and restarts: no line lost or duplicated', async () => {
    const d = tmp();
    const log = path.join(d, 'd.log');
    const expected: string[] = [];
    const write = (n: number, tag: string) => { const l = lines(n, tag); expected.push(...l); fs.appendFileSync(log, l.join('\n') + '\n'); };
    write(50, 'A');
    let { src, got } = run('exec', { command: `tail -F ${log}`, batchSize: '7' }, d);
    const all: string[] = [];
    await src.start();
    await waitFor(() => got.lines.length === 50);
    // Rotation: rename, then a new file; the old file's unterminated last line is emitted (nothing will complete it).
    fs.appendFileSync(log, 'A-last'); expected.push('A-last');
    fs.renameSync(log, log + '.1');
    write(30, 'B');
    await waitFor(() => got.lines.length === 81);
    // Restart: stop, append while down, start from the marker.
    await src.stop();
    all.push(...got.lines);
    write(20, 'C');
    let marker = got.markers.at(-1)!;
    ({ src, got } = run('exec', { command: `tail -F ${log}`, batchSize: '7' }, d, marker));
    await src.start();
    await waitFor(() => got.lines.length === 20);
    // Rotation while stopped: the old inode is drained from the saved position first.
    await src.stop();
    all.push(...got.lines);
    write(10, 'D');
    fs.renameSync(log, log + '.2');
    write(10, 'E');
    marker = got.markers.at(-1)!;
    ({ src, got } = run('exec', { command: `tail -F ${log}`, batchSize: '7' }, d, marker));
    await src.start();
    await waitFor(() => got.lines.length === 20);
    // Truncation (copytruncate): read again from the start.
    fs.truncateSync(log, 0);
    await new Promise((r) => setTimeout(r, 300));
    write(5, 'F');
    await waitFor(() => got.lines.length === 25);
    await src.stop();
    all.push(...got.lines);
    expect(all).toEqual(expected);
  });

  it('two rotations between polls, and two while stopped: the middle files are still read, in order', async () => {
    const d = tmp();
    const log = path.join(d, 'x.log');
    const expected: string[] = [];
    let k = 0;
    const write = (n: number) => { const l = Array.from({ length: n }, () => `line-${k++}`); expected.push(...l); fs.appendFileSync(log, l.join('\n') + '\n'); };
    let rot = 0;
    // Births are compared strictly (ms, statx): leave a few ms between rotations, as real rotations do.
    // Synchronous, so the follower cannot look in between (its directory watch only fires between turns).
    const rotate = () => { const until = Date.now() + 10; while (Date.now() < until); fs.renameSync(log, `${log}.${++rot}`); };
    write(5);
    let { src, got } = run('TAILDIR', { filegroups: 'g', 'filegroups.g': log, pollDelay: '300' }, d);
    await src.start();
    await waitFor(() => got.lines.length === 5);
    rotate(); write(3); rotate(); write(4); rotate(); write(2);
    await waitFor(() => got.lines.length === 14);
    await src.stop();
    const all = [...got.lines];
    const marker = got.markers.at(-1)!;
    rotate(); write(6); rotate(); write(7);
    ({ src, got } = run('TAILDIR', { filegroups: 'g', 'filegroups.g': log, pollDelay: '50' }, d, marker));
    await src.start();
    await waitFor(() => got.lines.length === 13);
    await src.stop();
    all.push(...got.lines);
    expect(all).toEqual(expected);
  });

  it('TAILDIR follows every file of a filegroup with its headers and can skip to the end', async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'a.log'), 'old-a\n');
    fs.writeFileSync(path.join(d, 'b.log'), 'old-b\n');
    fs.writeFileSync(path.join(d, 'c.txt'), 'not matched\n');
    const f = findComponent('source', 'TAILDIR') as SourceFactory<unknown>;
    const got: { body: string; h: Record<string, string> }[] = [];
    let marker = '';
    const src = f.create(f.schema.parse({ filegroups: 'g', 'filegroups.g': path.join(d, '.*\\.log'), 'headers.g.kind': 'drv', skipToEnd: 'true', pollDelay: '20' }), async (events, m) => {
      got.push(...asEvents(events).map((e) => ({ body: e.body.toString(), h: e.headers })));
      marker = m;
    }, { agent: 'a', name: 't', dataDir: d, lakeRoot: '', stateDir: '', brokers: [], deadLetters: { write() {} }, log: createLogger('test'), resume: undefined });
    await src.start();
    // Append only once both files are open at their end: the follower commits each opening position.
    const opened = () => { try { return Object.keys((JSON.parse(marker) as { files: object }).files).length === 2; } catch { return false; } };
    await waitFor(opened);
    expect(Object.values((JSON.parse(marker) as { files: Record<string, { pos: number }> }).files).map((p) => p.pos)).toEqual([6, 6]);
    fs.appendFileSync(path.join(d, 'a.log'), 'new-a\n');
    fs.appendFileSync(path.join(d, 'b.log'), 'new-b\n');
    await waitFor(() => got.length === 2);
    await src.stop();
    expect(got.map((g) => g.body).sort()).toEqual(['new-a', 'new-b']);
    expect(got[0].h).toEqual({ kind: 'drv' });
  });
});

describe('exec with another command', () => {
  it('runs it as a child process, one event per output line', async () => {
    const d = tmp();
    const { src, got } = run('exec', { command: "printf 'x\\ny\\nz'", batchSize: '2', batchTimeout: '50' }, d);
    await src.start();
    await waitFor(() => got.lines.length === 3);
    await src.stop();
    expect(got.lines).toEqual(['x', 'y', 'z']);
  });
});
