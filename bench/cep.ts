/**
 * `npm run bench:cep` — the seed's overspeed rule over 10 M driving events from 100,000 distinct cars
 * (BENCH_EVENTS, BENCH_CARS), on one core. Side by side in the same run, the same computation
 * hand-written (a Map of per-car sums for aligned 30 s windows): the floor any engine pays.
 * Also: the parse-and-send path from text lines, and state memory per car (heap with every car's
 * window open, measured after a forced GC).
 */
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CepEngine } from '../src/cep/index.ts';
import { parseDrivingRecord } from '../src/core/records.ts';
import { formatTimestamp14, parseDate8 } from '../src/core/time.ts';
import { driverLines } from '../src/sim/index.ts';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], { stdio: 'inherit', env: process.env });
  process.exit(r.status ?? 1);
}
const gc = globalThis.gc as () => void;

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const CARS = Number(process.env.BENCH_CARS ?? 100_000);
const ROUNDS = Math.ceil(EVENTS / CARS);
const T0 = parseDate8('20240101');
const RULE = fs.readFileSync(new URL('../rules/overspeed.epl', import.meta.url), 'utf8');
const names = Array.from({ length: CARS }, (_, i) => String.fromCharCode(65 + (i % 26)) + String(Math.floor(i / 26) + 1).padStart(4, '0'));
const dates = Array.from({ length: ROUNDS }, (_, r) => formatTimestamp14(T0 + r * 1000));

/** Deterministic speeds without a per-event PRNG object: a cheap LCG. */
function* events(): Generator<{ date: string; carNumber: string; speedPedal: number; breakPedal: number; steerAngle: string; directLight: string; speed: number; areaNumber: string; eventTime: number }> {
  let s = 12345;
  for (let r = 0; r < ROUNDS; r++) {
    const t = T0 + r * 1000;
    for (let c = 0; c < CARS; c++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      yield { date: dates[r], carNumber: names[c], speedPedal: s & 3, breakPedal: 0, steerAngle: 'F', directLight: 'N', speed: 40 + (s >>> 24) % 80, areaNumber: 'A01', eventTime: t };
    }
  }
}

function engineRun(): { secs: number; alerts: number } {
  const e = new CepEngine();
  e.deploy(RULE, 'overspeed.epl');
  let alerts = 0;
  e.onOutput((o) => (alerts += o.rows.length));
  const t0 = performance.now();
  for (const ev of events()) e.send('DrivingRecord', ev, ev.eventTime);
  e.flush();
  return { secs: (performance.now() - t0) / 1000, alerts };
}

function handRun(): { secs: number; alerts: number } {
  const windows = new Map<string, { start: number; sum: number; n: number; last: unknown }>();
  let alerts = 0;
  const close = (w: { sum: number; n: number }) => { if (w.sum / w.n > 80) alerts++; };
  const t0 = performance.now();
  for (const ev of events()) {
    const start = Math.floor(ev.eventTime / 30_000) * 30_000;
    let w = windows.get(ev.carNumber);
    if (w && w.start !== start) { close(w); w = undefined; }
    if (!w) windows.set(ev.carNumber, (w = { start, sum: 0, n: 0, last: ev }));
    w.sum += ev.speed; w.n++; w.last = ev;
  }
  for (const w of windows.values()) close(w);
  return { secs: (performance.now() - t0) / 1000, alerts };
}

function stateBytesPerCar(): number {
  const e = new CepEngine();
  e.deploy(RULE, 'overspeed.epl');
  const evs = names.map((carNumber) => ({ date: dates[0], carNumber, speedPedal: 1, breakPedal: 0, steerAngle: 'F', directLight: 'N', speed: 50, areaNumber: 'A01', eventTime: T0 }));
  gc(); gc();
  const before = process.memoryUsage().heapUsed;
  for (const ev of evs) e.send('DrivingRecord', ev, T0);
  gc(); gc();
  const after = process.memoryUsage().heapUsed;
  if (e.stats().groups !== CARS) throw new Error('expected every car open');
  return (after - before) / CARS;
}

function parsePath(lines: string[]): number {
  const e = new CepEngine();
  e.deploy(RULE, 'overspeed.epl');
  const t0 = performance.now();
  let n = 0;
  for (const l of lines) {
    const p = parseDrivingRecord(l);
    if (p.ok) { e.send('DrivingRecord', p.record as never, p.record.eventTime); n++; }
  }
  e.flush();
  return n / ((performance.now() - t0) / 1000);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`bench:cep — seed rule, ${fmt(ROUNDS * CARS)} events, ${fmt(CARS)} cars, one core (Node ${process.version})`);
const eng = engineRun();
const hand = handRun();
if (eng.alerts !== hand.alerts) throw new Error(`engine ${eng.alerts} alerts vs hand-written ${hand.alerts}`);
const n = ROUNDS * CARS;
console.log(`  engine (EPL)            ${fmt(n / eng.secs)} events/s   ${eng.secs.toFixed(2)} s   ${fmt(eng.alerts)} alerts`);
console.log(`  hand-written baseline   ${fmt(n / hand.secs)} events/s   ${hand.secs.toFixed(2)} s   ${fmt(hand.alerts)} alerts (same)`);
console.log(`  ratio engine/baseline   ${(eng.secs / hand.secs).toFixed(2)}× the time   (target ≥ 1,000,000 events/s)`);
const lines = [...driverLines({ cars: 1000, seed: 1, startMs: T0, records: 2000 })];
console.log(`  from text lines (parse + send, ${fmt(lines.length)} lines): ${fmt(parsePath(lines))} records/s`);
console.log(`  state per car with its window open: ${stateBytesPerCar().toFixed(0)} bytes (heap growth after GC, excluding the event object itself, which the caller allocated)`);
