/**
 * The short form of `npm run soak:platform` (soak/platform-harness.ts): a small fleet, a few kill -9s of
 * random components, one of the supervisor and one of the whole tree at once, then every store against the oracles — the driving
 * table exactly once, the hot store's overspeed sets, the status day in the lake exactly once, the marts.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { platformSoak, summary } from '../../soak/platform-harness.ts';

describe('chaos soak of smartcar up (short form)', () => {
  it('after kill -9 of random components and of the supervisor, every store equals its independent computation', { timeout: 900_000 }, async () => {
    const r = await platformSoak({
      cars: 20, speedup: 40, seed: 18, date: '20240105', statusCars: 2,
      componentKills: 3, supervisorKills: 1, treeKills: 1, gapMs: [2000, 6000], drainMs: 300_000,
      log: (l) => { if (process.env.SMARTCAR_SOAK_VERBOSE) process.stderr.write(l + '\n'); },
    });
    const report = summary(r);
    expect(r.kills.map((k) => k.what).filter((w) => w === 'supervisor')).toHaveLength(1);
    expect(r.table, report).toMatchObject({ missing: 0, extra: 0 });
    expect(r.log.repeated, report).toBe(0);
    expect(r.table.rows).toBe(r.log.distinct);
    expect(r.overspeed.missing, report).toEqual([]);
    expect(r.overspeed.extra, report).toEqual([]);
    expect(r.overspeed.members).toBeGreaterThan(0);
    for (const d of Object.values(r.status.days)) expect(d, report).toEqual({ lines: 2 * 21_600, distinct: 2 * 21_600, cars: 2, complete: 2 });
    expect(Object.keys(r.status.days)).toEqual(['20240105']);
    expect(r.marts.emergency.equal, report).toBe(true);
    expect(r.marts.symptom.equal, report).toBe(true);
    expect(r.marts.driveCopy.rows, report).toBe(r.marts.driveCopy.expected);
    expect(r.cleanStops).toEqual([0, 0]);
    expect(r.orphanMs).toBeLessThan(3000);
    expect(r.ok, report).toBe(true);
    if (r.ok && !process.env.SMARTCAR_E2E_KEEP) fs.rmSync(r.dir, { recursive: true, force: true });
  });
});
