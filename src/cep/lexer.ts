/**
 * EPL tokens. Keywords are case-insensitive (as in Esper); identifiers keep their case.
 * Comments: `// …`, `-- …` to end of line, and `/* … *\/` blocks.
 */
export type TokenKind = 'ident' | 'number' | 'string' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Identifier or operator text; for strings the unquoted value. */
  text: string;
  /** Lower-cased identifier, for keyword checks. */
  lower: string;
  value?: number;
  line: number;
  column: number;
  offset: number;
}

export class EplError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    readonly source?: string,
    text?: string,
  ) {
    super(formatError(reason, line, column, source, text));
    this.name = 'EplError';
  }
}

function formatError(reason: string, line: number, column: number, source?: string, text?: string): string {
  const where = `${source ? source + ':' : ''}${line}:${column}`;
  if (text === undefined) return `${where}: ${reason}`;
  const src = text.split('\n')[line - 1] ?? '';
  return `${where}: ${reason}\n  ${src}\n  ${' '.repeat(Math.max(0, column - 1))}^`;
}

const OPS = ['<>', '!=', '<=', '>=', '=', '<', '>', '(', ')', ',', '.', ':', '*', '/', '+', '-', '%', '@', ';'];

export function tokenize(text: string, source?: string): Token[] {
  const tokens: Token[] = [];
  let i = 0, line = 1, col = 1;
  const advance = (n: number) => {
    for (let k = 0; k < n; k++) {
      if (text[i] === '\n') { line++; col = 1; } else col++;
      i++;
    }
  };
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') { advance(1); continue; }
    if ((c === '/' && text[i + 1] === '/') || (c === '-' && text[i + 1] === '-')) {
      while (i < text.length && text[i] !== '\n') advance(1);
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const l0 = line, c0 = col;
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new EplError('unterminated comment', l0, c0, source, text);
      advance(end + 2 - i);
      continue;
    }
    const start = { line, column: col, offset: i };
    if (/[A-Za-z_$]/.test(c)) {
      let j = i;
      while (j < text.length && /[A-Za-z0-9_$]/.test(text[j])) j++;
      const word = text.slice(i, j);
      tokens.push({ kind: 'ident', text: word, lower: word.toLowerCase(), ...start });
      advance(j - i);
      continue;
    }
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) throw new EplError('unterminated `identifier`', line, col, source, text);
      const word = text.slice(i + 1, end);
      tokens.push({ kind: 'ident', text: word, lower: word.toLowerCase(), ...start });
      advance(end + 1 - i);
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?[lLdDfF]?/.exec(text.slice(i))!;
      const raw = m[0].replace(/[lLdDfF]$/, '');
      tokens.push({ kind: 'number', text: m[0], lower: m[0], value: Number(raw), ...start });
      advance(m[0].length);
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1, s = '';
      for (;;) {
        if (j >= text.length || text[j] === '\n') throw new EplError('unterminated string', line, col, source, text);
        if (text[j] === '\\' && j + 1 < text.length) { s += text[j + 1]; j += 2; continue; }
        if (text[j] === c) {
          if (text[j + 1] === c) { s += c; j += 2; continue; }
          break;
        }
        s += text[j++];
      }
      tokens.push({ kind: 'string', text: s, lower: s, ...start });
      advance(j + 1 - i);
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) throw new EplError(`unexpected character '${c}'`, line, col, source, text);
    tokens.push({ kind: 'op', text: op, lower: op, ...start });
    advance(op.length);
  }
  tokens.push({ kind: 'eof', text: '', lower: '', line, column: col, offset: i });
  return tokens;
}
