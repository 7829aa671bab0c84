/**
 * Java `.properties` files, as Flume reads its agent definitions:
 *
 *   line        = comment | blank | key sep value
 *   comment     = ws* ('#' | '!') any*
 *   sep         = ws* ('=' | ':') ws* | ws+
 *   continuation: a line ending in an odd number of backslashes joins the next (leading ws dropped)
 *   escapes     : \t \n \r \f \uXXXX, and `\x` → `x` for any other x (so `^\\d{14}` reads as `^\d{14}`)
 *
 * Every entry keeps the line it came from, so a bad key or value is reported as `file:line`.
 */

export interface PropertyEntry {
  key: string;
  value: string;
  line: number;
}

function unescape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i === s.length - 1) {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === 't') out += '\t';
    else if (n === 'n') out += '\n';
    else if (n === 'r') out += '\r';
    else if (n === 'f') out += '\f';
    else if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16));
      i += 4;
    } else out += n;
  }
  return out;
}

const endsWithOddBackslashes = (s: string): boolean => {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
};

/** Parses properties text; later duplicates win (as java.util.Properties), all entries are returned in order. */
export function parseProperties(text: string): PropertyEntry[] {
  const lines = text.split(/\r\n|\r|\n/);
  const entries: PropertyEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let logical = lines[i].replace(/^[ \t\f]+/, '');
    if (logical === '' || logical[0] === '#' || logical[0] === '!') continue;
    while (endsWithOddBackslashes(logical) && i + 1 < lines.length) {
      logical = logical.slice(0, -1) + lines[++i].replace(/^[ \t\f]+/, '');
    }
    // The key ends at the first unescaped separator (=, : or whitespace).
    let k = 0;
    while (k < logical.length) {
      const c = logical[k];
      if (c === '\\') { k += 2; continue; }
      if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
      k++;
    }
    const rawKey = logical.slice(0, k);
    let rest = logical.slice(k).replace(/^[ \t\f]+/, '');
    if (rest[0] === '=' || rest[0] === ':') rest = rest.slice(1).replace(/^[ \t\f]+/, '');
    entries.push({ key: unescape(rawKey), value: unescape(rest).replace(/[ \t]+$/, ''), line: lineNo });
  }
  return entries;
}

/** Edit distance, for "did you mean …?" on misspelled keys. */
export function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The closest candidate within a small distance, or undefined. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 4)) + 1;
  for (const c of candidates) {
    const d = levenshtein(word, c);
    if (d < bestD) { best = c; bestD = d; }
  }
  return best;
}
