/**
 * The prediction service over real HTTP (node's fetch against a listening server): JSON, query string
 * and batch requests, every kind of bad input, the token, a model swap in the middle of a request stream,
 * and the scaler (checked with an oracle that reads the model file: test/support/incident-model.ts).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeIncidents, INCIDENT_FEATURES } from '../../src/sim/index.ts';
import { readIncidents } from '../../src/ml/dnn/incidents.ts';
import { saveTraining, trainIncidents } from '../../src/ml/dnn/train.ts';
import { startPredictService, type PredictService } from '../../src/predict/index.ts';
import { oracle } from '../support/incident-model.ts';

let dir: string;
let models: string;
let svc: PredictService;
let rows: Record<string, number>[];

const opts = { seed: 5, epochs: 8, batchSize: 500, testShare: 0.2 };

async function trainInto(out: string, seed: number) {
  const data = readIncidents(path.join(dir, 'CarDrivingIncidentInfo.csv'));
  const r = await trainIncidents(data, { ...opts, seed });
  return saveTraining(out, r, { ...opts, seed }, 'test');
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-predict-'));
  await writeIncidents({ outDir: dir, seed: 11, rows: 8000 });
  models = path.join(dir, 'models');
  await trainInto(models, 5);
  svc = await startPredictService({ model: models, port: 0, watchMs: 50 });
  const lines = fs.readFileSync(path.join(dir, 'CarDrivingIncidentInfo.csv'), 'utf8').trim().split('\n').slice(1, 301);
  rows = lines.map((l) => Object.fromEntries(l.split(',').slice(0, 10).map((v, i) => [INCIDENT_FEATURES[i], Number(v)])));
});

afterAll(async () => {
  await svc?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  success: boolean;
  prediction: string;
  probabilities: Record<string, number>;
  predictions: { prediction: string; probabilities: Record<string, number> }[];
  model_version: number;
  error: string;
  status: string;
}
const json = async (r: Response | Promise<Response>): Promise<Answer> => (await (await r).json()) as Answer;

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${svc.url}/smartcar/predict`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('smartcar serve predict', () => {
  it('answers a JSON object with the class, its probabilities and the model version', async () => {
    const res = await post(rows[0]);
    expect(res.status).toBe(200);
    const j = (await res.json()) as Answer;
    expect(j).toMatchObject({ success: true, model_version: 1 });
    expect(['0', '1', '2']).toContain(j.prediction);
    const p = Object.values(j.probabilities as Record<string, number>);
    expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
  });

  it('answers query parameters on GET, and on POST without a body', async () => {
    const qs = new URLSearchParams(Object.entries(rows[1]).map(([k, v]): [string, string] => [k, String(v)])).toString();
    const a = await json(fetch(`${svc.url}/smartcar/predict?${qs}`));
    const b = await json(fetch(`${svc.url}/smartcar/predict?${qs}`, { method: 'POST' }));
    const c = await json(post(rows[1]));
    expect(a.success).toBe(true);
    expect(a).toEqual(b);
    expect(a).toEqual(c);
  });

  it('answers a single-row GET on its hot path byte for byte as the general path does', async () => {
    // GET with exactly the ten plain features takes the hot path; POST with the same query string (no
    // body) and GET with a percent-encoded value take the router's path.
    for (const row of rows.slice(0, 20)) {
      const qs = new URLSearchParams(Object.entries(row).map(([k, v]): [string, string] => [k, String(v)])).toString();
      const hot = await fetch(`${svc.url}/smartcar/predict?${qs}`);
      const text = await hot.text();
      expect(hot.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
      expect(text).toBe(await (await fetch(`${svc.url}/smartcar/predict?${qs}`, { method: 'POST' })).text());
      const encoded = qs.replace(/=(\d)/, (_, d: string) => `=%${(0x30 + Number(d)).toString(16)}`);
      expect(encoded).not.toBe(qs);
      expect(text).toBe(await (await fetch(`${svc.url}/smartcar/predict?${encoded}`)).text());
    }
    // Not for the hot path, answered by the general one with its messages.
    const qs = new URLSearchParams(Object.entries(rows[0]).map(([k, v]): [string, string] => [k, String(v)])).toString();
    const cases: [string, number, RegExp | undefined][] = [
      [`${qs}&wea=1`, 400, /^wea: given twice/],
      [`${qs}&speed=1`, 400, /^speed: unknown feature/],
      [qs.replace(/carSpd=[^&]*/, 'carSpd=2.5'), 400, /^carSpd: 2.5 is outside 0–2/],
      [qs.replace(/hum=[^&]*/, 'hum=1e'), 400, /^hum: "1e" is not a number/],
      [qs.replace(/hum=[^&]*/, 'hum='), 400, /^hum: "" is not a number/],
      [qs.replace(/&steeAng=[^&]*/, ''), 400, /^steeAng: missing feature/],
      [`${qs}&`, 200, undefined],
    ];
    for (const [q, status, error] of cases) {
      const res = await fetch(`${svc.url}/smartcar/predict?${q}`);
      expect(res.status, q).toBe(status);
      const j = (await res.json()) as Answer;
      if (error) expect(j.error, q).toMatch(error);
      else expect(j.success).toBe(true);
    }
  });

  it('scores a POSTed array as a batch, row for row as single requests do', async () => {
    const j = await json(post(rows.slice(0, 50)));
    expect(j.success).toBe(true);
    expect(j.predictions).toHaveLength(50);
    for (const i of [0, 17, 49]) {
      const one = await json(post(rows[i]));
      expect(j.predictions[i]).toEqual({ prediction: one.prediction, probabilities: one.probabilities });
    }
  });

  it('applies the training scaler: answers match the scaled oracle and not the raw-feature one', async () => {
    const f = oracle(svc.current()!.file);
    const j = await json(post(rows));
    let differsFromRaw = 0;
    rows.forEach((r, i) => {
      const want = f(r);
      expect(j.predictions[i].prediction).toBe(want.prediction);
      expect(j.predictions[i].probabilities['0']).toBeCloseTo(want.probabilities[0], 9);
      if (f(r, { raw: true }).prediction !== want.prediction) differsFromRaw++;
    });
    // The check has teeth: with raw features many of these rows would get another class.
    expect(differsFromRaw).toBeGreaterThan(10);
  });

  it('answers an empty request with {"success": false}, as the seed did', async () => {
    expect(await json(fetch(`${svc.url}/smartcar/predict`))).toEqual({ success: false });
    expect(await json(post(''))).toEqual({ success: false });
    expect(await json(post({}))).toEqual({ success: false });
  });

  it('refuses every kind of bad input with 400 naming the field', async () => {
    const base = rows[2];
    const { wea: _w, ...missing } = base;
    const cases: [unknown, RegExp][] = [
      [missing, /^wea: missing feature/],
      [{ ...base, speed: 1 }, /^speed: unknown feature/],
      [{ ...base, hum: 'abc' }, /^hum: "abc" is not a number/],
      [{ ...base, hum: null }, /^hum: null is not a number/],
      [{ ...base, temp: true }, /^temp: true is not a number/],
      [{ ...base, carSpd: 3 }, /^carSpd: 3 is outside 0–2/],
      [{ ...base, carSpd: -0.5 }, /^carSpd: -0.5 is outside 0–2/],
      [[base, { ...base, steeAng: 7 }], /^\[1\]\.steeAng: 7 is outside 0–2/],
      [[base, 5], /^\[1\]\.: expected an object/],
      ['{"wea": 1,', /^body: not valid JSON/],
      [42, /^body: expected an object/],
    ];
    for (const [body, want] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const j = (await res.json()) as Answer;
      expect(j.success).toBe(false);
      expect(j.error).toMatch(want);
    }
    const q = await fetch(`${svc.url}/smartcar/predict?wea=1&temp=x`);
    expect(q.status).toBe(400);
    expect(((await q.json()) as Answer).error).toMatch(/^temp: "x" is not a number/);
  });

  it('serves /health and /metrics with requests, the latency histogram and predictions per class', async () => {
    const h = await json(fetch(`${svc.url}/health`));
    expect(h).toMatchObject({ status: 'ok', model_version: svc.current()!.version });
    const m = await (await fetch(`${svc.url}/metrics`)).text();
    expect(m).toMatch(/smartcar_predict_requests_total\{status="200"\} \d+/);
    expect(m).toMatch(/smartcar_predict_requests_total\{status="400"\} \d+/);
    expect(m).toMatch(/smartcar_predict_latency_seconds_bucket\{le="0.01"\} \d+/);
    expect(m).toMatch(/smartcar_predict_predictions_total\{class="[012]"\} \d+/);
  });

  it('swaps in a newly trained model during a request stream without a failed or mixed answer', async () => {
    const before = svc.current()!;
    const oldOracle = oracle(before.file);
    // Train v2 first (in this process training would stall the server's event loop), then place it the
    // way \`smartcar ml dnn train\` does (temp file + rename) while requests flow.
    const staging = path.join(dir, 'staging');
    fs.mkdirSync(staging, { recursive: true });
    fs.copyFileSync(before.file, path.join(staging, path.basename(before.file)));
    const trained = await trainInto(staging, 6);
    let stop = false;
    const seen = new Set<number>();
    const answers: { v: number; p: string; row: number }[] = [];
    const stream = (async () => {
      let i = 0;
      while (!stop) {
        const row = i++ % rows.length;
        const res = await post(rows[row]);
        expect(res.status).toBe(200);
        const j = (await res.json()) as Answer;
        expect(j.success).toBe(true);
        seen.add(j.model_version);
        answers.push({ v: j.model_version, p: j.prediction, row });
      }
    })();
    const until = async (ok: () => boolean) => {
      const t = Date.now();
      while (!ok() && Date.now() - t < 20_000) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => answers.length >= 20); // the old model has answered
    const next = { version: trained.version, file: path.join(models, path.basename(trained.file)) };
    fs.copyFileSync(trained.file, path.join(models, '.incoming.tmp'));
    fs.renameSync(path.join(models, '.incoming.tmp'), next.file);
    const t0 = Date.now();
    while (svc.current()!.version !== next.version && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    const swappedAt = answers.length;
    await until(() => answers.length >= swappedAt + 20); // and the new one has too
    stop = true;
    await stream;
    expect(seen).toEqual(new Set([before.version, next.version]));
    // Every answer is one whole model's: the old oracle for v1, the new one for v2.
    const newOracle = oracle(next.file);
    for (const a of answers) expect(a.p).toBe((a.v === before.version ? oldOracle : newOracle)(rows[a.row]).prediction);
    const m = await (await fetch(`${svc.url}/metrics`)).text();
    expect(m).toMatch(/smartcar_predict_model_swaps_total 1/);
  });

  it('keeps the current model when a broken model file appears', async () => {
    const v = svc.current()!.version;
    fs.writeFileSync(path.join(models, `v${v + 1}.json`), '{"format": "smartcar-incident-dnn", "formatVersion": 1');
    await new Promise((r) => setTimeout(r, 300));
    expect(svc.current()!.version).toBe(v);
    expect((await post(rows[0])).status).toBe(200);
    fs.rmSync(path.join(models, `v${v + 1}.json`));
  });

  it('needs a token to listen beyond loopback, and checks Authorization: Bearer', async () => {
    await expect(startPredictService({ model: models, host: '0.0.0.0', port: 0 })).rejects.toThrow(/needs a token/);
    const guarded = await startPredictService({ model: models, port: 0, token: 's3cret' });
    try {
      const url = `${guarded.url}/smartcar/predict`;
      const body = JSON.stringify(rows[0]);
      expect((await fetch(url, { method: 'POST', body })).status).toBe(401);
      expect((await fetch(url, { method: 'POST', body, headers: { authorization: 'Bearer nope' } })).status).toBe(401);
      expect((await fetch(url, { method: 'POST', body, headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
      // The single-row GET's hot path checks the token too.
      const qs = new URLSearchParams(Object.entries(rows[0]).map(([k, v]): [string, string] => [k, String(v)])).toString();
      expect((await fetch(`${url}?${qs}`)).status).toBe(401);
      expect((await fetch(`${url}?${qs}`, { headers: { authorization: 'Bearer s3cre' } })).status).toBe(401);
      expect((await fetch(`${url}?${qs}`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
      expect((await fetch(`${guarded.url}/health`)).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });

  it('runs as `smartcar serve predict` and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.resolve('bin/smartcar.js'), 'serve', 'predict', '--port', '0', '--model', models, '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let err = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /predict: (http:\S+)/.exec(err);
          if (m) resolve(m[1]);
        });
        child.on('exit', (c) => reject(new Error(`exited ${c}: ${err}`)));
      });
      const j = await json(fetch(url, { method: 'POST', body: JSON.stringify(rows[0]) }));
      expect(j.success).toBe(true);
      // The supervisor's readiness line: a status endpoint of its own (`smartcar up` passes --metrics-port 0).
      const status = await new Promise<string>((resolve) => {
        let o = '';
        child.stdout.on('data', (d: Buffer) => {
          o += d.toString();
          const m = /^metrics listening (\S+)$/m.exec(o);
          if (m) resolve(m[1]);
        });
      });
      expect((await json(fetch(`http://${status}/health`))).status).toBe('ok');
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
