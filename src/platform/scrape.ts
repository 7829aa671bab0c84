/**
 * Scraping the children's endpoints and merging Prometheus text (format 0.0.4).
 *
 * Each source's samples get a `component="<name>"` label, so two children exposing the same family
 * stay distinct series. Families are grouped: one `# HELP` and one `# TYPE` per family name, then
 * all its samples from every source (the format requires a family's lines to be contiguous).
 */
import http from 'node:http';

export interface MetricsSource {
  component: string;
  text: string;
}

interface Family {
  help?: string;
  type?: string;
  samples: string[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?(\s.*)$/;
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created', '_info'];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Adds `component="…"` to one sample line (unless it has that label already). */
export function labelSample(line: string, component: string): string {
  const m = SAMPLE.exec(line);
  if (!m) return line;
  const [, name, labels, rest] = m;
  const extra = `component="${escapeLabel(component)}"`;
  if (!labels) return `${name}{${extra}}${rest}`;
  if (/(^|[{,])\s*component="/.test(labels)) return line;
  const inner = labels.slice(1, -1).trim();
  return `${name}{${inner ? `${extra},${inner.replace(/,\s*$/, '')}` : extra}}${rest}`;
}

export function mergeMetrics(sources: MetricsSource[]): string {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { samples: [] }));
    return f;
  };
  for (const src of sources) {
    let current: string | undefined;
    for (const raw of src.text.split('\n')) {
      const line = raw.trimEnd();
      if (!line) continue;
      if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
        const name = line.slice(7).split(' ')[0];
        current = name;
        const f = family(name);
        if (line.startsWith('# HELP ')) f.help ??= line;
        else f.type ??= line;
        continue;
      }
      if (line.startsWith('#')) continue;
      const m = SAMPLE.exec(line);
      if (!m) continue;
      const name = m[1];
      // A sample belongs to the family announced above it when its name is the family's or a suffixed form.
      const owner = current && (name === current || SUFFIXES.some((s) => name === current + s)) ? current : name;
      family(owner).samples.push(labelSample(line, src.component));
    }
  }
  const out: string[] = [];
  for (const f of families.values()) {
    if (f.help) out.push(f.help);
    if (f.type) out.push(f.type);
    out.push(...f.samples);
  }
  return out.join('\n') + '\n';
}

/** GET http://address/path with a timeout; resolves with status and body, rejects on connection errors. */
export function httpGet(address: string, urlPath: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) => {
    // A connection per request (agent: false): Node's global agent keeps sockets alive, and a request sent on
    // one just as the server's keep-alive timeout (5 s) closes it fails with "socket hang up" (seen on a
    // loaded machine). Scrapes are seconds apart, so there is nothing to reuse anyway.
    const req = http.get({ host, port, path: urlPath, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from http://${address}${urlPath} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}
