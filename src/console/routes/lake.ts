/**
 * The lake browser (Hue's file browser over HDFS): folders with sizes and file counts, head and tail of a
 * text or Parquet file, downloads. Every path is relative to `<data>/lake` and must stay inside it (after
 * resolving `..` and symbolic links). Files still being written (`*.tmp`, the collection agent's in-use names) are
 * marked `inProgress`.
 *
 *   GET /api/lake/list?path=collect/car-batch-log
 *   GET /api/lake/preview?path=…&lines=20        text: first and last lines; Parquet: first and last rows
 *   GET /api/lake/download?path=…                the file as is
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { HttpError, type Router } from '../../core/index.ts';
import type { ConsoleContext } from '../context.ts';

const pathQuery = z.string().max(1000).default('').refine((p) => !p.includes('\0'), 'no NUL bytes');

/** The absolute path of `rel` inside the lake, or a 400/404. */
export function confine(lake: string, rel: string): string {
  const root = fs.existsSync(lake) ? fs.realpathSync(lake) : path.resolve(lake);
  const abs = path.resolve(root, '.' + path.sep + rel);
  if (abs !== root && !abs.startsWith(root + path.sep)) throw new HttpError(400, `query.path: '${rel}' is outside the lake`);
  if (!fs.existsSync(abs)) throw new HttpError(404, `query.path: no such file or folder in the lake: '${rel}'`);
  const real = fs.realpathSync(abs);
  if (real !== root && !real.startsWith(root + path.sep)) throw new HttpError(400, `query.path: '${rel}' leads outside the lake`);
  return real;
}

const isInProgress = (name: string) => name.endsWith('.tmp') || name.startsWith('.') || name.endsWith('.inprogress');

async function tree(dir: string): Promise<{ bytes: number; files: number; inProgress: number }> {
  let bytes = 0, files = 0, inProgress = 0;
  for (const e of await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => [] as fs.Dirent[])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const t = await tree(p);
      bytes += t.bytes; files += t.files; inProgress += t.inProgress;
    } else if (e.isFile()) {
      files++;
      if (isInProgress(e.name)) inProgress++;
      bytes += (await fs.promises.stat(p).catch(() => ({ size: 0 }))).size;
    }
  }
  return { bytes, files, inProgress };
}

const entrySchema = z.object({
  name: z.string(), path: z.string(), type: z.enum(['dir', 'file']), size: z.number(), files: z.number(),
  inProgress: z.boolean(), inProgressFiles: z.number(), mtime: z.number(),
});

async function readLines(file: string, lines: number): Promise<{ head: string[]; tail: string[]; size: number }> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const span = Math.min(size, 64 * 1024);
    const headBuf = Buffer.alloc(span);
    await fh.read(headBuf, 0, span, 0);
    const head = headBuf.toString('latin1').split('\n');
    if (size > span) head.pop(); // a partial last line
    let tail: string[] = [];
    if (size > span) {
      const tailBuf = Buffer.alloc(span);
      await fh.read(tailBuf, 0, span, size - span);
      tail = tailBuf.toString('latin1').split('\n');
      tail.shift();
    }
    const strip = (a: string[]) => (a.at(-1) === '' ? a.slice(0, -1) : a);
    const h = strip(head);
    const t = size > span ? strip(tail) : h;
    return { head: h.slice(0, lines), tail: t.length > lines ? t.slice(-lines) : size > span ? t : [], size };
  } finally {
    await fh.close();
  }
}

export function lakeRoutes(router: Router, ctx: ConsoleContext): void {
  const lake = ctx.paths.lake;
  const rel = (abs: string) => path.relative(fs.existsSync(lake) ? fs.realpathSync(lake) : lake, abs).split(path.sep).join('/');

  router.route({
    method: 'GET', path: '/api/lake/list', summary: 'a lake folder: entries with sizes and file counts',
    query: z.object({ path: pathQuery }),
    response: z.object({ path: z.string(), entries: z.array(entrySchema), totalBytes: z.number(), totalFiles: z.number() }),
    handler: async ({ query }) => {
      fs.mkdirSync(lake, { recursive: true });
      const dir = confine(lake, query.path);
      if (!fs.statSync(dir).isDirectory()) throw new HttpError(400, `query.path: '${query.path}' is a file, not a folder`);
      const entries: z.infer<typeof entrySchema>[] = [];
      for (const e of await fs.promises.readdir(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        const st = await fs.promises.stat(p).catch(() => undefined);
        if (!st) continue;
        if (st.isDirectory()) {
          const t = await tree(p);
          entries.push({ name: e.name, path: rel(p), type: 'dir', size: t.bytes, files: t.files, inProgress: false, inProgressFiles: t.inProgress, mtime: st.mtimeMs });
        } else {
          const ip = isInProgress(e.name);
          entries.push({ name: e.name, path: rel(p), type: 'file', size: st.size, files: 1, inProgress: ip, inProgressFiles: ip ? 1 : 0, mtime: st.mtimeMs });
        }
      }
      entries.sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'dir' ? -1 : 1));
      return { path: rel(dir), entries, totalBytes: entries.reduce((s, e) => s + e.size, 0), totalFiles: entries.reduce((s, e) => s + e.files, 0) };
    },
  });

  router.route({
    method: 'GET', path: '/api/lake/preview', summary: 'head and tail of a text or Parquet file',
    query: z.object({ path: pathQuery, lines: z.coerce.number().int().min(1).max(1000).default(20) }),
    response: z.object({
      path: z.string(), kind: z.enum(['text', 'parquet']), size: z.number(), inProgress: z.boolean(),
      head: z.array(z.string()).optional(), tail: z.array(z.string()).optional(),
      columns: z.array(z.string()).optional(), rows: z.number().optional(),
      headRows: z.array(z.array(z.unknown())).optional(), tailRows: z.array(z.array(z.unknown())).optional(),
    }),
    handler: async ({ query }) => {
      const file = confine(lake, query.path);
      const st = fs.statSync(file);
      if (!st.isFile()) throw new HttpError(400, `query.path: '${query.path}' is a folder`);
      const inProgress = isInProgress(path.basename(file));
      if (file.endsWith('.parquet')) {
        const cat = await ctx.sqlCatalog();
        const src = `read_parquet('${file.replace(/'/g, "''")}')`;
        const n = Number((await cat.query(`SELECT count(*) FROM ${src}`)).rows[0][0]);
        const head = await cat.query(`SELECT * FROM ${src} LIMIT ${query.lines}`);
        const tail = n > query.lines ? await cat.query(`SELECT * FROM ${src} OFFSET ${Math.max(query.lines, n - query.lines)}`) : { rows: [] };
        return { path: rel(file), kind: 'parquet' as const, size: st.size, inProgress, columns: head.columns, rows: n, headRows: head.rows, tailRows: tail.rows };
      }
      const { head, tail } = await readLines(file, query.lines);
      return { path: rel(file), kind: 'text' as const, size: st.size, inProgress, head, tail };
    },
  });

  router.route({
    method: 'GET', path: '/api/lake/download', summary: 'download a lake file',
    query: z.object({ path: pathQuery }),
    handler: async ({ query, res }) => {
      const file = confine(lake, query.path);
      const st = fs.statSync(file);
      if (!st.isFile()) throw new HttpError(400, `query.path: '${query.path}' is a folder`);
      res.writeHead(200, {
        'content-type': 'application/octet-stream', 'content-length': String(st.size),
        'content-disposition': `attachment; filename="${path.basename(file).replace(/[^A-Za-z0-9._=-]/g, '_')}"`,
      });
      await new Promise<void>((resolve) => fs.createReadStream(file).on('error', () => { res.destroy(); resolve(); }).pipe(res).on('finish', resolve).on('close', resolve));
      return undefined;
    },
  });
}
