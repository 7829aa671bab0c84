/**
 * The broker's topics: for each, its partition logs (log.ts), with the topic list kept in
 * `<data>/topics.json` (written to a temporary file and renamed, so a crash leaves the old or the new
 * list). Fetch requests that found too little data wait here until a produce appends to one of their
 * partitions, or their max wait runs out.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/index.ts';
import { PartitionLog } from './log.ts';

export interface StorageOptions {
  segmentBytes: number;
  retentionMs: number;
  retentionBytes: number;
}

interface Waiter { done: () => void }

export class Storage {
  readonly topics = new Map<string, PartitionLog[]>();
  private readonly waiters = new Map<PartitionLog, Set<Waiter>>();
  private readonly file: string;

  constructor(private readonly dir: string, private readonly o: StorageOptions, private readonly log: Logger) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, 'topics.json');
    const known = fs.existsSync(this.file) ? (JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, number>) : {};
    for (const [t, n] of Object.entries(known)) this.open(t, n);
  }

  private open(topic: string, partitions: number): void {
    const logs: PartitionLog[] = [];
    for (let p = 0; p < partitions; p++) {
      const l = new PartitionLog(path.join(this.dir, `${topic}-${p}`), this.o);
      if (l.truncatedBytes) this.log.warn({ topic, partition: p, bytes: l.truncatedBytes }, 'truncated a torn tail left by a crash');
      logs.push(l);
    }
    this.topics.set(topic, logs);
  }

  create(topic: string, partitions: number): void {
    this.open(topic, partitions);
    const all = Object.fromEntries([...this.topics].map(([t, l]) => [t, l.length]));
    const tmp = this.file + '.tmp';
    fs.writeFileSync(tmp, JSON.stringify(all));
    fs.renameSync(tmp, this.file);
  }

  wait(logs: PartitionLog[], ms: number): Promise<void> {
    return new Promise((resolve) => {
      const w: Waiter = {
        done: () => {
          clearTimeout(timer);
          for (const l of logs) this.waiters.get(l)?.delete(w);
          resolve();
        },
      };
      const timer = setTimeout(w.done, ms);
      for (const l of logs) {
        let s = this.waiters.get(l);
        if (!s) this.waiters.set(l, (s = new Set()));
        s.add(w);
      }
    });
  }

  notify(l: PartitionLog): void {
    const s = this.waiters.get(l);
    if (s) for (const w of [...s]) w.done();
  }
}

