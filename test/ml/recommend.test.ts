import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { writeBuyList } from '../../src/sim/index.ts';
import { buildMart, loadReference, openCatalog } from '../../src/sql/index.ts';
import { buildPrefs, holdoutEvaluate, itemSimilarities, readPurchases, recommendAll, logLikelihoodRatio } from '../../src/ml/index.ts';
import { loadWorkflows, runWorkflow, SHIPPED_WORKFLOWS } from '../../src/flow/index.ts';
import { oracleRecommend, type Row } from '../support/recommend.ts';
import { cli, masterInto, tmpDir } from './support.ts';

// Trains models and starts CLI processes: generous on a shared 2-core machine.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const MONTH = '202003';
const dataDir = tmpDir('recommend');
let rows: Row[] = [];

beforeAll(async () => {
  // Every master owner an adult, so the mart keeps every purchase.
  await masterInto(dataDir, 2, (rs) => rs.map((r) => [r[0], r[1], '40', ...r.slice(3)]));
  const file = await writeBuyList({ outDir: path.join(dataDir, 'in'), month: MONTH, seed: 7, rows: 4000 });
  // Hand-made cars: one purchase only; a car whose candidates tie exactly; a car that bought an item
  // twice with different scores; a car that bought every item.
  const extra = [
    'Z0001,Item-001,5',
    'Z0002,Item-001,4', 'Z0002,Item-002,4',
    'Z0003,Item-003,1', 'Z0003,Item-003,5', 'Z0003,Item-004,2', 'Z0003,Item-005,3',
    ...Array.from({ length: 30 }, (_, i) => `Z0004,Item-${String(i + 1).padStart(3, '0')},3`),
  ].map((l) => `${l},${MONTH}`);
  const generated = fs.readFileSync(file, 'utf8').trim().split('\n').filter((l) => !/^Z000[1-4],/.test(l));
  fs.writeFileSync(file, [...generated, ...extra].join('\n') + '\n');
  loadReference('buylist', file, dataDir);
  await buildMart('buylist', MONTH, { dataDir });
  rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(',')).map(([car, item, score]) => ({ car, item, score: Number(score) }));
});

describe('item-based recommendation', () => {
  it('equals the independent co-occurrence oracle on seeded purchases, ties and single-purchase cars included', async () => {
    const cat = await openCatalog({ dataDir });
    const purchases = await readPurchases(cat, MONTH);
    await cat.close();
    expect(purchases.length).toBe(new Set(rows.map((r) => `${r.car}|${r.item}`)).size); // one per car and item
    const p = buildPrefs(purchases);
    const recs = recommendAll(p, itemSimilarities(p, 'cooccurrence', 100), { top: 3, maxPrefsPerUser: 10 });
    const got = recs.flatMap((list, u) => list.map((r, k) => ({ car: p.users[u], item: p.items[r.item], score: r.score, rank: k + 1 })));
    const want = oracleRecommend(rows);
    expect(got).toEqual(want);
    expect(want.some((r) => r.car === 'Z0001')).toBe(false); // one purchase: no two data points
    expect(want.some((r) => r.car === 'Z0004')).toBe(false); // bought everything
    // Ties: some car has two recommendations with exactly the same score.
    expect(want.some((r, i) => i > 0 && want[i - 1].car === r.car && want[i - 1].score === r.score)).toBe(true);
  });

  it('never recommends an item the car bought, also with more prefs than maxPrefsPerUser', async () => {
    const p = buildPrefs(rows.map((r) => ({ user: r.car, item: r.item, score: r.score })));
    for (const sim of ['cooccurrence', 'cosine', 'loglikelihood', 'jaccard'] as const) {
      const recs = recommendAll(p, itemSimilarities(p, sim, 100), { top: 5, maxPrefsPerUser: 2 });
      recs.forEach((list, u) => {
        const bought = new Set(rows.filter((r) => r.car === p.users[u]).map((r) => r.item));
        for (const r of list) expect(bought.has(p.items[r.item])).toBe(false);
      });
    }
  });

  it('log-likelihood ratio matches the closed form of Dunning\'s G² on a 2×2 table', () => {
    const [a, b, c, d] = [10, 5, 3, 82];
    const n = a + b + c + d;
    const cells = [[a, (a + b) * (a + c) / n], [b, (a + b) * (b + d) / n], [c, (c + d) * (a + c) / n], [d, (c + d) * (b + d) / n]];
    const g2 = 2 * cells.reduce((s, [o, e]) => s + o * Math.log(o / e), 0);
    expect(logLikelihoodRatio(a, b, c, d)).toBeCloseTo(g2, 9);
  });

  it('evaluates on a holdout next to the most-popular baseline', () => {
    const q = holdoutEvaluate(rows.map((r) => ({ user: r.car, item: r.item, score: r.score })), { top: 3, similarity: 'cooccurrence', maxPrefsPerUser: 10, maxSimilaritiesPerItem: 100 }, 0.2, 1);
    expect(q.map((x) => x.name)).toEqual(['cooccurrence', 'cosine', 'loglikelihood', 'jaccard', 'most-popular']);
    for (const x of q) {
      expect(x.cars).toBeGreaterThan(1000);
      expect(x.precision).toBeGreaterThan(0);
      expect(x.precision).toBeLessThanOrEqual(1);
    }
  });

  it('the CLI writes smartcar_item_recommend, readable through SQL, equal to the oracle', () => {
    const r = cli('ml', 'recommend', '--month', MONTH, '--data', dataDir, '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).rows).toBe(oracleRecommend(rows).length);
    const q = cli('sql', "select car_number, item, score, rank, biz_month from smartcar_item_recommend order by car_number, rank", '--data', dataDir, '--format', 'csv');
    expect(q.status).toBe(0);
    const lines = q.stdout.trim().split('\n').slice(1).map((l) => l.split(','));
    expect(lines.map((l) => ({ car: l[0], item: l[1], score: Number(l[2]), rank: Number(l[3]) }))).toEqual(oracleRecommend(rows).map((x) => ({ ...x, score: expect.closeTo(x.score, 5) })));
    expect(new Set(lines.map((l) => l[4]))).toEqual(new Set([MONTH]));
  });

  it('the monthly recommend workflow refreshes the month after the purchase mart', async () => {
    const wf = loadWorkflows([SHIPPED_WORKFLOWS]).get('recommend')!;
    const run = await runWorkflow(wf, '20200331', { dataDir });
    expect(run.error).toBeUndefined();
    expect(run.steps.map((x) => [x.id, x.state])).toEqual([['partition', 'succeeded'], ['recommend', 'succeeded']]);
    expect(run.steps[1].rows).toBe(oracleRecommend(rows).length);
    const failed = await runWorkflow(wf, '20200415', { dataDir });
    expect(failed.state).toBe('failed');
  });

  it('a month without purchases names the workflow to run, exit 2', () => {
    const r = cli('ml', 'recommend', '--month', '202004', '--data', dataDir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('smartcar workflow run buylist --day 20200401');
    expect(r.stderr).not.toContain('    at ');
  });
});
