import pg from 'pg';
const c = new pg.Client({ host: '127.0.0.1', port: 15432, user: 'smartcar', password: 'pw', database: 'smartcar' });
await c.connect();
for (const [name, q] of [['simple', () => c.query('select 1')], ['extended', () => c.query({ text: 'select $1::int', values: [1] })], ['simple-mart', () => c.query("select car_number, speed_p_avg from managed_smartcar_symptom_info where car_number = 'A0002'")]] as const) {
  const t = performance.now();
  for (let i = 0; i < 50; i++) await q();
  console.log(name, ((performance.now() - t) / 50).toFixed(2), 'ms');
}
await c.end();
