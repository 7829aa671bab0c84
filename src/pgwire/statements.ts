/**
 * Statements this server answers itself, before DuckDB sees anything:
 *
 *   BEGIN | START TRANSACTION …   COMMIT | END   ROLLBACK | ABORT   SAVEPOINT n   RELEASE [SAVEPOINT] n
 *   SET [SESSION | LOCAL] name { TO | = } value | SET TIME ZONE v | SET SESSION CHARACTERISTICS … | RESET name | RESET ALL
 *   SHOW name
 *   DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [[NO] SCROLL] CURSOR [{WITH | WITHOUT} HOLD] FOR query
 *   FETCH | MOVE [NEXT | FORWARD [n | ALL] | n | ALL] [FROM | IN] name
 *   CLOSE name | CLOSE ALL    DISCARD ALL    DEALLOCATE [PREPARE] name | ALL
 *
 * Sessions are read-only, so a transaction block only tracks its status (ReadyForQuery 'T' / 'E').
 * `split` cuts a simple-query string at top-level ';' (quotes, "identifiers", $tag$ bodies and
 * comments respected).
 */

export type Own =
  | { kind: 'tx'; tag: 'BEGIN' | 'COMMIT' | 'ROLLBACK' | 'SAVEPOINT' | 'RELEASE' }
  | { kind: 'set'; name?: string; value?: string; tag: 'SET' | 'RESET' }
  | { kind: 'show'; name: string }
  | { kind: 'declare'; name: string; binary: boolean; query: string }
  | { kind: 'fetch'; name: string; count: number | 'all'; move: boolean }
  | { kind: 'close'; name: string | null }
  | { kind: 'discard'; tag: 'DISCARD ALL' | 'DEALLOCATE' | 'DEALLOCATE ALL'; name?: string };

const ident = (s: string) => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s.toLowerCase());
const unquote = (v: string) => {
  const t = v.trim();
  if (/^'.*'$/s.test(t)) return t.slice(1, -1).replace(/''/g, "'");
  if (/^".*"$/s.test(t)) return t.slice(1, -1);
  return t;
};
const NAME = String.raw`("(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;

export function ownStatement(sql: string): Own | undefined {
  const s = sql.trim().replace(/;+$/, '').trim();
  let m: RegExpExecArray | null;
  if (/^(begin|start\s+transaction)\b/i.test(s)) return { kind: 'tx', tag: 'BEGIN' };
  if (/^(commit|end)(\s+(work|transaction))?(\s+and\s+(no\s+)?chain)?$/i.test(s)) return { kind: 'tx', tag: 'COMMIT' };
  if (/^(rollback|abort)\b/i.test(s)) return /^rollback\s+to\b/i.test(s) ? { kind: 'tx', tag: 'ROLLBACK' } : { kind: 'tx', tag: 'ROLLBACK' };
  if (/^savepoint\s/i.test(s)) return { kind: 'tx', tag: 'SAVEPOINT' };
  if (/^release\s/i.test(s)) return { kind: 'tx', tag: 'RELEASE' };
  if ((m = /^set\s+(?:session\s+|local\s+)?time\s+zone\s+(.+)$/is.exec(s))) return { kind: 'set', name: 'timezone', value: unquote(m[1]!), tag: 'SET' };
  if (/^set\s+(session\s+characteristics|transaction)\b/i.test(s)) return { kind: 'set', tag: 'SET' };
  if ((m = new RegExp(String.raw`^set\s+(?:session\s+|local\s+)?${NAME}(?:\.${NAME})?\s*(?:=|\bto\b)\s*(.*)$`, 'is').exec(s))) {
    return { kind: 'set', name: ident(m[2] ? `${m[1]}.${m[2]}` : m[1]!), value: unquote(m[3]!), tag: 'SET' };
  }
  if ((m = new RegExp(String.raw`^reset\s+${NAME}$`, 'i').exec(s))) return { kind: 'set', name: m[1]!.toLowerCase() === 'all' ? undefined : ident(m[1]!), tag: 'RESET' };
  if ((m = new RegExp(String.raw`^show\s+${NAME}$`, 'i').exec(s))) return { kind: 'show', name: ident(m[1]!) };
  if ((m = new RegExp(String.raw`^declare\s+${NAME}\s+((?:binary|asensitive|insensitive|no|scroll|\s)*)cursor\s+(?:(?:with|without)\s+hold\s+)?for\s+(.+)$`, 'is').exec(s))) {
    return { kind: 'declare', name: ident(m[1]!), binary: /\bbinary\b/i.test(m[2]!), query: m[3]! };
  }
  if ((m = new RegExp(String.raw`^(fetch|move)\s+(?:(next|forward|all|\d+)\s+(?:(all|\d+)\s+)?)?(?:(?:from|in)\s+)?${NAME}$`, 'i').exec(s))) {
    const a = m[2]?.toLowerCase(), b = m[3]?.toLowerCase();
    const word = b ?? (a === 'forward' || a === 'next' ? (a === 'next' ? '1' : 'all') : a ?? '1');
    const count = word === 'all' ? 'all' : Number(word);
    return { kind: 'fetch', name: ident(m[4]!), count: a === 'forward' && !b ? 1 : count, move: m[1]!.toLowerCase() === 'move' };
  }
  if ((m = new RegExp(String.raw`^close\s+${NAME}$`, 'i').exec(s))) return { kind: 'close', name: m[1]!.toLowerCase() === 'all' ? null : ident(m[1]!) };
  if (/^discard\s+all$/i.test(s)) return { kind: 'discard', tag: 'DISCARD ALL' };
  if ((m = new RegExp(String.raw`^deallocate\s+(?:prepare\s+)?${NAME}$`, 'i').exec(s))) {
    return m[1]!.toLowerCase() === 'all' ? { kind: 'discard', tag: 'DEALLOCATE ALL' } : { kind: 'discard', tag: 'DEALLOCATE', name: ident(m[1]!) };
  }
  return undefined;
}

/** Statements of a simple query, without the empty ones between semicolons. */
export function split(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" ) {
      const backslash = i > 0 && /[eE]/.test(sql[i - 1]!) && (i < 2 || !/\w/.test(sql[i - 2]!));
      i++;
      while (i < n) {
        if (backslash && sql[i] === '\\') i += 2;
        else if (sql[i] === "'") {
          if (sql[i + 1] === "'") i += 2;
          else break;
        } else i++;
      }
      i++;
    } else if (c === '"') {
      i = sql.indexOf('"', i + 1);
      while (i >= 0 && sql[i + 1] === '"') i = sql.indexOf('"', i + 2);
      i = i < 0 ? n : i + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const e = sql.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === '$' && (i === 0 || !/\w/.test(sql[i - 1]!))) {
      const m = /^\$([A-Za-z_]\w*)?\$/.exec(sql.slice(i, i + 64));
      if (m) {
        const e = sql.indexOf(m[0], i + m[0].length);
        i = e < 0 ? n : e + m[0].length;
      } else i++;
    } else if (c === ';') {
      out.push(sql.slice(start, i));
      start = ++i;
    } else i++;
  }
  out.push(sql.slice(start));
  return out.filter((s) => !isBlank(s));
}

/** Only whitespace and comments. */
export function isBlank(sql: string): boolean {
  return sql.replace(/--[^\n]*(\n|$)/g, '').replace(/\/\*[\s\S]*?\*\//g, '').trim() === '';
}
