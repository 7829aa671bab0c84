import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from '../../src/broker/index.ts';
import { createBus } from '../../src/bus/index.ts';
import { Agent, createDeadLetters, readAgentFile } from '../../src/collect/index.ts';
import { writeStatusDay, statusFileName, driverLines, garbageLine } from '../../src/sim/index.ts';
import { parseDate8, localDate8 } from '../../src/core/time.ts';
import { registry } from '../../src/core/metrics.ts';
import { TOPIC } from '../../src/core/records.ts';
import { crashSoak, lakeLines, tailCrashSoak } from '../../soak/collect-harness.ts';

const tmp = (n: string) => fs.mkdtempSync(path.join(os.tmpdir(), `smartcar-agent-${n}-`));
const waitFor = async (cond: () => boolean | Promise<boolean>, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
};
const metric = async (name: string, labels: Record<string, string>) => {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((s, v) => s + v.value, 0);
};

describe('the seed agent (both flows) against the embedded broker', () => {
  let broker: Broker;
  beforeAll(async () => { broker = await startBroker({ dataDir: tmp('broker'), port: 0, defaultPartitions: 4 }); });
  afterAll(async () => { await broker?.close(); });

  it('status day → lake with the processing date, driving log → SmartCar-Topic keyed by car; garbage dropped and counted', async () => {
    const data = tmp('data');
    const spool = path.join(data, 'spool', 'car-batch-log');
    fs.mkdirSync(spool, { recursive: true });
    const staged = tmp('staged');
    writeStatusDay({ date: '20240101', cars: 3, outDir: staged, seed: 5, garbage: 0.01 });
    // Lines as bytes (some garbage is not UTF-8; empty lines are garbage too).
    const raw = fs.readFileSync(path.join(staged, statusFileName('20240101')));
    const rawLines: Buffer[] = [];
    for (let s = 0, nl = raw.indexOf(10); nl !== -1; s = nl + 1, nl = raw.indexOf(10, s)) rawLines.push(raw.subarray(s, nl));
    const statusText = rawLines.map((b) => b.toString('latin1'));
    const passing = statusText.filter((l) => /^\d{14}/.test(l));
    // Over-long garbage lines (> 2048 bytes, the spool source's maxLineLength) go to the dead letters.
    const statusRecords = passing.filter((l) => l.length <= 2048).map((l) => Buffer.from(l, 'latin1').toString('utf8'));
    fs.renameSync(path.join(staged, statusFileName('20240101')), path.join(spool, statusFileName('20240101')));

    const log = path.join(data, 'logs', 'driver-realtime-log', 'SmartCarDriverInfo.log');
    fs.mkdirSync(path.dirname(log), { recursive: true });
    const driving = [...driverLines({ cars: 10, seed: 3, startMs: parseDate8('20240101'), records: 50 })];
    const withGarbage = driving.flatMap((l, i) => (i % 97 === 5 ? [l, 'garbage ' + i] : [l]));
    fs.writeFileSync(log, withGarbage.slice(0, 200).join('\n') + '\n');

    const def = readAgentFile('agents/smartcar-agent.properties', 'SmartCar_Agent');
    const agent = new Agent(def, { dataDir: data, brokers: [`${broker.host}:${broker.port}`], deadLetters: createDeadLetters(data, 'SmartCar_Agent') });
    agent.build();
    await agent.start();
    // Lines appended while running are followed.
    fs.appendFileSync(log, withGarbage.slice(200).join('\n') + '\n');
    const records = driving.filter((l) => /^\d{14}/.test(l));
    const bus = createBus({ brokers: [`${broker.host}:${broker.port}`], clientId: 'check' });
    const seen: { key: string; value: string }[] = [];
    const consumer = await bus.consumer({ groupId: 'check-agent', topics: [TOPIC] });
    const run = consumer.run(async (b) => { for (const r of b.records) seen.push({ key: String(r.key), value: r.value.toString() }); });
    await waitFor(() => seen.length >= records.length && !fs.existsSync(path.join(spool, statusFileName('20240101'))));
    await agent.stop();
    await consumer.stop();
    await run;
    await bus.close();

    expect(seen.map((s) => s.value).sort()).toEqual([...records].sort());
    for (const s of seen) expect(s.key).toBe(s.value.split(',')[1]);
    const day = localDate8();
    const lake = lakeLines(data);
    const want = statusRecords.map((l) => `${l},${day}`).sort();
    lake.sort();
    expect(lake.length).toBe(want.length);
    expect(lake.filter((l, i) => l !== want[i]).slice(0, 3)).toEqual([]);
    const dead = fs.readFileSync(path.join(data, 'dead-letter', 'collect-SmartCar_Agent.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    // The source sets over-long lines aside before the interceptors see them, whatever they hold.
    expect(dead.length).toBe(statusText.filter((l) => l.length > 2048).length);
    for (const d of dead) expect(d.reason).toMatch(/line longer than deserializer\.maxLineLength \(2048\)/);
    const files = fs.readdirSync(path.join(data, 'lake', 'collect', 'car-batch-log', `wrk_date=${day}`));
    for (const f of files) expect(f).toMatch(/^car-batch-log\.\d{13}\.log$/);
    expect(await metric('smartcar_collect_interceptor_dropped_total', { component: 'SmartCarInfo_SpoolSource.filterInterceptor' })).toBe(statusText.filter((l) => l.length <= 2048).length - statusRecords.length);
    expect(await metric('smartcar_collect_interceptor_dropped_total', { component: 'DriverCarInfo_TailSource.filterInterceptor2' })).toBe(withGarbage.length - records.length);
    void garbageLine;
  });
});

describe('agent crash safety (real process, kill -9)', () => {
  it('after random kills during ingestion, the lake holds every filtered line exactly once', async () => {
    const r = await crashSoak({ kills: Number(process.env.CRASH_KILLS ?? 3), cars: 4, seed: 11 });
    expect({ missing: r.missing, duplicates: r.duplicates, extra: r.extra, badSuffix: r.badSuffix }).toEqual({ missing: 0, duplicates: 0, extra: 0, badSuffix: 0 });
    expect(r.deadLetters).toBeGreaterThanOrEqual(r.tooLong);
    expect(r.stored).toBe(r.expected);
    fs.rmSync(r.dir, { recursive: true, force: true });
  }, 240_000);

  it('tail -F across rotations (also while down) and kills: every line in the lake exactly once', async () => {
    const r = await tailCrashSoak({ kills: Number(process.env.CRASH_KILLS ?? 3) });
    expect({ missing: r.missing, duplicates: r.duplicates, extra: r.extra }).toEqual({ missing: 0, duplicates: 0, extra: 0 });
    expect(r.stored).toBe(r.expected);
    fs.rmSync(r.dir, { recursive: true, force: true });
  }, 240_000);
});

describe('smartcar agent CLI', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/smartcar.js', 'agent', ...args], { encoding: 'utf8', env: { ...process.env, SMARTCAR_LOG_LEVEL: 'warn' } });

  it('--check validates the shipped seed agent', () => {
    const r = cli('-n', 'SmartCar_Agent', '-f', 'agents/smartcar-agent.properties', '--check', '--data', tmp('check'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('agent SmartCar_Agent is valid: 2 source(s), 2 channel(s), 2 sink(s)');
    expect(r.status).toBe(0);
  });

  it('the original file\'s misspelled transactionCapasity is an error naming the line (and a warning with --lenient)', () => {
    const dir = tmp('typo');
    const file = path.join(dir, 'agent.properties');
    const text = fs.readFileSync('agents/smartcar-agent.properties', 'utf8').replace('DriverCarInfo_Channel.transactionCapacity', 'DriverCarInfo_Channel.transactionCapasity');
    fs.writeFileSync(file, text);
    const line = text.split('\n').findIndex((l) => l.startsWith('SmartCar_Agent.channels.DriverCarInfo_Channel.transactionCapasity')) + 1;
    const r = cli('-n', 'SmartCar_Agent', '-f', file, '--check', '--data', dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}:${line}: channel 'DriverCarInfo_Channel' (file): unknown property 'transactionCapasity' — did you mean 'transactionCapacity'?`);
    const lenient = cli('-n', 'SmartCar_Agent', '-f', file, '--check', '--lenient', '--data', dir);
    expect(lenient.status).toBe(0);
    expect(lenient.stderr).toContain('ignored: --lenient');
  });

  it('a running agent serves /metrics and /health, and --status prints its components', async () => {
    const data = tmp('live');
    const file = path.join(data, 'a.properties');
    fs.writeFileSync(file, 'a.sources = s\na.channels = c\na.sinks = k\na.sources.s.type = spooldir\na.sources.s.spoolDir = in\na.sources.s.channels = c\n'
      + 'a.channels.c.type = file\na.sinks.k.type = null\na.sinks.k.channel = c\n');
    fs.mkdirSync(path.join(data, 'in'));
    fs.writeFileSync(path.join(data, 'in', 'x.txt'), 'one\ntwo\n');
    const { spawn } = await import('node:child_process');
    const p = spawn(process.execPath, ['bin/smartcar.js', 'agent', '-n', 'a', '-f', file, '--data', data, '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SMARTCAR_LOG_LEVEL: 'warn' } });
    try {
      const addr = await new Promise<string>((resolve, reject) => {
        let out = '';
        p.stdout!.on('data', (c: Buffer) => { out += c; const m = /metrics listening (\S+)/.exec(out); if (m) resolve(m[1]); });
        p.once('exit', (code) => reject(new Error(`agent exited ${code}`)));
      });
      await waitFor(() => fs.existsSync(path.join(data, 'in', 'x.txt.COMPLETED')));
      await waitFor(async () => /smartcar_collect_sink_events_delivered_total\{[^}]*\} 2/.test(await (await fetch(`http://${addr}/metrics`)).text()));
      const metrics = await (await fetch(`http://${addr}/metrics`)).text();
      expect(metrics).toMatch(/smartcar_collect_source_events_received_total\{agent="a",component="s"\} 2/);
      expect(metrics).toMatch(/smartcar_collect_source_events_accepted_total\{agent="a",component="s"\} 2/);
      const health = await fetch(`http://${addr}/health`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { components: { name: string }[] }).components.map((c: { name: string }) => c.name)).toEqual(['s', 'c', 'k']);
      // The status file is rewritten every 2 s: poll --status until it shows the delivered events.
      let st = cli('-n', 'a', '-f', file, '--status', '--data', data);
      await waitFor(() => {
        st = cli('-n', 'a', '-f', file, '--status', '--data', data);
        return /sink\s+k\s+null\s+2\s+0/.test(st.stdout);
      });
      expect(st.status).toBe(0);
      expect(st.stdout).toMatch(/agent a \(pid \d+, running\)/);
      expect(st.stdout).toMatch(/sink\s+k\s+null\s+2\s+0/);
    } finally {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
    expect(p.exitCode).toBe(0);
  });

  it('--status without a running agent says what to do', () => {
    const r = cli('-n', 'SmartCar_Agent', '-f', 'agents/smartcar-agent.properties', '--status', '--data', tmp('st'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no status for agent SmartCar_Agent .*is it running/);
  });
});
