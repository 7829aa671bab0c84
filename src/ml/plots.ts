/**
 * The analyses' pictures as ECharts options (rendered to SVG by plot.ts; the console can draw the
 * same options): confusion-matrix heat map, feature-importance bars, clusters on two principal
 * components, the elbow/silhouette curve, recommendation quality next to the baseline.
 */
import type { ChartOption } from './plot.ts';

export function confusionHeatmap(labels: string[], confusion: number[][], title = 'Confusion matrix'): ChartOption {
  const data: [number, number, number][] = [];
  confusion.forEach((row, a) => row.forEach((v, p) => data.push([p, labels.length - 1 - a, v])));
  const max = Math.max(1, ...confusion.flat());
  return {
    title: { text: title, left: 'center' },
    tooltip: {},
    grid: { left: 140, right: 80, top: 60, bottom: 90 },
    xAxis: { type: 'category', data: labels, name: 'predicted', nameLocation: 'middle', nameGap: 30 },
    yAxis: { type: 'category', data: [...labels].reverse(), name: 'actual', nameLocation: 'middle', nameGap: 110 },
    visualMap: { min: 0, max, calculable: false, orient: 'horizontal', left: 'center', bottom: 5, inRange: { color: ['#f7fbff', '#08306b'] } },
    series: [{ type: 'heatmap', data, label: { show: true, fontSize: 16 } }],
  };
}

export function importanceBars(names: string[], importances: number[], title = 'Feature importances'): ChartOption {
  const order = names.map((n, i) => [n, importances[i]] as const).sort((a, b) => a[1] - b[1]);
  return {
    title: { text: title, left: 'center' },
    grid: { left: 110, right: 40, top: 50, bottom: 30 },
    xAxis: { type: 'value' },
    yAxis: { type: 'category', data: order.map((o) => o[0]) },
    series: [{ type: 'bar', data: order.map((o) => Number(o[1].toFixed(4))), label: { show: true, position: 'right' } }],
  };
}

export function clusterScatter(points: [number, number][], clusters: Int32Array | number[], k: number, title: string): ChartOption {
  const series = Array.from({ length: k }, (_, c) => ({ type: 'scatter' as const, name: `cluster ${c}`, symbolSize: 6, data: [] as [number, number][] }));
  points.forEach((p, i) => series[clusters[i]].data.push([Number(p[0].toFixed(4)), Number(p[1].toFixed(4))]));
  return {
    title: { text: title, left: 'center' },
    grid: { left: 60, right: 30, top: 50, bottom: 50 },
    xAxis: { type: 'value', name: 'PC1', nameLocation: 'middle', nameGap: 25, scale: true },
    yAxis: { type: 'value', name: 'PC2', nameLocation: 'middle', nameGap: 35, scale: true },
    series: series.filter((s) => s.data.length > 0),
  };
}

export function elbowCurve(rows: { k: number; inertia: number; silhouette: number }[]): ChartOption {
  return {
    title: { text: 'Elbow and silhouette by k', left: 'center' },
    legend: { top: 28 },
    grid: { left: 70, right: 70, top: 70, bottom: 50 },
    xAxis: { type: 'value', name: 'k', nameLocation: 'middle', nameGap: 25, min: rows[0]?.k, max: rows.at(-1)?.k },
    yAxis: [{ type: 'value', name: 'inertia' }, { type: 'value', name: 'silhouette', min: -1, max: 1 }],
    series: [
      { type: 'line', name: 'inertia', showSymbol: false, data: rows.map((r) => [r.k, Number(r.inertia.toFixed(4))]) },
      { type: 'line', name: 'silhouette', yAxisIndex: 1, showSymbol: false, data: rows.map((r) => [r.k, Number(r.silhouette.toFixed(4))]) },
    ],
  };
}

export function qualityBars(rows: { name: string; precision: number; recall: number }[], k: number): ChartOption {
  return {
    title: { text: `Recommendation quality on a 20 % holdout (top ${k})`, left: 'center' },
    legend: { top: 28 },
    grid: { left: 60, right: 30, top: 70, bottom: 40 },
    xAxis: { type: 'category', data: rows.map((r) => r.name) },
    yAxis: { type: 'value' },
    series: [
      { type: 'bar', name: `precision@${k}`, data: rows.map((r) => Number(r.precision.toFixed(4))), label: { show: true, position: 'top' } },
      { type: 'bar', name: `recall@${k}`, data: rows.map((r) => Number(r.recall.toFixed(4))), label: { show: true, position: 'top' } },
    ],
  };
}
