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
