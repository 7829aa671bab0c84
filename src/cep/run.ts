/** `smartcar rules check` and `smartcar rules test`. */
import fs from 'node:fs';
import readline from 'node:readline';
import { UserError, checkInputFile, formatTimestamp14, parseDrivingRecord } from '../core/index.ts';
import { CepEngine } from './engine.ts';
import { EplError } from './lexer.ts';
import type { CepOutput } from './types.ts';

export function checkRules(files: string[]): number {
  let bad = 0;
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      process.stderr.write(`${file}: cannot read: ${(err as Error).message}\n`);
      bad++;
      continue;
    }
    try {
      const engine = new CepEngine();
      for (const s of engine.compile(text, file)) process.stdout.write(`${file}: ok  ${s.name}: ${s.ast.text}\n`);
    } catch (err) {
      if (!(err instanceof EplError)) throw err;
      process.stderr.write(err.message + '\n');
      bad++;
    }
  }
  return bad ? 1 : 0;
}

function cell(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  return v === null || v === undefined ? '' : String(v);
}

export async function testRules(files: string[], input: string, format: string, lateness: number): Promise<void> {
  if (format !== 'table' && format !== 'json') throw new UserError(`--format must be table or json, got '${format}'`);
  checkInputFile(input, '--input');
  const engine = new CepEngine({ allowedLatenessMs: lateness });
  for (const f of files) {
    try {
      engine.deploy(fs.readFileSync(f, 'utf8'), f);
    } catch (err) {
      if (err instanceof EplError) throw new UserError(err.message);
      throw err;
    }
  }
  let header = false;
  let outputs = 0;
  engine.onOutput((o: CepOutput) => {
    for (const row of o.rows) {
      outputs++;
      const full = { statement: o.statement, ...(o.windowStart !== undefined ? { windowStart: formatTimestamp14(o.windowStart), windowEnd: formatTimestamp14(o.windowEnd!) } : {}), ...row };
      if (format === 'json') {
        process.stdout.write(JSON.stringify(full) + '\n');
      } else {
        if (!header) {
          process.stdout.write(Object.keys(full).join('\t') + '\n');
          header = true;
        }
        process.stdout.write(Object.values(full).map(cell).join('\t') + '\n');
      }
    }
  });
  let records = 0, skipped = 0;
  const rl = readline.createInterface({ input: fs.createReadStream(input, { encoding: 'latin1' }), crlfDelay: Infinity });
  for await (const line of rl) {
    const p = parseDrivingRecord(line);
    if (!p.ok) { skipped++; continue; }
    records++;
    engine.send('DrivingRecord', p.record as unknown as Record<string, unknown>, p.record.eventTime);
  }
  engine.flush();
  const st = engine.stats();
  process.stderr.write(`${records} records, ${skipped} lines skipped (headers or malformed), ${st.late} late, ${outputs} output rows\n`);
}
