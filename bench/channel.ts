/**
 * `node --import tsx bench/channel.ts` — the collection agent's channels on the hot path of a status day:
 * 2,160,000 events (BENCH_EVENTS) of ~90-byte bodies, put in batches of 1000 (one header object with two
 * headers shared by each batch, as the interceptors make it) and taken in batches of 10,000, through the
 * file channel and the memory channel. Two shapes:
 *
 * - pipeline: a putter and a taker run concurrently, as a source and a sink in the agent do (the file
 *   channel's group commit lets their fsyncs overlap);
 * - put-then-take: every event put first (capacity raised to hold the day), then every event taken.
 *
 * events/s = events / wall time of the whole shape (each event is put once and taken once). Baselines in
 * the same run: the memory channel, and the disk alone (the same bytes appended with one fdatasync per
 * 1000-event batch — the floor the file channel cannot beat while it syncs every commit).
 * Target (issue #4): file channel ≥ 1.5 M events/s put+take.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileChannel, MemoryChannel } from '../src/collect/channel/index.ts';
import type { Channel, CollectEvent } from '../src/collect/types.ts';

const N = Number(process.env.BENCH_EVENTS ?? 2_160_000);
const PUT_BATCH = 1000;
const TAKE_BATCH = 10_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bench-channel-'));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const log = (s: string) => process.stdout.write(s + '\n');

/** 100 distinct batches cycled (bodies are slices of one buffer, as a source's read buffer would give). */
function makeBatches(): CollectEvent[][] {
  const out: CollectEvent[][] = [];
  for (let b = 0; b < 100; b++) {
    const headers = { timestamp: String(1704067200000 + b), logType: 'car-batch-log' };
    const text = Array.from({ length: PUT_BATCH }, (_, i) =>
      `20240101${String(b).padStart(2, '0')}${String(i % 10000).padStart(4, '0')},A${String(i % 100).padStart(4, '0')},80,80,79,81,1,1,1,1,1,1,3,1,1,9,1,20240101,A01,120.5,37.25,B,N0000000`).join('\n');
    const buf = Buffer.from(text);
    const evs: CollectEvent[] = [];
    let start = 0;
    for (let i = 0; i < PUT_BATCH; i++) {
      let end = buf.indexOf(10, start);
      if (end < 0) end = buf.length;
      evs.push({ headers, body: buf.subarray(start, end) });
      start = end + 1;
    }
    out.push(evs);
  }
  return out;
}

const batches = makeBatches();
const bodyBytes = batches[0].reduce((s, e) => s + e.body.length, 0) / PUT_BATCH;

async function putAll(ch: Channel, n: number): Promise<void> {
  for (let sent = 0, b = 0; sent < n; sent += PUT_BATCH, b++) {
    const evs = batches[b % batches.length].slice(0, Math.min(PUT_BATCH, n - sent));
    for (;;) {
      if (ch.capacity - ch.size() >= evs.length) {
        const tx = ch.transaction();
        try {
          tx.put(evs);
        } catch {
          await tx.rollback();
          await ch.waitForSpace(evs.length, 1000);
          continue;
        }
        await tx.commit({ owner: 'source', value: String(sent + evs.length) });
        break;
      }
      await ch.waitForSpace(evs.length, 1000);
    }
  }
}

async function takeAll(ch: Channel, n: number): Promise<void> {
  let taken = 0;
  while (taken < n) {
    const tx = ch.transaction();
    const got = tx.take(TAKE_BATCH);
    if (got.length === 0) {
      await tx.rollback();
      await ch.waitForEvents(1000);
      continue;
    }
    taken += got.length;
    await tx.commit({ owner: 'sink', value: String(taken) });
  }
}

interface Figures { seconds: number; putSeconds?: number; takeSeconds?: number }

async function pipeline(ch: Channel): Promise<Figures> {
  const t0 = performance.now();
  await Promise.all([putAll(ch, N), takeAll(ch, N)]);
  return { seconds: (performance.now() - t0) / 1000 };
}

async function putThenTake(ch: Channel): Promise<Figures> {
  const t0 = performance.now();
  await putAll(ch, N);
  const t1 = performance.now();
  await takeAll(ch, N);
  const t2 = performance.now();
  return { seconds: (t2 - t0) / 1000, putSeconds: (t1 - t0) / 1000, takeSeconds: (t2 - t1) / 1000 };
}

function fileChannel(name: string, capacity: number): FileChannel {
  return new FileChannel(name, {
    checkpointDir: path.join(dir, name, 'checkpoint'),
    dataDir: path.join(dir, name, 'data'),
    capacity,
    transactionCapacity: TAKE_BATCH,
    minimumRequiredSpace: 0,
  });
}

function report(label: string, f: Figures, mb?: number): void {
  const parts = [`${label.padEnd(34)} ${fmt(N / f.seconds).padStart(10)} events/s put+take  (${f.seconds.toFixed(2)} s)`];
  if (f.putSeconds !== undefined && f.takeSeconds !== undefined) parts.push(`put ${fmt(N / f.putSeconds)}/s, take ${fmt(N / f.takeSeconds)}/s`);
  if (mb !== undefined) parts.push(`${mb.toFixed(1)} MB written`);
  log(parts.join('  '));
}

/** The disk alone: the same bytes (~one put record per batch) appended, fdatasync after each batch. */
function diskFloor(): number {
  const file = path.join(dir, 'floor');
  const fd = fs.openSync(file, 'w');
  const rec = Buffer.alloc(Math.round(PUT_BATCH * (bodyBytes + 8)), 'x');
  const t0 = performance.now();
  for (let sent = 0; sent < N; sent += PUT_BATCH) {
    fs.writeSync(fd, rec);
    fs.fdatasyncSync(fd);
  }
  const s = (performance.now() - t0) / 1000;
  fs.closeSync(fd);
  fs.rmSync(file);
  return s;
}

try {
  log(`channel bench: ${fmt(N)} events of ${bodyBytes.toFixed(0)}-byte bodies, put in batches of ${PUT_BATCH}, taken in batches of ${TAKE_BATCH}`);
  const floor = diskFloor();
  log(`${'disk floor (append + fdatasync/batch)'.padEnd(34)} ${fmt(N / floor).padStart(10)} events/s          (${floor.toFixed(2)} s for ${N / PUT_BATCH} syncs)`);

  for (const [label, shape, capacity] of [
    ['pipeline', pipeline, 1_000_000],
    ['put-then-take', putThenTake, N],
  ] as const) {
    const mem = new MemoryChannel(`mem-${label}`, { capacity, transactionCapacity: TAKE_BATCH });
    await mem.start();
    report(`memory channel, ${label}`, await shape(mem));
    await mem.stop();

    const file = fileChannel(`file-${label}`, capacity);
    await file.start();
    const f = await shape(file);
    const mb = file.bytesWritten() / 1048576;
    const sync = file.syncFigures();
    const t0 = performance.now();
    await file.stop();
    report(`file channel, ${label}`, f, mb);
    log(`  ${fmt(sync.records)} commits, ${fmt(sync.syncs)} fdatasync calls (${(f.seconds * 1000 / sync.syncs).toFixed(2)} ms of wall time per sync)`);
    log(`  stop (checkpoint) ${(performance.now() - t0).toFixed(0)} ms`);
  }

  // Restart cost with a full channel: 1,000,000 live events replayed from checkpoint + log.
  const full = fileChannel('file-replay', 1_000_000);
  await full.start();
  await putAll(full, 1_000_000);
  await full.stop();
  const again = fileChannel('file-replay', 1_000_000);
  const t0 = performance.now();
  await again.start();
  const replaySeconds = (performance.now() - t0) / 1000;
  log(`${'file channel, replay of 1,000,000'.padEnd(34)} ${fmt(again.size() / replaySeconds).padStart(10)} events/s          (${replaySeconds.toFixed(2)} s, `
    + `process RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB holding them)`);
  await again.stop();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
