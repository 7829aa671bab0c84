/**
 * The main thread's side of the LMDB store's writer thread (lmdb-writer-thread.mjs, whose top comment
 * has the job and reply formats): encodes a putMany's new rows into one transferable buffer, hands it
 * over, and resolves once the writer committed them, or with `merge` when a row already existed and the
 * batch is the main thread's to write (then `resume()` lets the writer go on with the jobs after it).
 *
 * Why a thread: a stream worker's main thread decodes the bus, parses and runs CEP; the B-tree inserts
 * (a third of its time when done inline, `npm run bench:stream`'s profile) then run beside it on the
 * second core. LMDB allows one write transaction at a time per environment, across threads and
 * processes alike, so the writer and this thread's own transactions (merges, deletes) take turns.
 */
import { Worker } from 'node:worker_threads';
import { shippedPath } from '../core/index.ts';
import type { WriterJob } from './lmdb-rows.ts';

interface Pending { resolve(outcome: WriteOutcome): void; reject(err: Error): void }

export type WriteOutcome = 'written' | 'merge';

export class LmdbWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly inflight = new Set<Promise<WriteOutcome>>();
  private nextId = 1;
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  constructor(env: { path: string; maxDbs: number; mapSize: number }) {
    this.worker = new Worker(shippedPath('src', 'table', 'lmdb-writer-thread.mjs'), { workerData: env });
    // Only a job in flight keeps the process alive (see write()).
    this.worker.unref();
    this.worker.on('message', (msg: { id: number; merge?: boolean; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (this.pending.size === 0) this.worker.unref();
      if (msg.error !== undefined) p.reject(new Error(`LMDB write failed: ${msg.error}`));
      else p.resolve(msg.merge ? 'merge' : 'written');
    });
    this.worker.on('error', (err) => this.fail(err));
    this.exited = new Promise((resolve) => this.worker.once('exit', (code) => {
      this.fail(new Error(`the LMDB writer thread ended (exit code ${code})`));
      resolve();
    }));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  /**
   * Writes the encoded rows (lmdb-rows.ts encodeRows) into `table` as new rows, after every job sent
   * before. Resolves `written` once committed, or `merge` (nothing written) when a row existed or a column
   * set's hash names other columns: the caller then writes the batch itself and calls resume().
   * `rows: null` asks for `merge` in this job's turn.
   */
  write(table: string, rows: WriterJob | null): Promise<WriteOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    const job = new Promise<WriteOutcome>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, table, rows: rows?.rows ?? null, sets: rows?.sets ?? [] }, rows ? [rows.rows] : []);
    });
    this.inflight.add(job);
    const forget = () => { this.inflight.delete(job); };
    job.then(forget, forget);
    return job;
  }

  /** After a `merge` outcome: the jobs sent after that one may be written now. */
  resume(): void {
    if (!this.failure) this.worker.postMessage({ resume: true });
  }

  /** Waits for the jobs in flight, then closes the thread's handle of the environment. */
  async close(): Promise<void> {
    await Promise.allSettled(this.inflight);
    if (!this.failure) this.worker.postMessage({ close: true });
    this.worker.ref();
    await this.exited;
  }
}
