/**
 * One Prometheus registry per process. Components register their counters, gauges and histograms
 * here (prefix `smartcar_`); the console and `smartcar … --status` expose `registry.metrics()`.
 */
import client from 'prom-client';

export const registry = new client.Registry();

export function counter(name: string, help: string, labelNames: string[] = []): client.Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as client.Counter<string>;
  return new client.Counter({ name, help, labelNames, registers: [registry] });
}

export function gauge(name: string, help: string, labelNames: string[] = []): client.Gauge<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as client.Gauge<string>;
  return new client.Gauge({ name, help, labelNames, registers: [registry] });
}

export function histogram(name: string, help: string, labelNames: string[] = [], buckets?: number[]): client.Histogram<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as client.Histogram<string>;
  return new client.Histogram({ name, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) });
}

export async function metricsText(): Promise<string> {
  return registry.metrics();
}

/** Sums of samples by metric name (all labels added up), from Prometheus text (0.0.4): what `smartcar status` and the console chart. */
export function sumSamples(text: string): Map<string, number> {
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
