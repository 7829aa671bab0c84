/**
 * DuckDB's errors as PostgreSQL errors: the SQLSTATE a client branches on, from the error's class
 * (DuckDB prefixes every message with it: "Parser Error: …", "Catalog Error: Table with name x does not exist!").
 */
import type { PgError } from './backend/error-response.ts';

const BY_CLASS: [RegExp, string][] = [
  [/^Parser Error/, '42601'],
  [/^Catalog Error: Table with name|^Catalog Error: Table Function with name .* does not exist|^Catalog Error: .*(?:Table|View) .* does not exist/, '42P01'],
  [/^Catalog Error: Schema with name/, '3F000'],
  [/^Catalog Error: (?:Scalar )?Function with name|^Binder Error: No function matches/, '42883'],
  [/^Binder Error: Referenced column|^Binder Error: Values list .* does not have a column/, '42703'],
  [/^Binder Error: .*ambiguous/, '42702'],
  [/^Binder Error|^Catalog Error/, '42000'],
  [/^Conversion Error|^Invalid Input Error/, '22P02'],
  [/^Out of Range Error/, '22003'],
  [/^Division By Zero|division by zero/i, '22012'],
  [/^Permission Error/, '42501'],
  [/^INTERRUPT Error|Interrupted/, '57014'],
  [/^Out of Memory Error/, '53200'],
  [/^IO Error/, '58030'],
  [/^Not implemented Error/, '0A000'],
];

export function pgErrorOf(err: unknown): PgError {
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split('\n')[0]!;
  for (const [re, code] of BY_CLASS) if (re.test(message)) return { code, message: first.replace(/^[A-Za-z ]+ Error: /, ''), detail: message.includes('\n') ? message.slice(first.length + 1).trim().slice(0, 2000) || undefined : undefined };
  return { code: 'XX000', message: first };
}
