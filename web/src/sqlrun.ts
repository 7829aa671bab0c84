// Runs read-only SQL on the console (POST /api/sql/run) and reads its NDJSON stream chunk by chunk.
import { request } from './api.ts';

export interface RunMeta { run: string; sql: string; columns: string[]; types: string[]; limit: number }
export interface RunEnd { rows: number; ms: number; stopped: string | null }

export async function runSql(sql: string, params: Record<string, string>, on: { meta(m: RunMeta): void; rows(r: unknown[][]): void }, signal: AbortSignal): Promise<RunEnd> {
  const res = await request('POST', '/api/sql/run', { sql, params }, signal);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let end: RunEnd | undefined;
  let slice = performance.now();
  for (;;) {
    // Give the page a frame now and then: parsing a long stream must not keep the first rows from showing.
    if (performance.now() - slice > 30) {
      await new Promise((r) => setTimeout(r, 0));
      slice = performance.now();
    }
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line);
      if (msg.type === 'meta') on.meta(msg);
      else if (msg.type === 'rows') on.rows(msg.rows);
      else if (msg.type === 'end') end = msg;
      else if (msg.type === 'error') throw new Error(`the query failed while streaming: ${msg.error}`);
    }
  }
  if (!end) throw new Error('the result stream ended early (the console stopped answering)');
  return end;
}
