/**
 * `npm run bench:models`: the stage-6 models against their baselines, in one run.
 *
 * 1. DNN training, the seed's configuration (200,000 rows, 50 epochs, batch 2000): smartcar's network
 *    vs scikit-learn's MLPClassifier of the same layers (10, 20, 10), batch, epochs and Adam (Debian's
 *    python3-sklearn; it has no dropout layer), fit time only, both accuracies on a held-out 20 %.
 *    Also TensorFlow.js (tfjs-backend-wasm) for two epochs of the same network, per epoch.
 * 2. The prediction service (its own process) under wrk (another process) on loopback: single-row GET
 *    requests, then POSTs of 1,000 rows; the baseline is a bare node:http server answering a constant
 *    JSON, measured with the same wrk settings — once as before (writeHead then end: chunked), once with
 *    a Content-Length (one write), which is how the service's single-row hot path answers.
 * 3. The regression on the 2,600-row income file, load included, vs Rscript's read.table + lm + summary.
 *
 *    Then both paced (wrk's delay() hook, --pace-ms between a connection's requests: about the target's
 *    5,000/s offered), for the latency at that rate.
 * Flags: --rows N --epochs N --duration S --connections N --pace-ms N --skip-tfjs --only dnn|service|regression
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMARTCAR_BIN } from './support.ts';
import { writeIncidents, writeIncome, INCIDENT_FEATURES } from '../src/sim/index.ts';
import { readIncidents } from '../src/ml/dnn/incidents.ts';
import { saveTraining, trainIncidents } from '../src/ml/dnn/train.ts';
import { DEFAULT_KERNELS } from '../src/ml/dnn/network.ts';
import { runRegress } from '../src/ml/regress/run.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const ROWS = arg('rows', 200_000);
const EPOCHS = arg('epochs', 50);
const DURATION = arg('duration', 10);
const CONNS = arg('connections', 32);
const PACE_MS = arg('pace-ms', 4);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bench-models-'));
const out: string[] = [];
const say = (s: string) => {
  out.push(s);
  process.stdout.write(s + '\n');
};

async function dnn(): Promise<string> {
  const file = await writeIncidents({ outDir: dir, seed: 1, rows: ROWS });
  say(`## DNN training: ${ROWS.toLocaleString('en-US')} rows, ${EPOCHS} epochs, batch 2000 (80/20 split)`);
  const t0 = performance.now();
  const data = readIncidents(file);
  const tRead = performance.now() - t0;
  const o = { seed: 1, epochs: EPOCHS, batchSize: 2000, testShare: 0.2 };
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  const r = await trainIncidents(data, o);
  const ours = (performance.now() - t1) / 1000;
  const oursCpu = (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6;
  const saved = saveTraining(path.join(dir, 'models'), r, o, file);
  say(`smartcar  fit ${ours.toFixed(1)} s (cpu ${oursCpu.toFixed(1)} s, one thread, ${DEFAULT_KERNELS} kernels; read ${(tRead / 1000).toFixed(2)} s)  test accuracy ${r.test.accuracy.toFixed(4)}  val accuracy ${r.history.at(-1)!.valAccuracy.toFixed(4)}`);
  const py = `
import json, time, resource, warnings, numpy as np
from sklearn.neural_network import MLPClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
warnings.filterwarnings('ignore')
d = np.loadtxt(${JSON.stringify(file)}, delimiter=',', skiprows=1)
X, y = d[:, :10], d[:, 10].astype(int)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=1)
s = StandardScaler().fit(Xtr)
m = MLPClassifier(hidden_layer_sizes=(10, 20, 10), activation='relu', solver='adam', learning_rate_init=0.001, batch_size=2000,
                  max_iter=${EPOCHS}, shuffle=True, random_state=1, tol=0, n_iter_no_change=${EPOCHS + 1}, alpha=0)
c0 = time.process_time(); t0 = time.time()
m.fit(s.transform(Xtr), ytr)
fit, cpu = time.time() - t0, time.process_time() - c0
try:
    from threadpoolctl import threadpool_info
    blas = ', '.join(f"{i['internal_api']} {i['num_threads']} thread(s)" for i in threadpool_info())
except ImportError:
    blas = 'threadpoolctl missing'
print(json.dumps({'fit': fit, 'cpu': cpu, 'epochs': m.n_iter_, 'acc': m.score(s.transform(Xte), yte), 'blas': blas}))
`;
  // One BLAS thread: the same single core our training uses.
  const sk = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } })) as { fit: number; cpu: number; epochs: number; acc: number; blas: string };
  say(`sklearn   fit ${sk.fit.toFixed(1)} s (cpu ${sk.cpu.toFixed(1)} s, ${sk.epochs} epochs, no dropout; ${sk.blas})  test accuracy ${sk.acc.toFixed(4)}`);
  say(`ratio smartcar / sklearn: wall ${(ours / sk.fit).toFixed(2)}x, cpu ${(oursCpu / sk.cpu).toFixed(2)}x (target <= 3x)`);
  if (!process.argv.includes('--skip-tfjs')) say(await tfjsEpochs(data));
  return saved.file;
}

async function tfjsEpochs(data: ReturnType<typeof readIncidents>): Promise<string> {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  const n = Math.floor(data.rows * 0.8);
  const xs = tf.tensor2d(Float32Array.from(data.x.subarray(0, n * 10)), [n, 10]);
  const ys = tf.oneHot(tf.tensor1d(Array.from(data.y.subarray(0, n)), 'int32'), 3);
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 10, activation: 'relu', inputShape: [10] }));
  m.add(tf.layers.dense({ units: 20, activation: 'relu' }));
  m.add(tf.layers.dropout({ rate: 0.25 }));
  m.add(tf.layers.dense({ units: 10, activation: 'relu' }));
  m.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  m.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const t0 = performance.now();
  await m.fit(xs, ys, { batchSize: 2000, epochs: 2, verbose: 0 });
  const per = (performance.now() - t0) / 2000;
  return `tfjs-wasm ${per.toFixed(2)} s per epoch (2 epochs timed; x${EPOCHS} = ${(per * EPOCHS).toFixed(0)} s)`;
}

function wrk(url: string, extra: string[] = []): { rps: number; p50: number; p99: number; errors: number } {
  const o = execFileSync('wrk', ['-t', '2', '-c', String(CONNS), '-d', `${DURATION}s`, '--latency', ...extra, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(o)![1]);
  const ms = (s: string) => {
    const m = new RegExp(`${s}%\\s+([\\d.]+)(us|ms|s)`).exec(o)!;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  const err = /Non-2xx or 3xx responses: (\d+)/.exec(o);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(o);
  return { rps, p50: ms('50'), p99: ms('99'), errors: (err ? Number(err[1]) : 0) + (sock ? sock.slice(1).reduce((s, v) => s + Number(v), 0) : 0) };
}

async function listening(p: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const on = (c: Buffer) => {
      buf += c.toString();
      const m = re.exec(buf);
      if (m) resolve(m[1]);
    };
    p.stdout?.on('data', on);
    p.stderr?.on('data', on);
    p.once('exit', (code) => reject(new Error(`exited ${code}: ${buf}`)));
  });
}

async function stop(p: ChildProcess) {
  if (p.exitCode !== null) return;
  await new Promise<void>((r) => {
    p.once('exit', () => r());
    p.kill('SIGTERM');
  });
}

async function service(modelFile: string) {
  say(`\n## Prediction service: wrk -t2 -c${CONNS} -d${DURATION}s on loopback (wrk and each server in its own process)`);
  const lua = path.join(dir, 'batch.lua');
  const row = Object.fromEntries(INCIDENT_FEATURES.map((f, i) => [f, i % 3]));
  const qs = new URLSearchParams(Object.entries(row).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const batch = JSON.stringify(Array.from({ length: 1000 }, (_, i) => Object.fromEntries(INCIDENT_FEATURES.map((f, j) => [f, (i + j) % 3]))));
  fs.writeFileSync(lua, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(batch)}\n`);
  const bareArgs = ['-e', `
const http = require('node:http');
const body = JSON.stringify({ success: true, prediction: '1', probabilities: { 0: 0.1, 1: 0.8, 2: 0.1 }, model_version: 1 }) + '\\n';
// argv[1] = 'length': the same with a Content-Length header (one write), as the service's hot path answers.
const length = process.argv[1] === 'length';
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, length ? { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) } : { 'content-type': 'application/json; charset=utf-8' }); res.end(body); }); });
s.listen(0, '127.0.0.1', () => console.log('bare http://127.0.0.1:' + s.address().port));
process.on('SIGTERM', () => process.exit(0));`];
  const bare = spawn(process.execPath, bareArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  const bareLen = spawn(process.execPath, [...bareArgs, 'length'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const svc = spawn(process.execPath, [SMARTCAR_BIN, 'serve', 'predict', '--port', '0', '--model', modelFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const bareUrl = await listening(bare, /bare (http:\S+)/);
    const bareLenUrl = await listening(bareLen, /bare (http:\S+)/);
    const svcUrl = (await listening(svc, /predict: (http:\S+)/)).replace(/\/smartcar\/predict$/, '');
    const check = await (await fetch(`${svcUrl}/smartcar/predict?${qs}`)).json();
    if (!(check as { success: boolean }).success) throw new Error(`service answered ${JSON.stringify(check)}`);
    const b = wrk(`${bareUrl}/smartcar/predict?${qs}`);
    const bl = wrk(`${bareLenUrl}/smartcar/predict?${qs}`);
    const s = wrk(`${svcUrl}/smartcar/predict?${qs}`);
    say(`bare node:http constant JSON  ${b.rps.toFixed(0)} req/s  p50 ${b.p50.toFixed(2)} ms  p99 ${b.p99.toFixed(2)} ms  (chunked: writeHead then end(body))`);
    say(`bare, with Content-Length     ${bl.rps.toFixed(0)} req/s  p50 ${bl.p50.toFixed(2)} ms  p99 ${bl.p99.toFixed(2)} ms  (one write, as the service's hot path; ${(s.rps / bl.rps).toFixed(2)}x of this one)`);
    say(`smartcar single-row GET       ${s.rps.toFixed(0)} predictions/s  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  errors ${s.errors}  (${(s.rps / b.rps).toFixed(2)}x the bare server; target >= 5,000/s, p99 <= 10 ms)`);
    // Paced: each connection waits PACE_MS before its next request (wrk's delay() hook), about
    // at most 32 × 1000 / 4 = 8,000 requests/s offered (timer slack makes it less: about the target's rate) — so p99 is the latency at that
    // rate, not the queueing of a closed loop driven flat out.
    const pace = path.join(dir, 'pace.lua');
    fs.writeFileSync(pace, `function delay()\n  return ${PACE_MS}\nend\n`);
    const bp = wrk(`${bareLenUrl}/smartcar/predict?${qs}`, ['-s', pace]);
    const sp = wrk(`${svcUrl}/smartcar/predict?${qs}`, ['-s', pace]);
    say(`paced (${CONNS} connections, ${PACE_MS} ms between a connection's requests):`);
    say(`  bare, with Content-Length   ${bp.rps.toFixed(0)} req/s  p50 ${bp.p50.toFixed(2)} ms  p99 ${bp.p99.toFixed(2)} ms`);
    say(`  smartcar single-row GET     ${sp.rps.toFixed(0)} predictions/s  p50 ${sp.p50.toFixed(2)} ms  p99 ${sp.p99.toFixed(2)} ms  errors ${sp.errors}  (target: >= 5,000/s with p99 <= 10 ms)`);
    const bb = wrk(`${svcUrl}/smartcar/predict`, ['-s', lua]);
    say(`smartcar POST 1,000-row batch ${bb.rps.toFixed(1)} req/s = ${(bb.rps * 1000).toFixed(0)} rows/s  p99 ${bb.p99.toFixed(1)} ms  errors ${bb.errors}`);
  } finally {
    await stop(svc);
    await stop(bare);
    await stop(bareLen);
  }
}

async function regression() {
  say('\n## Regression: income ~ car_capacity on the 2,600-row CarMaster2Income.txt, load included');
  const file = await writeIncome({ outDir: dir, seed: 1 });
  const runs: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    await runRegress({ input: file, formula: 'income ~ car_capacity', table: 'unused', dataDir: dir, level: 0.95, digits: 4 });
    runs.push(performance.now() - t0);
  }
  const warm = runs.slice(1).sort((a, b) => a - b);
  const r = execFileSync('Rscript', ['-e', `t <- system.time(for (i in 1:20) { d <- read.table('${file}', sep = '|', header = TRUE); s <- capture.output(print(summary(lm(income ~ capacity, data = d)))) }); cat(t[['elapsed']] / 20 * 1000)`], { encoding: 'utf8' });
  say(`smartcar  first ${runs[0].toFixed(1)} ms, median of 20 warm ${warm[10].toFixed(1)} ms (target <= 100 ms)`);
  say(`R         read.table + lm + summary + print: ${Number(r).toFixed(1)} ms per run (mean of 20, Rscript already started)`);
}

try {
  say(`# bench:models  ${new Date().toISOString()}  ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  if (!only || only === 'regression') await regression();
  if (!only || only === 'dnn') {
    const model = await dnn();
    if (!only) await service(model);
  }
  if (only === 'service') {
    // A quickly trained model of the same shape: the service's cost does not depend on its weights.
    const file = await writeIncidents({ outDir: dir, seed: 1, rows: 5000 });
    const o = { seed: 1, epochs: 5, batchSize: 500, testShare: 0.2 };
    await service(saveTraining(path.join(dir, 'models'), await trainIncidents(readIncidents(file), o), o, file).file);
  }
  say(`\nload average at the end ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
