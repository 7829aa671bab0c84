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
import { HttpError, type Router } from '../../core/http.ts';
import { errorMessage } from '../../core/errors.ts';
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

/** Sums of samples by metric name (all labels added up), from Prometheus text 0.0.4. */
export function sumByName(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[2]);
    if (Number.isFinite(v)) out.set(m[1], (out.get(m[1]) ?? 0) + v);
  }
  return out;
}

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
    this.samples.push({ t: Date.now(), values: sumByName(text) });
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
export async function diskUse(root: string): Promise<DiskUse> {
  if (diskCache?.root === root && Date.now() - diskCache.use.at < 30_000) return diskCache.use;
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

export function overviewRoutes(router: Router, ctx: ConsoleContext, history: MetricsHistory): void {
  router.route({
    method: 'GET', path: '/api/overview', summary: 'components, host, disk use and the latest rates', response: overviewSchema,
    handler: async () => {
      let components: z.infer<typeof componentSchema>[] = [];
      let componentsError: string | undefined;
      if (ctx.o.platform) {
        try {
          components = Object.entries(await ctx.o.platform.components()).map(([name, c]) => ({ name, ...c }));
        } catch (err) {
          componentsError = errorMessage(err);
        }
      } else componentsError = 'not supervised: this console runs without smartcar up (smartcar console)';
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
