/**
 * `npm run bench:sink` — the lake sink alone on one day of car status: 2,160,000 events of ~90 bytes
 * (BENCH_EVENTS), batches of 10,000, the seed's agent settings (path `/pilot-pjt/collect/%{logType}/
 * wrk_date=%Y%m%d`, per-event `timestamp` header, 64 MB rolls, fdatasync + marker commit per batch).
 * The channel is a bare array (no channel cost is measured). Baseline in the same run: the same bytes
 * written with one write + fdatasync per batch and no routing — the floor the sink can approach.
 * Prints wall time, events/s, MB/s and the process CPU time (main thread + zlib pool) of each, in two
 * rounds; quote the second.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { LakeSink, lakeSinkSchema } from '../src/collect/sink/index.ts';
import type { ComponentContext } from '../src/collect/registry.ts';
import { EventBatch } from '../src/collect/batch.ts';
import type { Channel, ChannelTransaction, CollectEvent, DeadLetters } from '../src/collect/types.ts';

const N = Number(process.env.BENCH_EVENTS ?? 2_160_000);
const BATCH = 10_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bench-sink-'));
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const log = (s: string) => process.stdout.write(s + '\n');

/** Status lines like the simulator's (~90 bytes), with the headers the seed's interceptors set. */
function day(): { events: CollectEvent[]; bytes: number } {
  const start = Date.UTC(2024, 0, 1);
  const events: CollectEvent[] = new Array(N);
  let bytes = 0;
  const shared = { logType: 'car-batch-log' };
  for (let i = 0; i < N; i++) {
    const ts = start + Math.floor((i / N) * 86_400_000);
    const body = Buffer.from(`20240101${String(100000 + (i % 86400)).slice(-6)},${String.fromCharCode(65 + (i % 26))}${String(i % 100).padStart(4, '0')},85,90,88,91,1,1,1,1,1,1,1,98,20240101`.padEnd(89, '0'));
    events[i] = { headers: { ...shared, timestamp: String(ts) }, body };
    bytes += body.length + 1;
  }
  return { events, bytes };
}

class ArrayChannel implements Channel {
  readonly name = 'bench';
  readonly capacity = Infinity;
  private pos = 0;
  private readonly markers = new Map<string, string>();
  constructor(private readonly events: CollectEvent[]) {}
  async start() {}
  async stop() {}
  transaction(): ChannelTransaction {
    let took = 0;
    const take = (max: number) => {
      const got = this.events.slice(this.pos, this.pos + max);
      this.pos += got.length;
      took = got.length;
      return got;
    };
    return {
      put: () => { throw new Error('read-only'); },
      take,
      takeBatches: (max) => {
        const got = take(max);
        return got.length ? [EventBatch.fromEvents(got)] : [];
      },
      commit: async (m) => { if (m) this.markers.set(m.owner, m.value); },
      rollback: async () => { this.pos -= took; },
    };
  }
  marker(owner: string) { return this.markers.get(owner); }
  size() { return this.events.length - this.pos; }
  async waitForEvents() {}
  async waitForSpace() {}
}

const gc = (globalThis as { gc?: () => void }).gc;

async function measure(name: string, bytes: number, run: () => Promise<void>): Promise<void> {
  gc?.(); // start each run without the previous one's garbage (npm script runs node with --expose-gc)
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  log(`${name.padEnd(34)} ${fmt(s, 2).padStart(6)} s  ${fmt(N / s).padStart(11)} events/s  ${fmt(bytes / 1e6 / s, 1).padStart(6)} MB/s  CPU ${fmt((cpu.user + cpu.system) / 1e6, 2)} s`);
}

const { events, bytes } = day();
log(`lake sink: ${fmt(N)} events, ${fmt(bytes / 1e6, 1)} MB, batches of ${fmt(BATCH)} (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''})`);

// Two rounds: the first also pays for the JIT warming up and the garbage of building the events.
for (const round of [1, 2]) {
  log(`round ${round}${round === 1 ? ' (warm-up)' : ''}`);
  await measure(`baseline: write+fdatasync/batch`, bytes, async () => {
    const fh = await fs.promises.open(path.join(dir, `baseline-${round}.log`), 'w');
    for (let i = 0; i < N; i += BATCH) {
      const slice = events.slice(i, i + BATCH);
      const parts: Buffer[] = [];
      for (const e of slice) parts.push(e.body, Buffer.from('\n'));
      await fh.write(Buffer.concat(parts));
      await fh.datasync();
    }
    await fh.close();
  });

  for (const fileType of ['DataStream', 'CompressedStream']) {
    const root = path.join(dir, `${fileType}-${round}`);
    const ctx: ComponentContext = {
      agent: 'bench', name: 'k1', dataDir: root, lakeRoot: path.join(root, 'lake'), stateDir: path.join(root, 'state'), brokers: [],
      deadLetters: { write: () => { throw new Error('unexpected dead letter'); } } satisfies DeadLetters, log: pino({ level: 'warn' }),
    };
    const cfg = lakeSinkSchema.parse({
      'hdfs.path': '/pilot-pjt/collect/%{logType}/wrk_date=%Y%m%d', 'hdfs.filePrefix': 'car-batch-log', 'hdfs.fileSuffix': '.log',
      'hdfs.batchSize': String(BATCH), 'hdfs.rollSize': String(64 * 1024 * 1024), 'hdfs.rollCount': '0', 'hdfs.rollInterval': '0',
      'hdfs.idleTimeout': '100', 'hdfs.timeZone': 'UTC', 'hdfs.fileType': fileType, ...(fileType === 'CompressedStream' ? { 'hdfs.codeC': 'gzip' } : {}),
    });
    const sink = new LakeSink(cfg, new ArrayChannel(events), ctx);
    await measure(`lake sink (${fileType === 'DataStream' ? 'text' : 'gzip'})`, bytes, async () => {
      await sink.start();
      while (await sink.process());
      await sink.stop();
    });
    const out = path.join(root, 'lake', 'collect', 'car-batch-log', 'wrk_date=20240101');
    const files = fs.readdirSync(out);
    const size = files.reduce((a, f) => a + fs.statSync(path.join(out, f)).size, 0);
    log(`${''.padEnd(34)} → ${files.length} files, ${fmt(size / 1e6, 1)} MB on disk${fileType === 'DataStream' && size !== bytes ? '  (SIZE MISMATCH)' : ''}`);
  }
}
fs.rmSync(dir, { recursive: true, force: true });
