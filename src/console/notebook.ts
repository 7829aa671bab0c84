/**
 * Notebook files: plain Markdown under `<data>/notebooks/<id>.md`, so they can be copied, diffed and kept
 * in git (and read on any forge). The grammar:
 *
 *   notebook   = "# " title NL { note-line } { paragraph }
 *   paragraph  = "## " title NL { note-line } fence
 *   fence      = "```sql" { " " option } NL sql-lines "```" NL
 *   option     = ("chart" | "key" | "value" | "group") "=" word
 *   chart      = table | bar | line | area | pie | scatter           (default table)
 *
 * `key` is the category / x column, `value` the measure columns (comma-separated), `group` an optional
 * series column. SQL may carry dynamic forms (forms.ts). Note lines are kept as they are. Ids are file
 * names: letters, digits, `-` and `_`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const CHARTS = ['table', 'bar', 'line', 'area', 'pie', 'scatter'] as const;

export const paragraphSchema = z.object({
  title: z.string().max(200),
  note: z.string().max(20_000).default(''),
  sql: z.string().max(200_000),
  chart: z.enum(CHARTS).default('table'),
  key: z.string().max(200).optional(),
  value: z.string().max(1000).optional(),
  group: z.string().max(200).optional(),
});
export const notebookSchema = z.object({
  title: z.string().min(1).max(200),
  note: z.string().max(20_000).default(''),
  paragraphs: z.array(paragraphSchema).max(200),
});
export type Paragraph = z.infer<typeof paragraphSchema>;
export type Notebook = z.infer<typeof notebookSchema>;

export const NOTEBOOK_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

export class NotebookFormatError extends Error {}

export function parseNotebook(text: string, source = 'notebook'): Notebook {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length && lines[i].trim() === '') i++;
  if (!lines[i]?.startsWith('# ')) throw new NotebookFormatError(`${source}:${i + 1}: a notebook starts with '# <title>'`);
  const nb: Notebook = { title: lines[i].slice(2).trim(), note: '', paragraphs: [] };
  i++;
  const notes: string[] = [];
  while (i < lines.length && !lines[i].startsWith('## ')) notes.push(lines[i++]);
  nb.note = notes.join('\n').trim();
  while (i < lines.length) {
    const title = lines[i].slice(3).trim();
    const start = i + 1;
    i++;
    const pnotes: string[] = [];
    while (i < lines.length && !lines[i].startsWith('```sql') && !lines[i].startsWith('## ')) pnotes.push(lines[i++]);
    if (i >= lines.length || !lines[i].startsWith('```sql')) throw new NotebookFormatError(`${source}:${start}: paragraph '${title}' has no \`\`\`sql block`);
    const opts: Record<string, string> = {};
    for (const w of lines[i].slice(6).trim().split(/\s+/).filter(Boolean)) {
      const eq = w.indexOf('=');
      if (eq < 1) throw new NotebookFormatError(`${source}:${i + 1}: option '${w}' is not name=value`);
      opts[w.slice(0, eq)] = w.slice(eq + 1);
    }
    const fenceLine = i + 1;
    i++;
    const sql: string[] = [];
    while (i < lines.length && lines[i].trim() !== '```') sql.push(lines[i++]);
    if (i >= lines.length) throw new NotebookFormatError(`${source}:${fenceLine}: the \`\`\`sql block is not closed`);
    i++;
    while (i < lines.length && !lines[i].startsWith('## ')) {
      if (lines[i].trim() !== '') throw new NotebookFormatError(`${source}:${i + 1}: text after a paragraph's SQL block belongs before it (or under a new '## ' heading)`);
      i++;
    }
    const p = paragraphSchema.safeParse({ title, note: pnotes.join('\n').trim(), sql: sql.join('\n'), ...opts });
    if (!p.success) throw new NotebookFormatError(`${source}:${fenceLine}: ${p.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    nb.paragraphs.push(p.data);
  }
  return nb;
}

export function formatNotebook(nb: Notebook): string {
  const out = [`# ${nb.title}`, ''];
  if (nb.note) out.push(nb.note, '');
  for (const p of nb.paragraphs) {
    out.push(`## ${p.title || 'Untitled'}`, '');
    if (p.note) out.push(p.note, '');
    const opts = [p.chart !== 'table' || p.key || p.value ? `chart=${p.chart}` : '', p.key ? `key=${p.key}` : '', p.value ? `value=${p.value}` : '', p.group ? `group=${p.group}` : ''].filter(Boolean);
    out.push('```sql' + (opts.length ? ' ' + opts.join(' ') : ''), p.sql.replace(/\n+$/, ''), '```', '');
  }
  return out.join('\n');
}

/** Copies the shipped notebooks into `dir` once each (a user's edited copy is never overwritten). */
export function seedNotebooks(dir: string, shipped: string): void {
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(shipped)) return;
  const marker = path.join(dir, '.seeded');
  const seeded = new Set(fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').split('\n').filter(Boolean) : []);
  for (const f of fs.readdirSync(shipped).filter((x) => x.endsWith('.md'))) {
    if (seeded.has(f)) continue;
    const dst = path.join(dir, f);
    if (!fs.existsSync(dst)) fs.copyFileSync(path.join(shipped, f), dst);
    seeded.add(f);
  }
  fs.writeFileSync(marker, [...seeded].join('\n') + '\n');
}
