/**
 * The prediction service (the seed's Flask app, done right): the incident model over HTTP.
 *
 *   GET|POST /smartcar/predict
 *     features as a JSON object body, or as query parameters when there is no body:
 *       wea temp hum arrCar timeSlot acciArea drvCond innCond carSpd steeAng   (each a number in 0–2)
 *     200 {"success": true, "prediction": "<class>", "probabilities": {"0": p, "1": p, "2": p}, "model_version": N}
 *     POST a JSON array of such objects: 200 {"success": true, "predictions": [{prediction, probabilities}…], "model_version": N}
 *     no body and no parameters: 200 {"success": false} (the seed's answer)
 *     a missing, unknown, non-numeric or out-of-range feature: 400 {"success": false, "error": "<field>: …"}
 *     no model yet: 503 {"success": false, "error": …}
 *   GET /health   {"status": "ok", "model_version": N, "model": file} (503 without a model)
 *   GET /metrics  requests by status, latency histogram, predictions per class, model version and swaps
 *
 * The training scaler is applied to every row (predictRaw): the model file carries it.
 * Hot swap: the model path (a file, or a directory whose newest v<N>.json wins) is polled; a new file is
 * loaded and checked completely before one reference assignment makes it current. A request reads that
 * reference once, so it is answered by one whole model, old or new.
 * Security: 127.0.0.1 by default; another address needs a token (option or SMARTCAR_PREDICT_TOKEN), and
 * when a token is set every route but /health needs `Authorization: Bearer <token>`.
 *
 * Hot path (issue 17): a single-row GET whose query string holds exactly the ten features, each once,
 * as plain numbers in 0–2 (no percent-encoding), is answered before the router: no URL object, no
 * per-request closures, metric children bound once, the answer JSON written by string concatenation
 * (byte-identical to JSON.stringify of the same object) with a Content-Length, so node writes it in one
 * piece instead of chunked. Anything else — bad, duplicate, unknown or encoded values, POST, other
 * routes — takes the general path below, which produces every answer and every error message.
 */
import fs from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, Router, listen, readBody, reply, statusRoutes, type HttpServer, UserError, isLoopback, errorMessage, counter, gauge, histogram } from '../core/index.ts';
import { latestArtifact, loadIncidentModel as loadModel, predictRaw, type IncidentModel } from '../ml/index.ts';

export interface PredictServiceOptions {
  /** A model file, or a directory of v<N>.json files. */
  model: string;
  host?: string;
  port: number;
  token?: string;
  /** How often the model path is checked for a new model (ms). */
  watchMs?: number;
  maxBatch?: number;
  onLog?: (line: string) => void;
}

export interface PredictService {
  server: HttpServer;
  url: string;
  current(): IncidentModel | undefined;
  /** Checks the model path now; true when a new model became current. */
  reload(): boolean;
  close(): Promise<void>;
}

const requests = counter('smartcar_predict_requests_total', 'prediction requests by HTTP status', ['status']);
const latency = histogram('smartcar_predict_latency_seconds', 'prediction request latency', [], [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5]);
const predictions = counter('smartcar_predict_predictions_total', 'predictions by class', ['class']);
const modelVersion = gauge('smartcar_predict_model_version', 'version of the model answering');
const swaps = counter('smartcar_predict_model_swaps_total', 'models made current without a restart');

class BadRequest extends Error {}

/** One row of features from an object (JSON body or query), checked field by field. */
function featureRow(m: IncidentModel, v: unknown, where: string): Float64Array {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadRequest(`${where || 'body'}: expected an object of the ${m.features.length} features`);
  const obj = v as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!m.features.includes(k)) throw new BadRequest(`${where}${k}: unknown feature (features: ${m.features.join(', ')})`);
  return Float64Array.from(m.features, (f) => {
    if (!(f in obj)) throw new BadRequest(`${where}${f}: missing feature`);
    const raw = obj[f];
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(n)) throw new BadRequest(`${where}${f}: ${JSON.stringify(raw)} is not a number`);
    if (n < 0 || n > 2) throw new BadRequest(`${where}${f}: ${n} is outside 0–2`);
    return n;
  });
}

const JSON_TYPE = 'application/json; charset=utf-8';

function json(status: number, v: unknown) {
  const body = JSON.stringify(v) + '\n';
  return reply(status, JSON_TYPE, body, { 'content-length': String(Buffer.byteLength(body)) });
}

/**
 * What the hot path needs of a model, computed once per model: where each query key goes, the
 * probabilities' keys in the order JSON.stringify puts them (integer-like keys first, ascending), and
 * the fixed pieces of the answer.
 */
interface FastModel {
  m: IncidentModel;
  index: Map<string, number>;
  x: Float64Array;
  /** probability j of the object, in key order: [class index, `"<class>":`] */
  probs: [number, string][];
  prediction: string[];
  tail: string;
}

function fastModel(m: IncidentModel): FastModel {
  const byName = new Map(m.classes.map((c, j) => [c, j]));
  const keyOrder = Object.keys(Object.fromEntries(m.classes.map((c) => [c, 0])));
  return {
    m,
    index: new Map(m.features.map((f, i) => [f, i])),
    x: new Float64Array(m.features.length),
    probs: keyOrder.map((c, i) => [byName.get(c)!, `${i ? ',' : ''}${JSON.stringify(c)}:`]),
    prediction: m.classes.map((c) => `{"success":true,"prediction":${JSON.stringify(c)},"probabilities":{`),
    tail: `},"model_version":${JSON.stringify(m.version)}}\n`,
  };
}

/** A query value the hot path takes as it is: digits, '.', '-', 'e'/'E' only (anything else, the general path). */
function plainNumber(s: string, from: number, to: number): boolean {
  if (from === to) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || c === 46 || c === 45 || c === 101 || c === 69)) return false;
  }
  return true;
}

export async function startPredictService(o: PredictServiceOptions): Promise<PredictService> {
  const host = o.host ?? '127.0.0.1';
  const token = o.token ?? process.env.SMARTCAR_PREDICT_TOKEN;
  if (!isLoopback(host) && !token) throw new UserError(`listening on ${host} needs a token: set SMARTCAR_PREDICT_TOKEN or --token (clients send Authorization: Bearer <token>)`);
  const log = o.onLog ?? (() => {});
  const maxBatch = o.maxBatch ?? 10_000;

  let model: IncidentModel | undefined;
  let seen = '';
  const reload = (): boolean => {
    let file: string | undefined;
    try {
      file = fs.existsSync(o.model) && fs.statSync(o.model).isDirectory() ? latestArtifact(o.model) : fs.existsSync(o.model) ? o.model : undefined;
      if (!file) return false;
      const st = fs.statSync(file);
      const key = `${file}:${st.mtimeMs}:${st.size}:${st.ino}`;
      if (key === seen) return false;
      const next = loadModel(file);
      seen = key;
      const first = !model;
      model = next; // the swap: one assignment of a fully built model
      modelVersion.set(next.version);
      if (!first) swaps.inc();
      log(`model v${next.version} (${file}) is current`);
      return true;
    } catch (err) {
      log(`model ${file ?? o.model} not loaded, keeping ${model ? `v${model.version}` : 'none'}: ${errorMessage(err)}`);
      return false;
    }
  };
  reload();
  const timer = setInterval(reload, o.watchMs ?? 1000);
  timer.unref();

  const router = new Router({ bodyLimit: 16 << 20 });
  const want = token ? Buffer.from(`Bearer ${token}`) : undefined;
  if (want) {
    router.use((req, route) => {
      if (route.path === '/health') return;
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== want.length || !timingSafeEqual(got, want)) throw new HttpError(401, 'missing or wrong token: send Authorization: Bearer <token>');
    });
  }

  const predict = async (req: IncomingMessage, url: URL) => {
    const t0 = process.hrtime.bigint();
    const done = (r: ReturnType<typeof json>) => {
      requests.inc({ status: String(r.status) });
      latency.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      return r;
    };
    const m = model; // read once: this request sees one whole model
    try {
      const text = req.method === 'POST' ? await readBody(req, 16 << 20) : '';
      let input: unknown;
      if (text.trim() !== '') {
        try {
          input = JSON.parse(text);
        } catch (err) {
          throw new BadRequest(`body: not valid JSON (${errorMessage(err)})`);
        }
      } else if (url.searchParams.size > 0) {
        const q: Record<string, string> = {};
        for (const [k, v] of url.searchParams) {
          if (k in q) throw new BadRequest(`${k}: given twice`);
          q[k] = v;
        }
        input = q;
      }
      if (input === undefined || (typeof input === 'object' && input !== null && !Array.isArray(input) && Object.keys(input).length === 0))
        return done(json(200, { success: false }));
      if (!m) return done(json(503, { success: false, error: 'no model yet: train one with `smartcar ml dnn train`' }));
      const k = m.classes.length;
      if (Array.isArray(input)) {
        if (input.length === 0) return done(json(200, { success: false }));
        if (input.length > maxBatch) throw new BadRequest(`body: ${input.length} rows, at most ${maxBatch} per request`);
        const nf = m.features.length;
        const x = new Float64Array(input.length * nf);
        input.forEach((row, i) => x.set(featureRow(m, row, `[${i}].`), i * nf));
        const p = predictRaw(m, x, input.length);
        const out = input.map((_, r) => answer(m, p, r, k));
        for (const a of out) predictions.inc({ class: a.prediction });
        return done(json(200, { success: true, predictions: out, model_version: m.version }));
      }
      const x = featureRow(m, input, '');
      const a = answer(m, predictRaw(m, x, 1), 0, k);
      predictions.inc({ class: a.prediction });
      return done(json(200, { success: true, ...a, model_version: m.version }));
    } catch (err) {
      if (err instanceof BadRequest) return done(json(400, { success: false, error: err.message }));
      if (err instanceof HttpError) return done(json(err.status, { success: false, error: err.message }));
      return done(json(500, { success: false, error: errorMessage(err) }));
    }
  };

  // The hot path (see the head of this file). Returns false, having written nothing, to leave the request to the router.
  const ok200 = requests.labels('200');
  const perClass = new Map<string, ReturnType<typeof predictions.labels>>();
  let fast: FastModel | undefined;
  const PREFIX = '/smartcar/predict?';
  const hot = (req: IncomingMessage, res: ServerResponse): boolean => {
    const u = req.url;
    if (req.method !== 'GET' || u === undefined || !u.startsWith(PREFIX)) return false;
    const m = model; // read once: this request sees one whole model
    if (!m) return false;
    if (want) {
      const auth = req.headers.authorization;
      if (auth === undefined || Buffer.byteLength(auth) !== want.length || !timingSafeEqual(Buffer.from(auth), want)) return false;
    }
    const t0 = process.hrtime.bigint();
    if (m.features.length > 30) return false; // the seen-set below is a 31-bit mask
    if (fast?.m !== m) fast = fastModel(m);
    const f = fast;
    const nf = m.features.length;
    let seen = 0, count = 0, at = PREFIX.length;
    while (at <= u.length) {
      let end = u.indexOf('&', at);
      if (end < 0) end = u.length;
      const eq = u.indexOf('=', at);
      if (eq < 0 || eq > end) return false;
      const i = f.index.get(u.slice(at, eq));
      if (i === undefined || seen & (1 << i) || !plainNumber(u, eq + 1, end)) return false;
      const v = Number(u.slice(eq + 1, end));
      if (!(v >= 0 && v <= 2)) return false;
      f.x[i] = v;
      seen |= 1 << i;
      count++;
      at = end + 1;
    }
    if (count !== nf) return false;
    const p = predictRaw(m, f.x, 1);
    let best = 0;
    for (let j = 1; j < p.length; j++) if (p[j] > p[best]) best = j;
    let body = f.prediction[best];
    for (const [j, key] of f.probs) body += key + JSON.stringify(p[j]);
    body += f.tail;
    res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
    const cls = m.classes[best];
    let c = perClass.get(cls);
    if (!c) perClass.set(cls, (c = predictions.labels(cls)));
    c.inc();
    ok200.inc();
    latency.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    return true;
  };

  for (const method of ['GET', 'POST'] as const)
    router.route({ method, path: '/smartcar/predict', summary: 'predict the incident class from the ten features', handler: async (ctx) => predict(ctx.req, ctx.url) });
  statusRoutes(router, () => (model ? { status: 'ok' as const, model_version: model.version, model: model.file } : { status: 'down' as const, error: `no model at ${o.model}` }));

  const server = await listen({ host, port: o.port, router, portFlag: process.env.SMARTCAR_PORT_FLAG ?? '--port', ref: true }); // --predict-port under up
  // The hot path goes in front of the router's request listener (core/http's listen owns that listener).
  const routed = server.server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.server.removeAllListeners('request');
  server.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let done = false;
    try {
      done = hot(req, res);
    } catch (err) {
      // Nothing is written before the answer is complete, so the general path can still answer (with its 500).
      log(`predict hot path: ${errorMessage(err)}`);
      if (res.headersSent) return void res.destroy();
    }
    if (!done) for (const l of routed) l(req, res);
  });
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shownHost}:${server.port}`,
    current: () => model,
    reload,
    close: async () => {
      clearInterval(timer);
      await server.close();
    },
  };
}

function answer(m: IncidentModel, p: Float64Array, r: number, k: number): { prediction: string; probabilities: Record<string, number> } {
  let best = 0;
  for (let j = 1; j < k; j++) if (p[r * k + j] > p[r * k + best]) best = j;
  const probabilities: Record<string, number> = {};
  for (let j = 0; j < k; j++) probabilities[m.classes[j]] = p[r * k + j];
  return { prediction: m.classes[best], probabilities };
}
