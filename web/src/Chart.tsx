// ECharts, loaded only when a chart is drawn (its own chunk), with the chart kinds the console uses.
import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, BoxplotChart, HeatmapChart, LineChart, PieChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, DataZoomComponent, TitleComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, BoxplotChart, HeatmapChart, LineChart, PieChart, ScatterChart, GridComponent, LegendComponent, TooltipComponent, DataZoomComponent, TitleComponent, VisualMapComponent, CanvasRenderer]);

export interface ChartProps {
  option: echarts.EChartsCoreOption;
  height?: number;
  testId?: string;
}

export default function Chart({ option, height = 260, testId }: ChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    if (!el.current) return;
    chart.current = echarts.init(el.current, undefined, { renderer: 'canvas' });
    const ro = new ResizeObserver(() => chart.current?.resize());
    ro.observe(el.current);
    return () => { ro.disconnect(); chart.current?.dispose(); chart.current = null; };
  }, []);
  useEffect(() => {
    chart.current?.setOption({ animation: false, textStyle: { fontFamily: 'inherit' }, ...option }, true);
    if (el.current) el.current.dataset.option = JSON.stringify(option);
  }, [option]);
  return <div ref={el} className="chart" style={{ height }} data-testid={testId} />;
}
