/**
 * Before the PostgreSQL table store is used: one connection, retried a bounded number of times while
 * the server refuses or times out (it may be starting), and an error that names the URL (its password
 * hidden) and what to check — never a stack, never a silent hang.
 */
import pg from 'pg';
import { UserError, redactUrls } from '../core/index.ts';

const RETRIABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNRESET', '57P03']);

export async function checkPostgres(url: string, tries = 3, delayMs = 1000): Promise<void> {
  let last: (Error & { code?: string }) | undefined;
  for (let i = 0; i < tries; i++) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.end();
      return;
    } catch (err) {
      last = err as Error & { code?: string };
      await c.end().catch(() => {});
      if (!RETRIABLE.has(last.code ?? '')) break;
      if (i + 1 < tries) await new Promise((r) => setTimeout(r, delayMs));
    }
  }
  const what = last?.code === '28P01' ? 'the password was refused' : last?.message ?? 'no answer';
  throw new UserError(`cannot use PostgreSQL at ${redactUrls(url)}: ${what}; check that PostgreSQL runs there, the user, password and database of --postgres (or leave --postgres out for the embedded table store)`);
}
