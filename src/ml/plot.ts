/**
 * Pictures of the analyses: an ECharts option rendered server-side to a standalone SVG document (no
 * browser, no canvas). The console draws the same options in the page, so a plot looks the same in a
 * file and on screen.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as echarts from 'echarts';
import { dataPaths } from '../core/paths.ts';

export type ChartOption = echarts.EChartsOption;

export interface PlotSize {
  width?: number;
  height?: number;
}

/** The option as an SVG document. Animation is off: a file shows the final frame. */
export function renderSvg(option: ChartOption, size: PlotSize = {}): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width ?? 800, height: size.height ?? 500 });
  try {
    chart.setOption({ animation: false, backgroundColor: '#fff', ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Writes `<dir>/<name>.svg` (creating dir) and returns its path. */
export function writeSvg(dir: string, name: string, option: ChartOption, size?: PlotSize): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.svg`);
  fs.writeFileSync(file, renderSvg(option, size));
  return file;
}

/**
 * The last picture of each kind an analysis drew, kept under the data directory for the console's Analysis page:
 * `<data>/analysis/figures/<name>.json` holds `{ name, analysis, title, at, option }`. Each run replaces its own
 * figures and leaves the other analyses' alone.
 */
export interface Figure {
  name: string;
  analysis: string;
  title: string;
  at: string;
  option: ChartOption;
}

export const figuresDir = (dataDir: string) => path.join(dataPaths(dataDir).root, 'analysis', 'figures');

/** Keeps the figure for the console and, when `plotsDir` is given, writes its SVG there too (returns that path). */
export function drawFigure(dataDir: string, analysis: string, name: string, option: ChartOption, plotsDir?: string): string | undefined {
  const dir = figuresDir(dataDir);
  fs.mkdirSync(dir, { recursive: true });
  const title = (Array.isArray(option.title) ? option.title[0]?.text : option.title?.text) ?? name;
  const figure: Figure = { name, analysis, title: String(title), at: new Date().toISOString(), option };
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(figure));
  fs.renameSync(`${file}.tmp`, file);
  return plotsDir ? writeSvg(plotsDir, name, option) : undefined;
}

/** Every kept figure, newest first; an unreadable file is skipped (it is replaced by the next run). */
export function listFigures(dataDir: string): Figure[] {
  let names: string[];
  try {
    names = fs.readdirSync(figuresDir(dataDir)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: Figure[] = [];
  for (const n of names) {
    try {
      const f = JSON.parse(fs.readFileSync(path.join(figuresDir(dataDir), n), 'utf8')) as Figure;
      if (typeof f.name === 'string' && typeof f.analysis === 'string' && f.option && typeof f.option === 'object') out.push(f);
    } catch {
      // a half-written or foreign file: not a figure
    }
  }
  return out.sort((a, b) => b.at.localeCompare(a.at) || a.name.localeCompare(b.name));
}
