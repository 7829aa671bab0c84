// The LMDB store's writer thread (a worker_threads Worker started by lmdb.ts). It does a batch's B-tree
// work off the event loop: the stream's process spends its main thread on the bus, parsing and CEP, and
// this thread inserts the rows, so the two cores share the pipeline. Plain JavaScript (no TypeScript):
// it starts the same way from the sources, the bundle and the tests.
//
// Job (main → writer), one message per putMany: { id, table, rows: ArrayBuffer (transferred), sets }
//   rows = count:u32le { keyLength:u16le key:utf8 valueLength:u32le value:MessagePack }*count
//   each value is a new row's compact bytes, and sets = [{ hash, columns }] the column sets they name
//   (lmdb-rows.ts): each is stored under `<table>/<hash>` in `__columns` in the same transaction, unless
//   already there; another column list under that key makes the job a merge.
// Reply (writer → main): { id } once the job's rows are committed; { id, merge: true } when one of its rows
//   already existed or one of its column sets' keys holds other columns: nothing of the job was written,
//   the main thread writes the whole batch with its merges (one transaction, so a batch stays atomic), and
//   sends { resume: true } when done — jobs after it wait, so batches are applied in the order they were sent.
//   { id, error: string } when the write failed.
// A job with `rows: null` is answered { id, merge: true } in its turn (the main thread writes it).
// { close: true } closes the thread's handle of the environment and ends the thread.
import { parentPort, workerData } from 'node:worker_threads';
import { ABORT, open } from 'lmdb';

const { path, maxDbs, mapSize } = workerData;
const root = open({ path, maxDbs, mapSize });
const dbs = new Map();
const columnSets = root.openDB({ name: '__columns' });
/** The column list stored under each `<table>/<hash>` key this thread has written or read. */
const knownSets = new Map();
const sameColumns = (a, b) => a.length === b.length && a.every((c, i) => c === b[i]);
const NO_OVERWRITE = { noOverwrite: true };
const queue = [];
let scheduled = false;
let paused = false;

function db(name) {
  let d = dbs.get(name);
  if (!d) dbs.set(name, (d = root.openDB({ name: `t:${name}`, encoding: 'binary' })));
  return d;
}

/** The job's rows as new rows, in one transaction; ABORT (nothing written) when one exists. */
function writeNew(job) {
  for (const { hash, columns } of job.sets) {
    const key = `${job.table}/${hash}`;
    const stored = knownSets.get(key) ?? columnSets.get(key);
    if (stored === undefined) columnSets.put(key, columns);
    else if (!sameColumns(stored, columns)) return ABORT;
  }
  const target = db(job.table);
  const buf = Buffer.from(job.rows);
  const count = buf.readUInt32LE(0);
  let pos = 4;
  for (let i = 0; i < count; i++) {
    const keyLength = buf.readUInt16LE(pos);
    const key = buf.toString('utf8', pos + 2, pos + 2 + keyLength);
    pos += 2 + keyLength;
    const valueLength = buf.readUInt32LE(pos);
    pos += 4;
    // Inside a synchronous transaction the put answers at once (`result` false: the key exists).
    if (target.put(key, buf.subarray(pos, pos + valueLength), NO_OVERWRITE).result !== true) return ABORT;
    pos += valueLength;
  }
  return undefined;
}

function writeQueued() {
  scheduled = false;
  while (queue.length && !paused) {
    const job = queue.shift();
    try {
      if (job.rows === null || root.transactionSync(() => writeNew(job)) === ABORT) {
        paused = true;
        parentPort.postMessage({ id: job.id, merge: true });
      } else {
        for (const { hash, columns } of job.sets) knownSets.set(`${job.table}/${hash}`, columns);
        parentPort.postMessage({ id: job.id });
      }
    } catch (err) {
      parentPort.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

function schedule() {
  if (!scheduled) {
    scheduled = true;
    setImmediate(writeQueued);
  }
}

parentPort.on('message', (msg) => {
  if (msg.close) {
    void root.close().then(() => process.exit(0));
  } else if (msg.resume) {
    paused = false;
    schedule();
  } else {
    queue.push(msg);
    schedule();
  }
});
