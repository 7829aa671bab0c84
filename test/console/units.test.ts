/** The console's pieces without a browser: notebook files, dynamic forms, the read-only SQL gate, auth, lake paths. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNotebook, parseNotebook, NotebookFormatError } from '../../src/console/notebook.ts';
import { parseForms, substituteForms } from '../../src/console/forms.ts';
import { checkReadOnly, ReadOnlyViolation } from '../../src/sql/index.ts';
import { checkRequest, consoleToken } from '../../src/console/auth.ts';
import { confine } from '../../src/console/routes/lake.ts';
import { openCatalog, type Catalog } from '../../src/sql/index.ts';
import { ROOT } from './harness.ts';

const req = (o: { method?: string; host?: string; auth?: string; url?: string; cookie?: string }) =>
  ({ method: o.method ?? 'GET', url: o.url ?? '/api/x', headers: { host: o.host ?? '127.0.0.1:8080', ...(o.auth ? { authorization: o.auth } : {}), ...(o.cookie ? { cookie: o.cookie } : {}) } }) as unknown as IncomingMessage;

describe('notebook files', () => {
  it('parses every shipped notebook and writes it back unchanged in meaning', () => {
    const dir = path.join(ROOT, 'notebooks');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.md'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const nb = parseNotebook(fs.readFileSync(path.join(dir, f), 'utf8'), f);
      expect(nb.paragraphs.length).toBeGreaterThan(0);
      expect(parseNotebook(formatNotebook(nb))).toEqual(nb);
    }
  });

  it('reads the chart options of a fence and names the line of a malformed one', () => {
    const nb = parseNotebook('# T\n\n## P\nnote\n```sql chart=bar key=a value=b,c group=g\nselect 1\n```\n');
    expect(nb.paragraphs[0]).toMatchObject({ title: 'P', note: 'note', chart: 'bar', key: 'a', value: 'b,c', group: 'g', sql: 'select 1' });
    expect(() => parseNotebook('# T\n## P\n```sql chart=donut\nselect 1\n```\n', 'x.md')).toThrow(/x\.md:3: chart/);
    expect(() => parseNotebook('# T\n## P\n```sql\nselect 1\n', 'x.md')).toThrow(NotebookFormatError);
    expect(() => parseNotebook('no title')).toThrow(/starts with '# <title>'/);
  });
});

describe('dynamic forms', () => {
  it('makes a text box of ${AvgSpeed=60} and a select of ${area=A01,A01|B02|C04}', () => {
    expect(parseForms("having avg_speed >= ${AvgSpeed=60} and area = '${area=A01,A01|B02|C04}' or x = '${free}' or y = ${AvgSpeed=60}")).toEqual([
      { name: 'AvgSpeed', defaultValue: '60' },
      { name: 'area', defaultValue: 'A01', options: ['A01', 'B02', 'C04'] },
      { name: 'free', defaultValue: '' },
    ]);
  });

  it('substitutes the given value, else the default', () => {
    expect(substituteForms('a >= ${AvgSpeed=60} and b = ${area=A01,A01|B02}', { area: 'B02' })).toBe('a >= 60 and b = B02');
  });
});

describe('read-only SQL', () => {
  let data: string;
  let cat: Catalog;
  beforeAll(async () => {
    data = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-console-sql-'));
    fs.mkdirSync(path.join(data, 'lake'), { recursive: true });
    fs.writeFileSync(path.join(data, 'lake', 'x.csv'), 'a,b\n1,2\n');
    fs.writeFileSync(path.join(data, 'secret.txt'), 'token\n');
    cat = await openCatalog({ dataDir: data, sandbox: true });
  });
  afterAll(async () => {
    await cat.close();
    fs.rmSync(data, { recursive: true, force: true });
  });

  it('lets a SELECT over the catalog through', async () => {
    await expect(checkReadOnly(cat, 'with t as (select * from range(3)) select count(*) from t')).resolves.toBeUndefined();
  });

  it.each([
    ["select * from read_csv('/etc/passwd')", /table function read_csv/],
    ["select * from read_text('/etc/hostname')", /table function read_text/],
    ["copy (select 1) to '/tmp/out.csv'", /read-only/],
    ["attach '/tmp/a.db'", /read-only/],
    ['install httpfs', /read-only/],
    ['set enable_external_access = true', /read-only/],
    ['select 1; select 2', /one statement/],
  ])('refuses %s', async (sql, why) => {
    await expect(checkReadOnly(cat, sql)).rejects.toThrow(ReadOnlyViolation);
    await expect(checkReadOnly(cat, sql)).rejects.toThrow(why);
  });

  it('has the engine refuse files outside the lake even past the check', async () => {
    await expect(cat.stream("select * from read_csv('/etc/passwd')")).rejects.toThrow(/Permission Error/);
    await expect(cat.stream(`select * from read_csv('${path.join(data, 'secret.txt')}')`)).rejects.toThrow(/Permission Error/);
    const inLake = await cat.stream(`select * from read_csv('${path.join(data, 'lake', 'x.csv')}')`);
    expect(await inLake.next()).toEqual([[1, 2]]);
    inLake.cancel();
  });

  it('streams a large result chunk by chunk and stops when cancelled', async () => {
    const s = await cat.stream('select range from range(10000000)');
    const first = await s.next();
    expect(first!.length).toBeGreaterThan(0);
    expect(first!.length).toBeLessThan(10_000);
    s.cancel();
    expect(await s.next()).toBeUndefined();
  });
});

describe('console auth', () => {
  const auth = { token: 'secret-token', everyRequest: false };
  it('lets reads through on loopback and wants the header token for changes', () => {
    expect(() => checkRequest(auth, req({}), false)).not.toThrow();
    expect(() => checkRequest(auth, req({ method: 'PUT' }), true)).toThrow(/needs the console token/);
    expect(() => checkRequest(auth, req({ method: 'PUT', auth: 'Bearer wrong' }), true)).toThrow(/wrong console token/);
    expect(() => checkRequest(auth, req({ method: 'PUT', cookie: 'smartcar_console_token=secret-token' }), true)).toThrow(/needs the console token/);
    expect(() => checkRequest(auth, req({ method: 'PUT', auth: 'Bearer secret-token' }), true)).not.toThrow();
  });

  it('refuses a foreign Host on loopback (DNS rebinding) and wants the token for reads elsewhere', () => {
    expect(() => checkRequest(auth, req({ host: 'evil.example:8080' }), false)).toThrow(/Host/);
    const open = { token: 'secret-token', everyRequest: true };
    expect(() => checkRequest(open, req({ host: '10.0.0.5:8080' }), false)).toThrow(/every request/);
    expect(() => checkRequest(open, req({ host: '10.0.0.5:8080', url: '/?token=secret-token' }), false)).not.toThrow();
    expect(() => checkRequest(open, req({ host: '10.0.0.5:8080', cookie: 'smartcar_console_token=secret-token' }), false)).not.toThrow();
  });

  it('creates a 0600 token file once, and the environment overrides it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-console-token-'));
    const a = consoleToken(dir, {});
    expect(a.token).toMatch(/^[0-9a-f]{48}$/);
    expect(fs.statSync(path.join(dir, 'console-token')).mode & 0o777).toBe(0o600);
    expect(consoleToken(dir, {}).token).toBe(a.token);
    expect(consoleToken(dir, { SMARTCAR_CONSOLE_TOKEN: 'mine' }).token).toBe('mine');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('lake paths', () => {
  it('keeps every path inside the lake, links included', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-console-lake-'));
    const lake = path.join(root, 'lake');
    fs.mkdirSync(path.join(lake, 'collect'), { recursive: true });
    fs.symlinkSync('/etc', path.join(lake, 'escape'));
    expect(confine(lake, 'collect')).toBe(fs.realpathSync(path.join(lake, 'collect')));
    expect(() => confine(lake, '../')).toThrow(/outside the lake/);
    expect(() => confine(lake, 'escape/passwd')).toThrow(/outside the lake/);
    expect(() => confine(lake, 'nope')).toThrow(/no such file/);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
