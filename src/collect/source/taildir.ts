/**
 * Flume's `TAILDIR` source: follows the files of its file groups with the tail follower (tail.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { registerComponent, type SourceFactory } from '../registry.ts';
import { resolvePath } from '../config.ts';
import { bool, int } from '../props.ts';
import { TailSource, type TailOptions } from './tail.ts';

const taildirSchema = z.object({
  filegroups: z.string().min(1).describe('Space-separated group names. Each group needs filegroups.<group> = a file, or a directory/regular expression for file names (matched once, when the agent starts); headers.<group>.<key> = <value> adds a header to its events. Relative paths resolve against the data directory.'),
  positionFile: z.string().optional().describe('Accepted, ignored: positions are committed atomically with the events in the channel, not written to a JSON file.'),
  batchSize: int(100, 1).describe('Lines per channel transaction.'),
  maxBatchCount: z.coerce.number().optional().describe('Accepted, ignored: each file is read to its current end before the next one.'),
  skipToEnd: bool(false).describe('Without a saved position, start at the end of a file (true) or at its beginning (false). A saved position always wins.'),
  idleTimeout: int(120000).describe('Accepted, ignored: followed files stay open.'),
  writePosInterval: int(3000).describe('Accepted, ignored: the position is committed with every batch.'),
  byteOffsetHeader: bool(false).describe('Accepted, ignored: no byte-offset header is added.'),
  fileHeader: bool(false).describe('Add the followed file\'s path as a header named fileHeaderKey.'),
  fileHeaderKey: z.string().default('file').describe('Header name for fileHeader.'),
  cachePatternMatching: bool(true).describe('Accepted, ignored: the regular expressions are matched once, when the agent starts (files created later need a restart).'),
  pollDelay: int(100, 10).describe('Milliseconds between checks for new data when idle (file-system notifications wake the source sooner).'),
  'deserializer.maxLineLength': int(1 << 20, 1).describe('Our addition: longest line in bytes. A longer line is counted in smartcar_collect_source_lines_too_long_total and written, cut to its first 1 KB, to the dead letters.'),
}).loose().describe('Follows files by name (appends, rotation, truncation; a partial last line waits for its newline). Positions are committed with the events as the source\'s marker in the channel, so a restart resumes exactly after the last committed line. File names are matched when the agent starts.');
type TaildirConfig = z.infer<typeof taildirSchema>;

/** Expands a filegroup path (the last component may be a regex, as in Flume) to the files existing now. */
function expandGroup(dir: string, pattern: string): string[] {
  if (!/[*+?[\]()|^$\\]/.test(pattern)) return [path.join(dir, pattern)];
  const re = new RegExp(`^${pattern}$`);
  try {
    return fs.readdirSync(dir).filter((n) => re.test(n)).map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

registerComponent({
  kind: 'source', type: 'TAILDIR', aliases: ['taildir', 'org.apache.flume.source.taildir.TaildirSource'],
  dynamicKeys: /^(filegroups|headers)\.[^.]+(\..+)?$/,
  schema: taildirSchema,
  create: (cfg: TaildirConfig, deliver, ctx) => {
    const raw = cfg as Record<string, string>;
    const files: TailOptions['files'] = [];
    for (const g of cfg.filegroups.split(/\s+/).filter(Boolean)) {
      const spec = raw[`filegroups.${g}`];
      if (!spec) throw new Error(`TAILDIR source '${ctx.name}': filegroups.${g} is missing (the file or directory/regex to follow)`);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(raw)) if (k.startsWith(`headers.${g}.`)) headers[k.slice(`headers.${g}.`.length)] = v;
      const abs = resolvePath(ctx.dataDir, spec);
      for (const f of expandGroup(path.dirname(abs), path.basename(abs))) files.push({ path: f, headers });
    }
    return new TailSource({
      files, batchSize: cfg.batchSize, skipToEnd: cfg.skipToEnd, maxLineLength: cfg['deserializer.maxLineLength'],
      pollMs: cfg.pollDelay, fileHeader: cfg.fileHeader ? cfg.fileHeaderKey : undefined,
    }, deliver, ctx);
  },
} satisfies SourceFactory<TaildirConfig>);
