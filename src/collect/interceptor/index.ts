/**
 * Built-in interceptors (Flume's, plus the original's collect-day interceptor). Each sees a whole batch,
 * as an EventBatch (`interceptBatch`: no object per event); regex_extractor, which builds new headers per
 * event anyway, uses the per-event form of custom interceptors. Headers are shared between events of a batch when a source or interceptor sets
 * the same values on all of them; interceptors here keep it so (one replacement object per distinct input
 * object), which lets the file channel encode a batch's headers once.
 *
 * Custom interceptors register like the built-ins:
 *   registerComponent({ kind: 'interceptor', type: 'my_tag', aliases: [], schema: z.object({…}),
 *                       create: (cfg, ctx) => ({ intercept: (events) => events.filter(…) }) })
 */
import os from 'node:os';
import { z } from 'zod';
import { localDate8, parseTimestamp14 } from '../../core/index.ts';
import { registerComponent, type InterceptorFactory } from '../registry.ts';
import { bool, regexSource } from '../props.ts';
import { EventBatch, type Headers } from '../batch.ts';
import type { Interceptor } from '../types.ts';


const NL = Buffer.from('\n');

/** Maps each distinct headers object to one replacement, so shared headers stay shared: one call for shared headers, one per distinct object otherwise. */
function mapBatchHeaders(batch: EventBatch, fn: (h: Headers) => Headers): EventBatch {
  if (batch.sharedHeaders) {
    const h = batch.headers as Headers;
    const out = fn(h);
    return out === h ? batch : batch.withHeaders(out);
  }
  let lastIn: Headers | undefined;
  let lastOut: Headers | undefined;
  const per = (batch.headers as readonly Headers[]).map((h) => {
    if (h !== lastIn) {
      lastIn = h;
      lastOut = fn(h);
    }
    return lastOut!;
  });
  return batch.withHeaders(per);
}

/** An interceptor that only rewrites headers. */
function headerInterceptor(fn: () => (h: Headers) => Headers): Interceptor {
  return { interceptBatch: (batch) => mapBatchHeaders(batch, fn()) };
}

// ── timestamp ────────────────────────────────────────────────────────────────────────────────────
const timestampSchema = z.object({
  preserveExisting: bool(false).describe('Keep the header when an event already has it.'),
  headerName: z.string().default('timestamp').describe('The header to set.'),
}).strict().describe('Sets a header to the time of interception, in epoch milliseconds (what the hdfs sink\'s time escapes read).');
registerComponent({
  kind: 'interceptor', type: 'timestamp', aliases: ['org.apache.flume.interceptor.TimestampInterceptor$Builder'],
  schema: timestampSchema,
  create: (cfg: z.infer<typeof timestampSchema>): Interceptor => headerInterceptor(() => {
    const now = String(Date.now());
    return (h) => (cfg.preserveExisting && h[cfg.headerName] !== undefined ? h : { ...h, [cfg.headerName]: now });
  }),
} satisfies InterceptorFactory<z.infer<typeof timestampSchema>>);

// ── static ───────────────────────────────────────────────────────────────────────────────────────
const staticSchema = z.object({
  key: z.string().default('key').describe('Header name.'),
  value: z.string().default('value').describe('Header value.'),
  preserveExisting: bool(true).describe('Keep the header when an event already has it.'),
}).strict().describe('Sets a header to a fixed value.');
registerComponent({
  kind: 'interceptor', type: 'static', aliases: ['org.apache.flume.interceptor.StaticInterceptor$Builder'],
  schema: staticSchema,
  create: (cfg: z.infer<typeof staticSchema>): Interceptor => headerInterceptor(() => (h) => (cfg.preserveExisting && h[cfg.key] !== undefined ? h : { ...h, [cfg.key]: cfg.value })),
} satisfies InterceptorFactory<z.infer<typeof staticSchema>>);

// ── host ─────────────────────────────────────────────────────────────────────────────────────────
const hostSchema = z.object({
  hostHeader: z.string().default('host').describe('Header name.'),
  useIP: bool(true).describe('true: this host\'s first non-internal IPv4 address (127.0.0.1 if none); false: its host name.'),
  preserveExisting: bool(false).describe('Keep the header when an event already has it.'),
}).strict().describe('Sets a header to this host\'s address or name.');
function hostValue(useIP: boolean): string {
  if (!useIP) return os.hostname();
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
registerComponent({
  kind: 'interceptor', type: 'host', aliases: ['org.apache.flume.interceptor.HostInterceptor$Builder'],
  schema: hostSchema,
  create: (cfg: z.infer<typeof hostSchema>): Interceptor => {
    const host = hostValue(cfg.useIP);
    return headerInterceptor(() => (h) => (cfg.preserveExisting && h[cfg.hostHeader] !== undefined ? h : { ...h, [cfg.hostHeader]: host }));
  },
} satisfies InterceptorFactory<z.infer<typeof hostSchema>>);

// ── regex_filter ─────────────────────────────────────────────────────────────────────────────────
/**
 * A byte-level test for the common anchored digit prefix (`^\d{N}`, `^[0-9]{N}`: the seed's filter),
 * so the hot path never decodes a body to a string; any other regex runs on the decoded body.
 */
/** A test of the body `data[start, end)`; `bytewise`: it runs on the bytes, without decoding. */
export type RangeTest = ((data: Buffer, start: number, end: number) => boolean) & { bytewise: boolean };

export function compileRangeTest(source: string): RangeTest {
  const m = /^\^(?:\\d|\[0-9\])\{(\d+)\}$/.exec(source);
  if (m) {
    const n = Number(m[1]);
    return Object.assign((d: Buffer, start: number, end: number) => {
      if (end - start < n) return false;
      for (let i = start; i < start + n; i++) {
        const c = d[i];
        if (c < 48 || c > 57) return false;
      }
      return true;
    }, { bytewise: true });
  }
  const re = new RegExp(source);
  return Object.assign((d: Buffer, start: number, end: number) => re.test(d.toString('utf8', start, end)), { bytewise: false });
}

const filterSchema = z.object({
  regex: regexSource.default('.*').describe('Regular expression (JavaScript syntax) tested against the body; the seed\'s anchored digit prefix ^\\d{N} (or ^[0-9]{N}) is tested on the bytes, without decoding.'),
  excludeEvents: bool(false).describe('false: keep the events that match; true: drop them.'),
}).strict().describe('Keeps, or drops, the events whose body matches a regular expression. Dropped events are counted in smartcar_collect_interceptor_dropped_total.');
registerComponent({
  kind: 'interceptor', type: 'regex_filter', aliases: ['org.apache.flume.interceptor.RegexFilteringInterceptor$Builder'],
  schema: filterSchema,
  create: (cfg: z.infer<typeof filterSchema>): Interceptor => {
    const testRange = compileRangeTest(cfg.regex);
    const keep = !cfg.excludeEvents;
    return {
      interceptBatch(batch) {
        const { data, starts, ends } = batch;
        return batch.filter((i) => testRange(data, starts[i], ends[i]) === keep);
      },
    };
  },
} satisfies InterceptorFactory<z.infer<typeof filterSchema>>);

// ── regex_extractor ──────────────────────────────────────────────────────────────────────────────
const extractorSchema = z.object({
  regex: regexSource.describe('Regular expression (JavaScript syntax) run on the body; capture group i goes to the i-th serializer. A body that does not match is left unchanged.'),
  serializers: z.string().describe('Space-separated serializer names s, each with serializers.<s>.name = the header to set and serializers.<s>.type = default (the group as is) or Flume\'s RegexExtractorInterceptorMillisSerializer (a yyyyMMddHHmmss group becomes epoch milliseconds; serializers.<s>.pattern is accepted and ignored: that 14-digit form is assumed).'),
}).loose().describe('Copies capture groups of a regular expression over the body into headers.');
type ExtractorConfig = z.infer<typeof extractorSchema>;
registerComponent({
  kind: 'interceptor', type: 'regex_extractor', aliases: ['org.apache.flume.interceptor.RegexExtractorInterceptor$Builder'],
  dynamicKeys: /^serializers\.[^.]+\.(name|type|pattern)$/,
  schema: extractorSchema,
  create: (cfg: ExtractorConfig): Interceptor => {
    const re = new RegExp(cfg.regex);
    const raw = cfg as Record<string, string>;
    const sers = cfg.serializers.split(/\s+/).filter(Boolean).map((s) => {
      const name = raw[`serializers.${s}.name`];
      if (!name) throw new Error(`regex_extractor: serializers.${s}.name is missing`);
      const type = raw[`serializers.${s}.type`] ?? 'default';
      const millis = /Millis/i.test(type);
      return { name, millis };
    });
    return {
      intercept: (events) => {
        for (const e of events) {
          const m = re.exec(e.body.toString('utf8'));
          if (!m) continue;
          const h = { ...e.headers };
          sers.forEach((s, i) => {
            const v = m[i + 1];
            if (v === undefined) return;
            // The millis serializer turns a captured yyyyMMddHHmmss timestamp into epoch millis.
            h[s.name] = s.millis ? String(parseTimestamp14(v.slice(0, 14))) : v;
          });
          e.headers = h;
        }
        return events;
      },
    };
  },
} satisfies InterceptorFactory<ExtractorConfig>);

// ── collect_day (the original's CollectDayInterceptor: appends `,<yyyyMMdd>`, the processing date, to every line)
const collectDaySchema = z.object({
  separator: z.string().default(',').describe('Our addition: the text put before the date.'),
}).strict().describe('The seed\'s CollectDayInterceptor: appends the processing date, <separator><yyyyMMdd> in the agent\'s local time zone, to every body.');
registerComponent({
  kind: 'interceptor', type: 'collect_day', aliases: ['com.wikibook.bigdata.smartcar.flume.CollectDayInterceptor$Builder', 'collect-day'],
  schema: collectDaySchema,
  create: (cfg: z.infer<typeof collectDaySchema>): Interceptor => ({
    interceptBatch(batch) {
      // One buffer: each body, the suffix and a newline (so sinks write runs of lines as they are).
      const suffix = Buffer.from(cfg.separator + localDate8());
      const sl = suffix.length;
      const { data, starts: s, ends: e, count: n } = batch;
      if (n === 0) return batch;
      let total = 0;
      for (let i = 0; i < n; i++) total += e[i] - s[i] + sl + 1;
      const out = Buffer.allocUnsafe(total);
      const starts = new Uint32Array(n);
      const ends = new Uint32Array(n);
      // Where each body goes; whether each lands at or after its place in `data` relative to the first
      // (true for lines as a file holds them: each gains the suffix and keeps one newline).
      const base = s[0];
      let forward = true;
      let pos = 0;
      for (let i = 0; i < n; i++) {
        if (s[i] - base > pos || (i > 0 && s[i] < e[i - 1])) forward = false;
        starts[i] = pos;
        pos += e[i] - s[i] + sl;
        ends[i] = pos;
        pos++;
      }
      // The suffix and the newline after the body that ends (with its suffix) at `end`.
      const tail = Buffer.concat([suffix, NL]);
      const put = (end: number) => out.set(tail, end - sl);
      if (forward) {
        // One copy of the whole run, then each body moved up to its place, last first (copyWithin is a
        // memmove: no view object per line, unlike Buffer#copy).
        data.copy(out, 0, base, e[n - 1]);
        for (let i = n - 1; i >= 0; i--) {
          const from = s[i] - base;
          if (from !== starts[i]) out.copyWithin(starts[i], from, from + e[i] - s[i]);
          put(ends[i]);
        }
      } else {
        for (let i = 0; i < n; i++) {
          data.copy(out, starts[i], s[i], e[i]);
          put(ends[i]);
        }
      }
      return new EventBatch(out, starts, ends, n, batch.headers);
    },
  }),
} satisfies InterceptorFactory<z.infer<typeof collectDaySchema>>);
