/**
 * Analysis: the pictures and result tables of `smartcar ml recommend | classify | cluster` (and the workflows
 * that run them). Each analysis keeps its last figures under `<data>/analysis/figures/` as ECharts options; the
 * page draws the same options as the `--plots` SVG files.
 *
 *   GET /api/analysis                         figures (newest first) and the result tables with counts and samples
 *   GET /api/analysis/figures/:name/svg       one figure rendered server-side, as the `--plots` file
 */
import { z } from 'zod';
import { HttpError, reply, type Router } from '../../core/http.ts';
import type { ConsoleContext } from '../context.ts';

/** The analyses' result tables, with what writes each. */
const RESULT_TABLES: { name: string; about: string; writtenBy: string }[] = [
  { name: 'smartcar_item_recommend', about: 'items recommended to each car owner (item-based collaborative filtering)', writtenBy: 'smartcar ml recommend --month yyyyMM, or the recommend workflow' },
  { name: 'smartcar_status_score', about: 'each car\'s status records classified normal / abnormal by the saved random forest', writtenBy: 'the status-score workflow, after smartcar ml classify train' },
  { name: 'smartcar_car_cluster', about: 'the cluster of each car of the master (k-means)', writtenBy: 'smartcar ml cluster' },
];

const figureSchema = z.object({ name: z.string(), analysis: z.string(), title: z.string(), at: z.string(), option: z.record(z.string(), z.unknown()) });

export function analysisRoutes(router: Router, ctx: ConsoleContext): void {
  router.route({
    method: 'GET', path: '/api/analysis', summary: 'the analyses\' last figures and their result tables',
    query: z.object({ sample: z.coerce.number().int().min(0).max(100).default(10) }),
    response: z.object({
      figures: z.array(figureSchema),
      tables: z.array(z.object({
        name: z.string(), about: z.string(), writtenBy: z.string(), exists: z.boolean(), rows: z.number(),
        sample: z.object({ columns: z.array(z.string()), rows: z.array(z.array(z.unknown())) }),
      })),
    }),
    handler: async ({ query }) => {
      const { listFigures } = await import('../../ml/index.ts');
      const cat = await ctx.sqlCatalog();
      const known = new Set(await cat.tables());
      const tables = [];
      for (const t of RESULT_TABLES) {
        if (!known.has(t.name)) {
          tables.push({ ...t, exists: false, rows: 0, sample: { columns: [], rows: [] } });
          continue;
        }
        const [[rows]] = (await cat.query(`SELECT count(*) FROM ${t.name}`)).rows;
        const sample = await cat.query(`SELECT * FROM ${t.name} LIMIT ${query.sample}`);
        tables.push({ ...t, exists: true, rows: Number(rows), sample });
      }
      return { figures: listFigures(ctx.root) as z.infer<typeof figureSchema>[], tables };
    },
  });

  router.route({
    method: 'GET', path: '/api/analysis/figures/:name/svg', summary: 'one figure as an SVG document',
    handler: async ({ params }) => {
      const { listFigures, renderSvg } = await import('../../ml/index.ts');
      const figure = listFigures(ctx.root).find((f) => f.name === params.name);
      if (!figure) throw new HttpError(404, `no figure '${params.name}': run the analysis that draws it (smartcar ml --help)`);
      return reply(200, 'image/svg+xml', renderSvg(figure.option), { 'content-disposition': `attachment; filename="${figure.name.replace(/[^A-Za-z0-9._-]/g, '_')}.svg"` });
    },
  });
}
