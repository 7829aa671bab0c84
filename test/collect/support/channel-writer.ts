/**
 * Child process for the kill -9 test: opens a file channel and, until killed, puts numbered events
 * (`n<number>`) in batches and sometimes takes some. It reports on stdout, one line each:
 *
 *   ready
 *   p <first> <last>      a put of events first..last is about to commit (marker source = last)
 *   P <first> <last>      … and that commit resolved
 *   t <count>             a take of <count> events is about to commit (marker sink = its last number)
 *   T <count> <last>      … and that commit resolved
 *
 * Usage: node --import tsx channel-writer.ts <checkpointDir> <dataDir> <firstNumber> <seed>
 */
import { FileChannel } from '../../../src/collect/channel/index.ts';
import type { CollectEvent } from '../../../src/collect/types.ts';

const [checkpointDir, dataDir, firstArg, seedArg] = process.argv.slice(2);
let next = Number(firstArg);
let seed = Number(seedArg) >>> 0;
const rand = (n: number) => {
  // xorshift32: reproducible per trial seed.
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed % n;
};

const out = (line: string) => process.stdout.write(`${line}\n`);

const ch = new FileChannel('crashy', {
  checkpointDir,
  dataDir,
  capacity: 100_000,
  transactionCapacity: 500,
  // Small files and frequent checkpoints: the kill lands during rolls, checkpoints and deletions too.
  maxFileSize: 16 * 1024,
  checkpointInterval: 40,
  minimumRequiredSpace: 0,
});
await ch.start();
out('ready');

for (;;) {
  // Mostly puts, but never more than 20,000 events held (a full channel would throw in this loop).
  if ((rand(4) !== 0 && ch.size() < 20_000) || ch.size() === 0) {
    const n = 1 + rand(200);
    const headers = { batch: String(next), logType: 'car-batch-log' };
    const evs: CollectEvent[] = [];
    for (let i = 0; i < n; i++) evs.push({ headers, body: Buffer.from(`n${next + i}`) });
    const first = next;
    const last = next + n - 1;
    next += n;
    const tx = ch.transaction();
    tx.put(evs);
    out(`p ${first} ${last}`);
    await tx.commit({ owner: 'source', value: String(last) });
    out(`P ${first} ${last}`);
  } else {
    const tx = ch.transaction();
    const got = tx.take(1 + rand(300));
    if (got.length === 0) { await tx.rollback(); continue; }
    const last = got[got.length - 1].body.toString().slice(1);
    out(`t ${got.length}`);
    await tx.commit({ owner: 'sink', value: last });
    out(`T ${got.length} ${last}`);
  }
}
