/**
 * The SQL table printer aligns Korean text (the car master's 서울, 회사원 …): every line of a table has
 * the same display width, measured by an independent implementation — Python's unicodedata
 * east_asian_width (W and F are two columns), as terminals do.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatResult } from '../../src/sql/format.ts';

function pythonWidths(lines: string[]): number[] {
  const py = `import sys, json, unicodedata
lines = json.loads(sys.stdin.read())
print(json.dumps([sum(2 if unicodedata.east_asian_width(c) in 'WF' else 1 for c in l) for l in lines]))`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify(lines), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as number[];
}

describe('table printer', () => {
  it('aligns mixed Korean and ASCII columns by display width', () => {
    const out = formatResult({
      columns: ['car_number', 'region', 'job'],
      rows: [['A0001', '서울', '회사원'], ['B0002', 'Busan', '자영업자'], ['C0003', '경기도 성남시', 'student']],
    }, 'table');
    const lines = out.trim().split('\n').slice(0, -1); // without "(3 rows)"
    const widths = pythonWidths(lines);
    expect(new Set(widths).size).toBe(1);
    // The column separators sit at the same display column on every line.
    const chars = [...new Set([...lines.join('')])];
    const cw = pythonWidths(chars);
    const charW = new Map(chars.map((c, i) => [c, cw[i]]));
    const sepCols = (l: string) => {
      const cols: number[] = [];
      let w = 0;
      for (const ch of l) {
        if (ch === '│' || ch === '┼') cols.push(w);
        w += charW.get(ch)!;
      }
      return cols.join(',');
    };
    expect(new Set(lines.map(sepCols)).size).toBe(1);
  });
});
