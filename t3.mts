import pg from 'pg';
const c = new pg.Client({ host: '127.0.0.1', port: 15432, user: 'smartcar', password: 'pw', database: 'smartcar' });
await c.connect();
const r = await c.query({ text: "select $1::int + 1 as x, $2::varchar as s, $3 as b, 1.5::decimal(10,2) d, date '2024-01-02' dt, timestamp '2024-01-02 03:04:05.5' ts, null as n", values: [41, 'hé', true] });
console.log(r.fields.map((f) => [f.name, f.dataTypeID]), r.rows);
const r2 = await c.query("select 1 a; select 'x' b, 2 c");
console.log(JSON.stringify((r2 as unknown as pg.QueryResult[]).map((x) => x.rows)));
await c.end();
