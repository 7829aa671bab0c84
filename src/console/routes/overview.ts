/**
 * Overview (the Cloudera Manager page): components, live charts of the platform's own metrics kept for
 * one hour in memory (a sample every 5 s), disk use of the data directory, host CPU and memory.
 *
 *   GET  /api/overview                      components, host, disk, latest rates
 *   GET  /api/overview/series?minutes=60    the kept samples: t[], and one array per series
 *   POST /api/components/:name/restart      (token) the supervisor restarts it
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { HttpError, type Router, errorMessage, sumSamples } from '../../core/index.ts';
import type { ConsoleContext } from '../context.ts';

/** The series the page charts: name → metric summed over every label (counters become rates). */
export const SERIES = {
  'sim records/s': { metric: 'smartcar_sim_records_total', rate: true },
  'agent events/s': { metric: 'smartcar_collect_source_events_accepted_total', rate: true },
  'broker appends/s': { metric: 'smartcar_broker_records_produced_total', rate: true },
  'stream records/s': { metric: 'smartcar_stream_records_consumed_total', rate: true },
  'table rows/s': { metric: 'smartcar_stream_rows_stored_total', rate: true },
  'alerts/s': { metric: 'smartcar_stream_alerts_total', rate: true },
  'dead letters/s': { metric: 'smartcar_stream_dead_letters_total', rate: true },
  'consumer lag': { metric: 'smartcar_stream_consumer_lag', rate: false },
} as const;

const SAMPLE_MS = 5000;
const KEEP = 3600_000 / SAMPLE_MS;

interface Sample { t: number; values: Map<string, number> }

export class MetricsHistory {
  private readonly samples: Sample[] = [];
  private timer?: NodeJS.Timeout;
  private cpuPrev = os.cpus().map((c) => c.times);
  cpu = 0;

  constructor(private readonly source: () => Promise<string>, private readonly intervalMs = SAMPLE_MS) {}

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async sample(): Promise<void> {
    const cur = os.cpus().map((c) => c.times);
    let busy = 0, total = 0;
    cur.forEach((c, i) => {
      const p = this.cpuPrev[i] ?? c;
      const b = c.user + c.nice + c.sys + c.irq - (p.user + p.nice + p.sys + p.irq);
      busy += b;
      total += b + c.idle - p.idle;
    });
    this.cpuPrev = cur;
    if (total > 0) this.cpu = busy / total;
    let text: string;
    try {
      text = await this.source();
    } catch {
      return; // A missed sample is a gap in the chart.
    }
    this.samples.push({ t: Date.now(), values: sumSamples(text) });
    if (this.samples.length > KEEP + 1) this.samples.splice(0, this.samples.length - KEEP - 1);
  }

  /** One point per interval between kept samples: rates for counters, the value for gauges. */
  series(minutes: number): { t: number[]; series: Record<string, (number | null)[]> } {
    const since = Date.now() - minutes * 60_000;
    const t: number[] = [];
    const series: Record<string, (number | null)[]> = Object.fromEntries(Object.keys(SERIES).map((k) => [k, []]));
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1], b = this.samples[i];
      if (b.t < since) continue;
      t.push(b.t);
      const dt = (b.t - a.t) / 1000;
      for (const [name, s] of Object.entries(SERIES)) {
        const vb = b.values.get(s.metric), va = a.values.get(s.metric);
        if (vb === undefined) series[name].push(null);
        else if (!s.rate) series[name].push(vb);
        else series[name].push(va === undefined || vb < va ? null : Math.round(((vb - va) / dt) * 10) / 10);
      }
    }
    return { t, series };
  }

  latest(): Record<string, number | null> {
    const s = this.series(1);
    return Object.fromEntries(Object.entries(s.series).map(([k, v]) => [k, v.at(-1) ?? null]));
  }
}

interface DiskUse { bytes: number; files: number; byDir: Record<string, number>; at: number }
let diskCache: { root: string; use: DiskUse } | undefined;

async function walkSize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0, files = 0;
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return { bytes, files };
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const s = await walkSize(p);
      bytes += s.bytes;
      files += s.files;
    } else if (e.isFile()) {
      try {
        bytes += (await fs.promises.stat(p)).size;
        files++;
      } catch {
        // Gone between readdir and stat (a rolled file): not counted.
      }
    }
  }
  return { bytes, files };
}

/** Disk use of the data directory by top-level folder, recomputed at most every 30 s. */
let diskRunning: Promise<DiskUse> | undefined;

/** Disk use, from the last walk when there is one (a stale one starts a new walk in the background). */
export async function diskUse(root: string): Promise<DiskUse> {
  if (diskCache?.root === root) {
    if (Date.now() - diskCache.use.at > 30_000) diskRunning ??= walkRoot(root).finally(() => (diskRunning = undefined));
    return diskCache.use;
  }
  diskRunning ??= walkRoot(root).finally(() => (diskRunning = undefined));
  return diskRunning;
}

async function walkRoot(root: string): Promise<DiskUse> {
  const byDir: Record<string, number> = {};
  let bytes = 0, files = 0;
  for (const e of await fs.promises.readdir(root, { withFileTypes: true }).catch(() => [])) {
    const s = e.isDirectory() ? await walkSize(path.join(root, e.name)) : { bytes: (await fs.promises.stat(path.join(root, e.name)).catch(() => ({ size: 0 }))).size, files: 1 };
    byDir[e.name] = s.bytes;
    bytes += s.bytes;
    files += s.files;
  }
  const use = { bytes, files, byDir, at: Date.now() };
  diskCache = { root, use };
  return use;
}

const componentSchema = z.object({
  name: z.string(), phase: z.string(), pid: z.number().optional(), restarts: z.number(), upSeconds: z.number().optional(),
  error: z.string().optional(), lastExit: z.object({ code: z.number().nullable(), signal: z.string().nullable(), at: z.number() }).optional(),
});

export const overviewSchema = z.object({
  data: z.string(),
  supervised: z.boolean(),
  components: z.array(componentSchema),
  componentsError: z.string().optional(),
  host: z.object({ hostname: z.string(), cpus: z.number(), cpu: z.number(), load: z.array(z.number()), memTotal: z.number(), memFree: z.number(), uptime: z.number() }),
  disk: z.object({ bytes: z.number(), files: z.number(), byDir: z.record(z.string(), z.number()), free: z.number().optional() }),
  latest: z.record(z.string(), z.number().nullable()),
});

type ComponentRow = z.infer<typeof componentSchema>;

/**
 * The components' state, refreshed every 2 s in the background while pages ask for it, so the overview
 * answers from memory (asking every child's /health takes ~100 ms idle and seconds on a loaded host).
 */
export class ComponentsSnapshot {
  private value?: { components: ComponentRow[]; error?: string; at: number };
  private refreshing?: Promise<void>;
  private lastAsked = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly ctx: ConsoleContext) {}

  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        if (!this.ctx.o.platform) {
          this.value = { components: [], error: 'not supervised: this console runs without smartcar up (smartcar console)', at: Date.now() };
          return;
        }
        const comps = await this.ctx.o.platform.components();
        this.value = { components: Object.entries(comps).map(([name, c]) => ({ name, ...c })), at: Date.now() };
      } catch (err) {
        this.value = { components: this.value?.components ?? [], error: errorMessage(err), at: Date.now() };
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  async get(): Promise<{ components: ComponentRow[]; error?: string }> {
    this.lastAsked = Date.now();
    if (!this.timer) {
      this.timer = setInterval(() => {
        if (Date.now() - this.lastAsked > 60_000) return;
        void this.refresh();
        void diskUse(this.ctx.root);
      }, 2000);
      this.timer.unref();
    }
    if (!this.value) await this.refresh();
    return this.value!;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export function overviewRoutes(router: Router, ctx: ConsoleContext, history: MetricsHistory, snapshot: ComponentsSnapshot): void {
  router.route({
    method: 'GET', path: '/api/overview', summary: 'components, host, disk use and the latest rates', response: overviewSchema,
    handler: async () => {
      const { components, error: componentsError } = await snapshot.get();
      const disk = await diskUse(ctx.root);
      let free: number | undefined;
      try {
        const st = await fs.promises.statfs(ctx.root);
        free = st.bavail * st.bsize;
      } catch {
        free = undefined;
      }
      return {
        data: ctx.root, supervised: !!ctx.o.platform, components, componentsError,
        host: { hostname: os.hostname(), cpus: os.cpus().length, cpu: history.cpu, load: os.loadavg(), memTotal: os.totalmem(), memFree: os.freemem(), uptime: os.uptime() },
        disk: { bytes: disk.bytes, files: disk.files, byDir: disk.byDir, free },
        latest: history.latest(),
      };
    },
  });
  router.route({
    method: 'GET', path: '/api/overview/series', summary: 'the last hour of samples (rates per second, lag)',
    query: z.object({ minutes: z.coerce.number().int().min(1).max(60).default(60) }),
    response: z.object({ t: z.array(z.number()), series: z.record(z.string(), z.array(z.number().nullable())) }),
    handler: async ({ query }) => history.series(query.minutes),
  });
  router.route({
    method: 'POST', path: '/api/components/:name/restart', summary: 'restart one component',
    response: z.object({ restarting: z.string() }),
    handler: async ({ params }) => {
      if (!ctx.o.platform) throw new HttpError(409, 'no supervisor: restart works under smartcar up');
      const known = await ctx.o.platform.components();
      if (!known[params.name]) throw new HttpError(404, `no component '${params.name}' (known: ${Object.keys(known).join(', ')})`);
      await ctx.o.platform.restart(params.name);
      return { restarting: params.name };
    },
  });
}
