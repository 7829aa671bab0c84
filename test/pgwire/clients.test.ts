/**
 * The SQL server against real clients over real connections: psql, psycopg (Debian's python3-psycopg),
 * R (DBI + RPostgreSQL), node-postgres, pgjdbc and pgbench. Expected values come from DuckDB reading
 * the same lake in-process, or from R / Python reading the raw file themselves.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/sql/index.ts';
import { DAY, martDataDir, run, startTestServer, type TestServer } from './support.ts';

let root: string;
let incomeFile: string;
let srv: TestServer;
let symptom: unknown[][];

beforeAll(async () => {
  ({ root, incomeFile } = await martDataDir('pgwire-clients'));
  srv = await startTestServer(root);
  const cat = await openCatalog({ dataDir: root });
  symptom = (await cat.query(`select car_number, speed_p_avg, steer_a_cnt from managed_smartcar_symptom_info where biz_date = '${DAY}' order by car_number`)).rows;
  await cat.close();
  expect(symptom.length).toBeGreaterThan(10);
}, 120_000);

afterAll(async () => {
  await srv?.stop();
});

const psql = (args: string[], env: NodeJS.ProcessEnv = srv.env) => run('psql', ['-X', '-v', 'ON_ERROR_STOP=0', ...args], { env });

describe('psql', () => {
  it('lists the tables (\\dt), the databases (\\l) and schemas (\\dn)', async () => {
    const r = await psql(['-c', '\\dt', '-c', '\\l', '-c', '\\dn']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/public \| managed_smartcar_symptom_info\s+\| table \| analyst/);
    expect(r.stdout).toMatch(/public \| smartcar_master2income\s+\| table/);
    expect(r.stdout).toMatch(/smartcar \| analyst \| UTF8/);
    expect(r.stdout).toMatch(/List of schemas[\s\S]*public \| analyst/);
  });

  it('describes a mart (\\d NAME) with PostgreSQL type names', async () => {
    const r = await psql(['-c', '\\d managed_smartcar_symptom_info']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Table "public.managed_smartcar_symptom_info"');
    expect(r.stdout).toMatch(/car_number\s+\| character varying/);
    expect(r.stdout).toMatch(/speed_p_avg\s+\| double precision/);
    expect(r.stdout).toMatch(/steer_a_cnt\s+\| bigint/);
    const none = await psql(['-c', '\\d no_such_table']);
    expect(none.stderr).toContain('Did not find any relation named "no_such_table"');
  });

  it('selects rows equal to DuckDB reading the lake, several statements in one message', async () => {
    const r = await psql(['-A', '-t', '-F', '|', '-c', `select car_number, speed_p_avg, steer_a_cnt from managed_smartcar_symptom_info where biz_date = '${DAY}' order by car_number; select 42`]);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, -1)).toEqual(symptom.map((x) => x.join('|')));
    expect(lines.at(-1)).toBe('42');
  });

  it('reports errors with their SQLSTATE: 42601 syntax, 42P01 undefined table, 42703 undefined column', async () => {
    const r = await psql(['-v', 'VERBOSITY=verbose', '-c', 'selec 1', '-c', 'select * from no_such_table', '-c', 'select nope from smartcar_master']);
    expect(r.stderr).toMatch(/ERROR:\s+42601/);
    expect(r.stderr).toMatch(/ERROR:\s+42P01/);
    expect(r.stderr).toMatch(/ERROR:\s+42703/);
  });

  it('authenticates with SCRAM-SHA-256: the right password works, a wrong one fails with 28P01', async () => {
    const ok = await psql(['-A', '-t', '-c', 'select current_user IS NOT NULL']);
    expect(ok.stdout.trim()).toBe('t');
    const bad = await psql(['-c', 'select 1'], { ...srv.env, PGPASSWORD: 'wrong' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('password authentication failed for user "analyst"');
    const c = new pg.Client({ connectionString: srv.url.replace(srv.password, 'wrong') });
    await expect(c.connect()).rejects.toMatchObject({ code: '28P01' });
    const wrongUser = new pg.Client({ connectionString: srv.url.replace('analyst', 'postgres') });
    await expect(wrongUser.connect()).rejects.toMatchObject({ code: '28P01' });
  });

  it('cancels a long query on Ctrl-C (CancelRequest) and the server serves the next one', async () => {
    const t0 = Date.now();
    const r = await run('psql', ['-X', '-c', 'select count(*) from range(1000000000000) t(a) where a % 7 = 3'], {
      env: srv.env,
      onStart: (pid) => setTimeout(() => process.kill(pid, 'SIGINT'), 1500),
    });
    expect(r.stderr).toContain('canceling statement due to user request');
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect((await psql(['-A', '-t', '-c', 'select 7'])).stdout.trim()).toBe('7');
  });
});

describe('psycopg (python3-psycopg)', () => {
  it('runs a parameterised query, fetches typed values, and streams 1 M rows through a server-side cursor with bounded memory', async () => {
    const script = `
import json, resource, sys, datetime, decimal, psycopg
c = psycopg.connect(sys.argv[1])
out = {}
cur = c.cursor()
cur.execute("select car_number, speed_p_avg, steer_a_cnt from managed_smartcar_symptom_info where car_number = %s and biz_date = %s", (sys.argv[2], '${DAY}'))
out['param'] = [list(r) for r in cur.fetchall()]
cur.execute("select %s::int + 1, 2.5::double, 1.25::decimal(8,2), date '2024-01-02', timestamp '2024-01-02 03:04:05.25', true, null::varchar, 'x'::blob", (41,))
r = cur.fetchone()
out['types'] = [type(v).__name__ for v in r]
out['values'] = [r[0], r[1], str(r[2]), r[3].isoformat(), r[4].isoformat(), r[5], r[6], bytes(r[7]).decode()]
bcur = c.cursor(binary=True)
bcur.execute("select %s::bigint * 2, 0.5::float, 12.345::decimal(10,3), date '1999-12-31', timestamp '2030-06-01 12:00:00', false", (21,))
b = bcur.fetchone()
out['binary'] = [b[0], b[1], str(b[2]), b[3].isoformat(), b[4].isoformat(), b[5]]
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with c.cursor(name='big') as sc:
    sc.itersize = 10000
    sc.execute("select range as i from range(1000000)")
    n = 0; tot = 0
    for row in sc:
        n += 1; tot += row[0]
out['cursor'] = [n, tot]
out['rss_growth_kb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0
c.commit()
print(json.dumps(out))
`;
    const rss0 = process.memoryUsage().rss;
    const car = String(symptom[3]![0]);
    const r = await run('/usr/bin/python3', ['-c', script, srv.url, car], { timeoutMs: 230_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.param).toEqual([symptom[3]]);
    expect(out.types).toEqual(['int', 'float', 'Decimal', 'date', 'datetime', 'bool', 'NoneType', 'bytes']);
    expect(out.values).toEqual([42, 2.5, '1.25', '2024-01-02', '2024-01-02T03:04:05.250000', true, null, 'x']);
    expect(out.binary).toEqual([42, 0.5, '12.345', '1999-12-31', '2030-06-01T12:00:00', false]);
    expect(out.cursor).toEqual([1_000_000, 499_999_500_000]);
    // The client holds one batch at a time, and so does the server.
    expect(out.rss_growth_kb).toBeLessThan(64 * 1024);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(300 * 1024 * 1024);
  }, 240_000);

  it('cancel() interrupts a running query with 57014', async () => {
    const script = `
import threading, sys, psycopg
c = psycopg.connect(sys.argv[1], autocommit=True)
threading.Timer(1.0, c.cancel).start()
try:
    c.execute("select count(*) from range(1000000000000) t(a) where a % 7 = 3").fetchall()
    print('not cancelled')
except psycopg.Error as e:
    print(e.sqlstate)
print(c.execute("select 5").fetchone()[0])
`;
    const r = await run('/usr/bin/python3', ['-c', script, srv.url]);
    expect(r.stdout.trim().split('\n')).toEqual(['57014', '5']);
  });
});

describe('R (DBI + RPostgreSQL)', () => {
  it("does the seed's session: dbListTables, dbGetQuery of smartcar_master2income, lm(income ~ car_capacity) equal to the fit from the raw file", async () => {
    const script = `
library(DBI)
args <- commandArgs(trailingOnly = TRUE)
con <- dbConnect(RPostgreSQL::PostgreSQL(), host = "127.0.0.1", port = as.integer(args[1]), user = "analyst", password = args[2], dbname = "smartcar")
cat("tables:", paste(dbListTables(con), collapse = ","), "\\n")
cat("fields:", paste(dbListFields(con, "smartcar_master2income"), collapse = ","), "\\n")
d <- dbGetQuery(con, "select * from smartcar_master2income")
dbDisconnect(con)
raw <- read.table(args[3], sep = "|", header = TRUE, stringsAsFactors = FALSE, quote = "", comment.char = "")
cat("rows:", nrow(d), nrow(raw), "\\n")
m1 <- lm(income ~ car_capacity, data = d)
m2 <- lm(raw[[10]] ~ raw[[7]])
cat("coef:", sprintf("%.10f", coef(m1)), "\\n")
cat("raw:", sprintf("%.10f", coef(m2)), "\\n")
`;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-r-')), 'session.R');
    fs.writeFileSync(file, script);
    const r = await run('Rscript', [file, String(srv.port), srv.password, incomeFile], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const line = (k: string) => r.stdout.split('\n').find((l) => l.startsWith(k + ':'))!.slice(k.length + 1).trim().split(/[\s,]+/);
    expect(line('tables')).toContain('smartcar_master2income');
    expect(line('tables')).toContain('managed_smartcar_symptom_info');
    expect(line('fields')).toEqual(['car_number', 'sex', 'age', 'marriage', 'region', 'job', 'car_capacity', 'car_year', 'car_model', 'income']);
    const [n, nRaw] = line('rows');
    expect(Number(n)).toBeGreaterThan(1000);
    expect(n).toBe(nRaw);
    expect(line('coef')).toEqual(line('raw'));
  });
});

describe('node-postgres', () => {
  it('runs parameterised queries (extended protocol), several statements, and reports error codes', async () => {
    const c = new pg.Client({ connectionString: srv.url });
    await c.connect();
    try {
      const car = String(symptom[5]![0]);
      const r = await c.query('select car_number, speed_p_avg, steer_a_cnt from managed_smartcar_symptom_info where car_number = $1 and biz_date = $2', [car, DAY]);
      expect(r.rows.map((x) => [x.car_number, x.speed_p_avg, Number(x.steer_a_cnt)])).toEqual([symptom[5]]);
      expect(r.fields.map((f) => f.dataTypeID)).toEqual([1043, 701, 20]);
      const named = { name: 'by-car', text: 'select count(*)::int as n from managed_smartcar_symptom_info where car_number = $1' };
      for (let i = 0; i < 3; i++) expect((await c.query({ ...named, values: [car] })).rows[0].n).toBe(1);
      const multi = (await c.query('select 1 as a; select 2 as b')) as unknown as pg.QueryResult[];
      expect(multi.map((x) => x.rows[0])).toEqual([{ a: 1 }, { b: 2 }]);
      await expect(c.query('select * from nope')).rejects.toMatchObject({ code: '42P01' });
      await c.query('BEGIN');
      await expect(c.query('select 1/0::int')).resolves.toBeTruthy();
      await expect(c.query('selec')).rejects.toMatchObject({ code: '42601' });
      await expect(c.query('select 1')).rejects.toMatchObject({ code: '25P02' });
      await c.query('ROLLBACK');
      expect((await c.query('select $1::int + $2::int as s', [40, 2])).rows[0].s).toBe(42);
      expect((await c.query('')).command).toBe(null);
    } finally {
      await c.end();
    }
  });
});

describe('pgjdbc (libpostgresql-jdbc-java)', () => {
  it('lists tables through DatabaseMetaData.getTables and reads typed rows from prepared statements', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-jdbc-'));
    const src = path.join(dir, 'Probe.java');
    fs.writeFileSync(src, `
import java.sql.*;
public class Probe {
  public static void main(String[] a) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + a[0] + "/smartcar", "analyst", a[1])) {
      try (ResultSet rs = c.getMetaData().getTables(null, null, "%", new String[] {"TABLE"})) {
        while (rs.next()) System.out.println("table " + rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME"));
      }
      // More runs than prepareThreshold (5): the driver switches to a named statement and binary results.
      try (PreparedStatement ps = c.prepareStatement("select car_number, speed_p_avg, steer_a_cnt from managed_smartcar_symptom_info where car_number = ?")) {
        for (int i = 0; i < 7; i++) {
          ps.setString(1, a[2]);
          try (ResultSet rs = ps.executeQuery()) { while (rs.next()) System.out.println("row " + rs.getString(1) + "|" + rs.getDouble(2) + "|" + rs.getLong(3)); }
        }
      }
      try (PreparedStatement ps = c.prepareStatement("select ?::int * 2, date '2024-02-29', timestamp '2024-01-02 03:04:05', 1.25::decimal(8,2), true")) {
        for (int i = 0; i < 7; i++) {
          ps.setInt(1, 21);
          try (ResultSet rs = ps.executeQuery()) { rs.next(); System.out.println("typed " + rs.getInt(1) + " " + rs.getDate(2) + " " + rs.getTimestamp(3) + " " + rs.getBigDecimal(4) + " " + rs.getBoolean(5)); }
        }
      }
    }
  }
}
`);
    const car = String(symptom[2]![0]);
    const r = await run('java', ['-cp', '/usr/share/java/postgresql.jar', src, String(srv.port), srv.password, car], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContain('table public.managed_smartcar_symptom_info');
    expect(lines).toContain('table public.smartcar_master2income');
    const rows = lines.filter((l) => l.startsWith('row '));
    expect(rows).toHaveLength(7);
    expect(new Set(rows)).toEqual(new Set([`row ${symptom[2]!.join('|')}`]));
    expect(new Set(lines.filter((l) => l.startsWith('typed ')))).toEqual(new Set(['typed 42 2024-02-29 2024-01-02 03:04:05.0 1.25 true']));
  }, 150_000);
});

describe('pgbench', () => {
  it('runs a custom point-query script with -M extended and 16 clients without an error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-pgbench-'));
    const script = path.join(dir, 'point.sql');
    fs.writeFileSync(script, `\\set n random(1, 9)\nselect car_number, speed_p_avg from managed_smartcar_symptom_info where car_number = 'A000' || :n;\n`);
    const r = await run('pgbench', ['-n', '-M', 'extended', '-c', '16', '-j', '2', '-T', '4', '-f', script], { env: srv.env, timeoutMs: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/number of failed transactions: 0 \(0\.000%\)/);
    expect(Number(/number of transactions actually processed: (\d+)/.exec(r.stdout)![1])).toBeGreaterThan(16);
  });
});
