/**
 * The analyses as workflow steps (`{"type": "ml", "task": …}` in a workflow file): `recommend` refreshes
 * the working month's recommendations with the default options; `classify-score` scores the working
 * day's cars with the saved status classifier.
 */
import { recommendSchema } from './recommend/schema.ts';
import { buildPrefs } from './recommend/itembased.ts';
import { readPurchases, recommendPrefs, writeRecommendations } from './recommend/run.ts';
import { scoreDay } from './classify/run.ts';
import { withCatalog } from './common.ts';

export async function runAnalysisTask(task: 'recommend' | 'classify-score', day: string, dataDir: string): Promise<{ rows: number; log: string }> {
  if (task === 'classify-score') {
    const r = await scoreDay(dataDir, day);
    return { rows: r.cars, log: `scored ${r.rows} status records of ${r.cars} cars: ${r.abnormalCars} mostly 비정상 → smartcar_status_score biz_date=${day}` };
  }
  const month = day.slice(0, 6);
  const cfg = recommendSchema.parse({});
  return withCatalog(dataDir, async (cat) => {
    const purchases = await readPurchases(cat, month);
    const p = buildPrefs(purchases);
    const { rows } = await writeRecommendations(cat, dataDir, p, recommendPrefs(p, cfg), month);
    return { rows, log: `${rows} recommendations (${cfg.similarity}, top ${cfg.top}) for ${p.users.length} cars from ${purchases.length} purchases → smartcar_item_recommend biz_month=${month}` };
  });
}
