/**
 * Dead letters of the collection agent: events a component cannot process (e.g. the lake sink's path
 * needs a `timestamp` header the event lacks) are written here instead of stalling the channel.
 *
 *   <data>/dead-letter/collect-<agent>.jsonl
 *   {"time":"2024-01-01T00:00:00.000Z","component":"k1","reason":"…","headers":{…},"body":"…"}
 *
 * One JSON line per event, appended synchronously (dead letters are rare; the write must be done before
 * the component commits its take, so a crash can at worst repeat a dead letter, never lose one). A body
 * that is not valid UTF-8 is written as `bodyBase64` instead of `body`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { counter } from '../core/index.ts';
import type { CollectEvent, DeadLetters } from './types.ts';

const deadLettersTotal = counter('smartcar_collect_dead_letters_total', 'Events written to the collection dead-letter file', ['agent', 'component']);

export class FileDeadLetters implements DeadLetters {
  readonly file: string;
  /** Events written since this object was created. */
  count = 0;

  constructor(dataDir: string, readonly agent: string) {
    this.file = path.join(dataDir, 'dead-letter', `collect-${agent}.jsonl`);
  }

  write(component: string, reason: string, events: CollectEvent[]): void {
    const time = new Date().toISOString();
    let out = '';
    // A reason without events (e.g. a quarantined spool file: the file itself is set aside) is one record.
    if (!events.length) out = JSON.stringify({ time, component, reason }) + '\n';
    for (const e of events) {
      const text = e.body.toString('utf8');
      const body = Buffer.byteLength(text) === e.body.length && !text.includes('\uFFFD') ? { body: text } : { bodyBase64: e.body.toString('base64') };
      out += JSON.stringify({ time, component, reason, headers: e.headers, ...body }) + '\n';
    }
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.appendFileSync(this.file, out);
    } catch (err) {
      // The caller must not commit events it could neither deliver nor set aside: let it roll back.
      throw new Error(`cannot write dead letters of ${component} to ${this.file}: ${(err as Error).message}; check the data directory is writable`);
    }
    this.count += events.length;
    deadLettersTotal.inc({ agent: this.agent, component }, events.length);
  }
}
