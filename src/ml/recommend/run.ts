/**
 * `smartcar ml recommend`: item recommendations for every car of a month, from the purchase mart
 * (managed_smartcar_item_buylist_info) read through the SQL catalog, into smartcar_item_recommend.
 *
 * `--evaluate` holds out, for every car with at least two distinct items, round(holdout × n) of
 * them (at least one) — those with the smallest hash(car, item, seed), so the choice does not depend
 * on row order — trains on the rest, and scores the top k against the held-out items: precision@k =
 * hits / k and recall@k = hits / held out, averaged over those cars; next to the most-popular-items
 * baseline and every similarity.
 */
import { UserError } from '../../core/index.ts';
import type { Catalog } from '../../sql/index.ts';
import { dataDirOf, seconds, withCatalog } from '../common.ts';
import { parseOptions } from '../options.ts';
import { drawFigure } from '../plot.ts';
import { qualityBars } from '../plots.ts';
import { hash32, hashString } from '../random.ts';
import { writeResultTable } from '../tables.ts';
import { buildPrefs, itemSimilarities, popularAll, recommendAll, type Prefs, type Recommendation } from './itembased.ts';
import { SIMILARITIES, recommendSchema, type ItemBasedConfig } from './schema.ts';

export const BUYLIST_MART = 'managed_smartcar_item_buylist_info';

export interface Purchase { user: string; item: string; score: number }

export async function readPurchases(cat: Catalog, month: string): Promise<Purchase[]> {
  const has = (await cat.tables()).includes(BUYLIST_MART);
  const rows = has
    // One preference per (car, item), its highest score (see itembased.ts), already aggregated by DuckDB.
    ? (await cat.query(`SELECT car_number, item, max(TRY_CAST(score AS DOUBLE)) FROM ${BUYLIST_MART}
        WHERE biz_month = '${month}' AND car_number IS NOT NULL AND item IS NOT NULL AND TRY_CAST(score AS DOUBLE) IS NOT NULL
        GROUP BY car_number, item`)).rows
    : [];
  if (rows.length === 0) {
    throw new UserError(`the purchase mart (${BUYLIST_MART}) has no purchases for biz_month=${month}: build it first (smartcar workflow run buylist --day ${month}01)`);
  }
  return rows.map((r) => ({ user: String(r[0]), item: String(r[1]), score: Number(r[2]) }));
}

export function recommendPrefs(p: Prefs, cfg: ItemBasedConfig): Recommendation[][] {
  return recommendAll(p, itemSimilarities(p, cfg.similarity, cfg.maxSimilaritiesPerItem), cfg);
}

/** Replaces the month's partition of smartcar_item_recommend (car_number, item, score, rank | biz_month). */
export async function writeRecommendations(cat: Catalog, dataDir: string, p: Prefs, recs: Recommendation[][], month: string): Promise<{ file: string; rows: number }> {
  const rows: unknown[][] = [];
  recs.forEach((list, u) => list.forEach((r, k) => rows.push([p.users[u], p.items[r.item], r.score, k + 1])));
  const file = await writeResultTable(cat, dataDir, 'smartcar_item_recommend', [
    { name: 'car_number', type: 'VARCHAR' }, { name: 'item', type: 'VARCHAR' }, { name: 'score', type: 'DOUBLE' }, { name: 'rank', type: 'INTEGER' },
  ], rows, month);
  return { file, rows: rows.length };
}

export interface Quality { name: string; precision: number; recall: number; cars: number }

export function holdoutEvaluate(purchases: Purchase[], cfg: ItemBasedConfig, holdout: number, seed: number, similarities: readonly ItemBasedConfig['similarity'][] = SIMILARITIES): Quality[] {
  const byUser = new Map<string, Map<string, number>>();
  for (const r of purchases) {
    let m = byUser.get(r.user);
    if (!m) byUser.set(r.user, (m = new Map()));
    m.set(r.item, Math.max(m.get(r.item) ?? -Infinity, r.score));
  }
  const held = new Map<string, Set<string>>();
  const train: Purchase[] = [];
  for (const [user, items] of byUser) {
    const names = [...items.keys()];
    const h = names.length >= 2 ? Math.max(1, Math.round(holdout * names.length)) : 0;
    const uh = hashString(user);
    const out = new Set(names.map((i) => [i, hash32(uh, hashString(i), seed)] as const).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).slice(0, h).map((x) => x[0]));
    if (out.size) held.set(user, out);
    for (const [item, score] of items) if (!out.has(item)) train.push({ user, item, score });
  }
  const p = buildPrefs(train);
  const score = (name: string, recs: Recommendation[][]): Quality => {
    let prec = 0, rec = 0, cars = 0;
    p.users.forEach((u, i) => {
      const h = held.get(u);
      if (!h) return;
      const hits = recs[i].filter((r) => h.has(p.items[r.item])).length;
      prec += hits / cfg.top;
      rec += hits / h.size;
      cars++;
    });
    return { name, precision: cars ? prec / cars : 0, recall: cars ? rec / cars : 0, cars };
  };
  const ordered = [cfg.similarity, ...similarities.filter((s) => s !== cfg.similarity)];
  return [...ordered.map((s) => score(s, recommendPrefs(p, { ...cfg, similarity: s }))), score('most-popular', popularAll(p, cfg.top))];
}

const out = (s: string) => process.stdout.write(s);

export async function recommendCommand(raw: Record<string, unknown>): Promise<void> {
  const o = parseOptions(recommendSchema, raw);
  if (!o.month) throw new UserError('recommend needs --month yyyyMM');
  const month = o.month;
  const dataDir = await dataDirOf(o);
  await withCatalog(dataDir, async (cat) => {
    const t0 = performance.now();
    const purchases = await readPurchases(cat, month);
    const t1 = performance.now();
    const p = buildPrefs(purchases);
    const recs = recommendPrefs(p, o);
    const t2 = performance.now();
    const { file, rows } = await writeRecommendations(cat, dataDir, p, recs, month);
    const t3 = performance.now();
    const quality = o.evaluate ? holdoutEvaluate(purchases, o, o.holdout, o.seed) : undefined;
    const drawn = quality ? drawFigure(dataDir, 'recommend', 'recommend-quality', qualityBars(quality, o.top), o.plots) : undefined;
    const plots = drawn ? [drawn] : [];
    const carsWith = recs.filter((r) => r.length > 0).length;
    const summary = {
      month, similarity: o.similarity, top: o.top, purchases: purchases.length, cars: p.users.length, items: p.items.length,
      carsWithRecommendations: carsWith, rows, table: 'smartcar_item_recommend', file,
      ms: { read: t1 - t0, compute: t2 - t1, write: t3 - t2, total: t3 - t0 }, quality, plots,
    };
    if (o.json) {
      out(JSON.stringify(summary) + '\n');
      return;
    }
    out(`${purchases.length} purchases of ${p.users.length} cars and ${p.items.length} items in ${month}; ${o.similarity} similarity, top ${o.top}\n`);
    out(`${rows} recommendations for ${carsWith} cars (${p.users.length - carsWith} with fewer than two co-bought items get none) → smartcar_item_recommend biz_month=${month} in ${seconds(t3 - t0)}\n`);
    // Mahout's output shape, for the first cars: userID<TAB>[itemID:score,…]
    for (const [u, list] of recs.slice(0, 5).entries()) out(`${p.users[u]}\t[${list.map((r) => `${p.items[r.item]}:${r.score.toFixed(4)}`).join(',')}]\n`);
    if (recs.length > 5) out(`… (all of them: smartcar sql "select * from smartcar_item_recommend where biz_month = '${month}'")\n`);
    if (quality) {
      out(`\nholdout ${Math.round(o.holdout * 100)} % of each car's items (${quality[0].cars} cars), top ${o.top}\n`);
      out(`${'method'.padEnd(16)}${`precision@${o.top}`.padStart(14)}${`recall@${o.top}`.padStart(12)}\n`);
      for (const q of quality) out(`${q.name.padEnd(16)}${q.precision.toFixed(4).padStart(14)}${q.recall.toFixed(4).padStart(12)}\n`);
    }
    for (const f of plots) out(`plot ${f}\n`);
  });
}
