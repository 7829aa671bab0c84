/**
 * One stream worker of `bench:stream`'s group runs (its own process, so two workers use two cores):
 * argv = brokers topic group tableKind target (an LMDB path or a PostgreSQL URL) schema redisUrl.
 * Opens its stores, says `ready`, starts the topology on `go`, reports `{ stored, consumed }` every 100 ms (the
 * bench's progress: an IPC message costs nothing next to counting the table), and stops on `stop`.
 * A failure is reported as `{ error }` and ends the process, so the bench never waits on a dead worker.
 */
import { createBus } from '../src/bus/index.ts';
import { openTableStore } from '../src/table/index.ts';
import { openHotStore } from '../src/hot/index.ts';
import { startTopology, type Topology } from '../src/stream/index.ts';
import { SHIPPED_RULES } from '../src/stream/run.ts';

const [brokers, topic, group, kind, target, schema, redisUrl] = process.argv.slice(2);
const fail = (err: unknown) => {
  process.send!({ error: err instanceof Error ? err.message : String(err) }, () => process.exit(1));
};
const bus = createBus({ brokers: brokers.split(','), clientId: `bench-worker-${process.pid}` });
const store = kind === 'lmdb' ? await openTableStore({ kind: 'lmdb', path: target }) : await openTableStore({ kind: 'postgres', url: target, schema });
const hot = await openHotStore({ kind: 'redis', url: redisUrl });
let topo: Topology | undefined;
let timer: NodeJS.Timeout | undefined;
process.on('message', (m: string) => {
  if (m === 'go') {
    startTopology({ bus, table: store, hot, rulesDir: SHIPPED_RULES, topic, groupId: group, idleCloseMs: 60_000, sessionTimeoutMs: 6000 }).then((t) => {
      topo = t;
      timer = setInterval(() => process.send!({ stored: t.stats().stored, consumed: t.stats().consumed }), 100);
      t.done.catch(fail);
    }, fail);
  } else if (m === 'stop') {
    clearInterval(timer);
    void (async () => {
      await topo?.stop();
      await store.close();
      await hot.close();
      await bus.close();
      process.send!({ stopped: true }, () => process.exit(0));
    })().catch(fail);
  }
});
// The bench gone (killed, or its IPC channel closed): nothing is left to report to.
process.on('disconnect', () => process.exit(2));
process.send!('ready');
