/**
 * Tables: the SQL catalog (every table and view, its columns, partitions and sample rows) and the
 * table store (HBase role) — scan with the CLI's filter syntax (`cf1:speed>100`, `cf1:area_number~^A`),
 * get one row, put one column. The same functions `smartcar table scan|get|put` call.
 *
 *   GET /api/tables                                 catalog tables and views
 *   GET /api/tables/:name?sample=20                 columns, partitions (row counts), sample rows
 *   GET /api/store                                  table-store tables with their families
 *   GET /api/store/:table/scan?filter=…&filter=…&prefix=&start=&stop=&limit=100&reverse=false
 *   GET /api/store/:table/rows/:row
 *   PUT /api/store/:table/rows/:row   {"column": "cf1:speed", "value": "120"}   (token)
 */
import { z } from 'zod';
import { HttpError, type Router, UserError } from '../../core/index.ts';
import { parseFilter, type ColumnFilter } from '../../table/index.ts';
import type { ConsoleContext } from '../context.ts';

const PARTITION_COLUMNS = ['wrk_date', 'biz_date', 'biz_month'];
const ident = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a table name: letters, digits and _');
const rowSchema = z.object({ row: z.string(), cells: z.record(z.string(), z.string()) });

export function tableRoutes(router: Router, ctx: ConsoleContext): void {
  router.route({
    method: 'GET', path: '/api/tables', summary: 'the SQL catalog: tables and views',
    response: z.array(z.object({ name: z.string(), kind: z.string(), columns: z.number() })),
    handler: async () => {
      const cat = await ctx.sqlCatalog();
      const names = await cat.tables();
      const kinds = await cat.query(`SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main'`);
      const kind = new Map(kinds.rows.map((r) => [String(r[0]), String(r[1]) === 'VIEW' ? 'view' : 'table']));
      const cols = await cat.query(`SELECT table_name, count(*) FROM information_schema.columns WHERE table_schema = 'main' GROUP BY 1`);
      const ncol = new Map(cols.rows.map((r) => [String(r[0]), Number(r[1])]));
      return names.map((n) => ({ name: n, kind: n === 'smartcar_drive_info' ? 'table store' : kind.get(n) ?? 'table', columns: ncol.get(n) ?? 9 }));
    },
  });

  router.route({
    method: 'GET', path: '/api/tables/:name', summary: 'columns, partitions and sample rows of a table or view',
    query: z.object({ sample: z.coerce.number().int().min(0).max(200).default(20) }),
    response: z.object({
      name: z.string(), columns: z.array(z.object({ column: z.string(), type: z.string() })),
      partitions: z.array(z.object({ column: z.string(), value: z.string().nullable(), rows: z.number() })),
      sample: z.object({ columns: z.array(z.string()), rows: z.array(z.array(z.unknown())) }),
    }),
    handler: async ({ params, query }) => {
      const name = ident.safeParse(params.name);
      if (!name.success) throw new HttpError(400, `params.name: ${name.error.issues[0].message}`);
      const cat = await ctx.sqlCatalog();
      const t = name.data.toLowerCase();
      if (!(await cat.tables()).includes(t)) throw new HttpError(404, `no table or view '${params.name}' in the catalog`);
      const columns = await cat.describe(t);
      const partitions: { column: string; value: string | null; rows: number }[] = [];
      for (const pc of PARTITION_COLUMNS) {
        if (!columns.some((c) => c.column === pc)) continue;
        const r = await cat.query(`SELECT ${pc}, count(*) FROM ${t} GROUP BY 1 ORDER BY 1 DESC LIMIT 400`);
        for (const row of r.rows) partitions.push({ column: pc, value: row[0] === null ? null : String(row[0]), rows: Number(row[1]) });
      }
      const sample = query.sample ? await cat.query(`SELECT * FROM ${t} LIMIT ${query.sample}`) : { columns: columns.map((c) => c.column), rows: [] };
      return { name: t, columns, partitions, sample };
    },
  });

  router.route({
    method: 'GET', path: '/api/store', summary: 'table-store tables',
    response: z.array(z.object({ name: z.string(), families: z.array(z.string()), maxVersions: z.number().optional() })),
    handler: async () => (await ctx.tableStore()).listTables(),
  });

  router.route({
    method: 'GET', path: '/api/store/:table/scan', summary: "scan rows with the CLI's filters (AND)",
    query: z.object({
      prefix: z.string().optional(), start: z.string().optional(), stop: z.string().optional(),
      filter: z.string().optional(), limit: z.coerce.number().int().min(1).max(10_000).default(100),
      reverse: z.enum(['true', 'false']).default('false'),
    }),
    response: z.object({ rows: z.array(rowSchema), filters: z.array(z.string()), truncated: z.boolean() }),
    handler: async ({ params, query, url }) => {
      const texts = url.searchParams.getAll('filter').filter((f) => f.trim() !== '');
      let filters: ColumnFilter[];
      try {
        filters = texts.map(parseFilter);
      } catch (err) {
        throw new HttpError(400, `query.filter: ${(err as UserError).message}`);
      }
      const store = await ctx.tableStore();
      if (!(await store.listTables()).some((t) => t.name === params.table)) throw new HttpError(404, `no table '${params.table}' in the table store`);
      const rows = [];
      for await (const r of store.scan(params.table, { prefix: query.prefix || undefined, start: query.start || undefined, stop: query.stop || undefined, filters, limit: query.limit + 1, reverse: query.reverse === 'true' })) {
        rows.push(r);
      }
      return { rows: rows.slice(0, query.limit), filters: texts, truncated: rows.length > query.limit };
    },
  });

  router.route({
    method: 'GET', path: '/api/store/:table/rows/:row', summary: 'one row', response: rowSchema,
    handler: async ({ params }) => {
      const r = await (await ctx.tableStore()).get(params.table, params.row);
      if (!r) throw new HttpError(404, `no row '${params.row}' in ${params.table}`);
      return r;
    },
  });

  router.route({
    method: 'PUT', path: '/api/store/:table/rows/:row', summary: 'write one column of a row (a put)',
    body: z.object({
      column: z.string().regex(/^[A-Za-z0-9_]+:[A-Za-z0-9_.-]+$/, 'family:qualifier, e.g. cf1:speed'),
      value: z.string().max(65_536),
    }).strict(),
    response: rowSchema,
    handler: async ({ params, body }) => {
      const store = await ctx.tableStore();
      const t = (await store.listTables()).find((x) => x.name === params.table);
      if (!t) throw new HttpError(404, `no table '${params.table}' in the table store`);
      const family = body.column.split(':')[0];
      if (!t.families.includes(family)) throw new HttpError(400, `body.column: ${params.table} has no family '${family}' (families: ${t.families.join(', ')})`);
      const before = await store.get(params.table, params.row);
      if (!before) throw new HttpError(404, `no row '${params.row}' in ${params.table}: a put from the console edits an existing row`);
      await store.put(params.table, params.row, { [body.column]: body.value });
      return (await store.get(params.table, params.row))!;
    },
  });
}
