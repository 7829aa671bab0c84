import { describe, expect, it } from 'vitest';
import { renderSvg } from '../../src/ml/plot.ts';

describe('server-side plots', () => {
  it('renders a bar chart to an SVG document with one bar per value', () => {
    const svg = renderSvg({
      xAxis: { type: 'category', data: ['A01', 'B02', 'C04'] },
      yAxis: { type: 'value' },
      series: [{ type: 'bar', data: [61, 72, 83] }],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('A01');
    expect(svg).toContain('C04');
    // each bar is a path; axes and labels add more, but three bars must be there
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThanOrEqual(3);
  });
});
