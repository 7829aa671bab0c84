/**
 * Zeppelin's dynamic forms in a SQL paragraph (shared by the server and the page):
 *
 *   ${name}                   a text box, empty by default
 *   ${name=default}           a text box with a default:        ${AvgSpeed=60}
 *   ${name=default,a|b|c}     a select of a, b, c:               ${area=A01,A01|B02|C04}
 *
 * Running substitutes each form's value (the page's, else the default) for its `${…}`; the same name
 * used twice is one form.
 */
export interface Form {
  name: string;
  defaultValue: string;
  /** Present for a select. */
  options?: string[];
}

const FORM = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:=([^,}]*)(?:,([^}]*))?)?\}/g;

export function parseForms(sql: string): Form[] {
  const out = new Map<string, Form>();
  for (const m of sql.matchAll(FORM)) {
    if (out.has(m[1])) continue;
    const options = m[3] !== undefined ? m[3].split('|').map((s) => s.trim()).filter(Boolean) : undefined;
    out.set(m[1], { name: m[1], defaultValue: (m[2] ?? '').trim(), ...(options ? { options } : {}) });
  }
  return [...out.values()];
}

export function substituteForms(sql: string, values: Record<string, string> = {}): string {
  return sql.replace(FORM, (_all, name: string, def?: string) => values[name] ?? (def ?? '').trim());
}
