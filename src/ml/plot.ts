/**
 * Pictures of the analyses: an ECharts option rendered server-side to a standalone SVG document (no
 * browser, no canvas). The console draws the same options in the page, so a plot looks the same in a
 * file and on screen.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as echarts from 'echarts';

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
