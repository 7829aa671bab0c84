/**
 * An independent item-based recommender written from the semantics of Mahout's recommenditembased
 * with SIMILARITY_COOCCURRENCE (docs/ml.md), not from src/: plain maps and sets over strings.
 *
 * - one preference per (car, item): its highest score;
 * - co-occurrence of items a and b = number of cars that bought both (a ≠ b);
 * - a car's preferences used: all when at most maxPrefs, else those ≥ the maxPrefs-th highest value;
 * - an item the car did not buy is scored Σ co(j,i)·pref(j) / Σ co(j,i) over used preferences j that
 *   co-occur with it, only when at least two such j exist;
 * - top n by score, then item name.
 */
export interface Row { car: string; item: string; score: number }
export interface Rec { car: string; item: string; score: number; rank: number }

export function oracleRecommend(rows: Row[], top = 3, maxPrefs = 10): Rec[] {
  const prefs = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const m = prefs.get(r.car) ?? new Map<string, number>();
    m.set(r.item, Math.max(m.get(r.item) ?? -Infinity, r.score));
    prefs.set(r.car, m);
  }
  const co = new Map<string, number>();
  const key = (a: string, b: string) => `${a}|${b}`;
  for (const m of prefs.values()) {
    for (const a of m.keys()) for (const b of m.keys()) if (a !== b) co.set(key(a, b), (co.get(key(a, b)) ?? 0) + 1);
  }
  const allItems = [...new Set(rows.map((r) => r.item))].sort();
  const out: Rec[] = [];
  for (const car of [...prefs.keys()].sort()) {
    const m = prefs.get(car)!;
    const values = [...m.values()].sort((a, b) => b - a);
    const cut = values.length > maxPrefs ? values[maxPrefs - 1] : -Infinity;
    const used = [...m].filter(([, v]) => v >= cut);
    const scored: { item: string; score: number }[] = [];
    for (const i of allItems) {
      if (m.has(i)) continue;
      let num = 0, den = 0, n = 0;
      for (const [j, v] of used) {
        const c = co.get(key(j, i));
        if (!c) continue;
        num += c * v;
        den += c;
        n++;
      }
      if (n >= 2) scored.push({ item: i, score: num / den });
    }
    scored.sort((a, b) => b.score - a.score || (a.item < b.item ? -1 : 1));
    scored.slice(0, top).forEach((s, k) => out.push({ car, item: s.item, score: s.score, rank: k + 1 }));
  }
  return out;
}
