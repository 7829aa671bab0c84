/**
 * Model files. One header line, then the body (UTF-8 JSON):
 *
 *   smartcar-model <format-version> <kind> <body-bytes> <sha256-hex-of-body>\n
 *   {"…": …}
 *
 * Written to a temporary name, fsynced and renamed, so a crash leaves the previous model. Reading
 * checks the header, the length and the checksum before parsing, then the body's schema: a truncated,
 * edited or foreign file is reported and nothing of it is used.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { UserError, describeIssues } from '../core/index.ts';

const MAGIC = 'smartcar-model';
const VERSION = 1;

export function writeModelFile(file: string, kind: string, body: unknown): void {
  const text = Buffer.from(JSON.stringify(body), 'utf8');
  const sha = createHash('sha256').update(text).digest('hex');
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.tmp-${process.pid}`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `${MAGIC} ${VERSION} ${kind} ${text.length} ${sha}\n`);
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function readModelFile<S extends z.ZodType>(file: string, kind: string, schema: S): z.output<S> {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UserError(e.code === 'ENOENT' ? `no model at ${file}: train one first (smartcar ml classify train --day yyyyMMdd)` : `cannot read model ${file}: ${e.message}`);
  }
  const nl = buf.indexOf(10);
  const header = (nl < 0 ? buf : buf.subarray(0, nl)).toString('utf8').slice(0, 300).split(' ');
  if (nl < 0 || header[0] !== MAGIC) throw new UserError(`${file} is not a smartcar model file (no '${MAGIC}' header)`);
  if (Number(header[1]) !== VERSION) throw new UserError(`${file}: model format version ${header[1]} is not supported (this smartcar reads version ${VERSION})`);
  if (header[2] !== kind) throw new UserError(`${file} holds a ${header[2]} model, not a ${kind} model`);
  const body = buf.subarray(nl + 1);
  if (body.length !== Number(header[3])) throw new UserError(`${file} is corrupt: its body has ${body.length} bytes, the header says ${header[3]} (truncated or appended to); retrain the model`);
  const sha = createHash('sha256').update(body).digest('hex');
  if (sha !== header[4]) throw new UserError(`${file} is corrupt: checksum mismatch (sha256 ${sha.slice(0, 12)}… ≠ ${String(header[4]).slice(0, 12)}…); retrain the model`);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new UserError(`${file} is corrupt: ${(err as Error).message}`);
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new UserError(`${file} is not a valid ${kind} model:\n${describeIssues(file, r.error)}`);
  return r.data;
}
