import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseWorkflow, runWorkflow, readHistory, historyFile, startScheduler, loadWorkflows, SHIPPED_WORKFLOWS } from '../../src/flow/index.ts';
import { writeStatusDay, writeMaster, writeBuyList } from '../../src/sim/index.ts';
import { loadReference } from '../../src/sql/index.ts';

const tmp = (n: string) => fs.mkdtempSync(path.join(os.tmpdir(), `smartcar-flow-${n}-`));
const wf = (o: object, file = 'test.json') => parseWorkflow(JSON.stringify({ name: 'test', ...o }), file);

describe('workflow definitions', () => {
  it('ship the five subject workflows and the two analysis ones, each with a daily or monthly schedule', () => {
    const all = loadWorkflows([SHIPPED_WORKFLOWS]);
    expect([...all.keys()].sort()).toEqual(['buylist', 'drive', 'emergency-check', 'recommend', 'status', 'status-score', 'symptom']);
    for (const w of all.values()) expect(w.schedule).toBeTruthy();
  });

  it.each([
    [{ steps: [{ id: 'a', type: 'nope' }] }, 'steps.0.type'],
    [{ schedule: '61 * * * *', steps: [{ id: 'a', type: 'copy-drive' }] }, 'schedule: not a valid cron expression'],
    [{ steps: [{ id: 'a', type: 'copy-drive', dependsOn: ['b'] }] }, "depends on unknown step 'b'"],
    [{ steps: [{ id: 'a', type: 'copy-drive', dependsOn: ['b'] }, { id: 'b', type: 'copy-drive', dependsOn: ['a'] }] }, 'cycle'],
    [{ steps: [{ id: 'a', type: 'mart', mart: 'statuss' }] }, 'steps.0.mart'],
    [{ steps: [{ id: 'a', type: 'shell', command: 'true', retrys: 2 }] }, 'retrys'],
  ])('rejects %j naming the file and key', (def, msg) => {
    expect(() => wf(def, 'my.json')).toThrow(msg);
    expect(() => wf(def, 'my.json')).toThrow('my.json');
  });
});

describe('running workflows', () => {
  it('retries a failing step with backoff, records every attempt, and keeps the run history durably', async () => {
    const dataDir = tmp('retry');
    const counter = path.join(dataDir, 'n');
    const w = wf({ steps: [{ id: 'flaky', type: 'shell', retries: 3, backoffMs: 100, command: `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; echo attempt $n; [ $n -ge 3 ]` }] });
    const t0 = Date.now();
    const r = await runWorkflow(w, '20240101', { dataDir });
    expect(r.state).toBe('succeeded');
    expect(r.steps[0].attempts).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300); // 100 + 200 ms of backoff
    expect(r.steps[0].log).toContain('attempt 3');
    // A torn line after a crash does not hide the runs before it.
    fs.appendFileSync(historyFile(dataDir), '{"id": "torn');
    expect(readHistory(dataDir, 'test').map((x) => x.id)).toEqual([r.id]);
  });

  it('times a step out, fails the run, and skips what depends on it', async () => {
    const dataDir = tmp('timeout');
    const w = wf({ steps: [
      { id: 'slow', type: 'shell', command: 'sleep 5', timeoutMs: 300 },
      { id: 'after', type: 'shell', command: 'true', dependsOn: ['slow'] },
      { id: 'independent', type: 'shell', command: 'echo day=$WORKING_DAY' },
    ] });
    const r = await runWorkflow(w, '20240101', { dataDir });
    expect(r.state).toBe('failed');
    expect(r.steps.map((s) => [s.id, s.state])).toEqual([['slow', 'failed'], ['after', 'skipped'], ['independent', 'succeeded']]);
    expect(r.error).toContain('timed out after 0.3 s');
    expect(r.steps[2].log).toEqual(['day=20240101']);
  });

  it('substitutes ${working_day} in SQL steps', async () => {
    const dataDir = tmp('sql');
    const out = path.join(dataDir, 'out.csv');
    const r = await runWorkflow(wf({ steps: [{ id: 'q', type: 'sql', sql: `COPY (SELECT '\${working_day}' AS d, '\${working_month}' AS m) TO '${out}' (HEADER false)` }] }), '20240317', { dataDir });
    expect(r.state).toBe('succeeded');
    expect(fs.readFileSync(out, 'utf8').trim()).toBe('20240317,202403');
  });
});

describe('the scheduler', () => {
  it('fires a workflow on its cron schedule for the day before', async () => {
    const dataDir = tmp('sched');
    const dir = tmp('defs');
    const out = path.join(dataDir, 'fired');
    fs.writeFileSync(path.join(dir, 'tick.json'), JSON.stringify({ name: 'tick', schedule: '* * * * *', steps: [{ id: 's', type: 'shell', command: `echo $WORKING_DAY >> ${out}` }] }));
    // A clock 1.5 s before the next minute (on a loaded machine the scheduler may start later: then it
    // fires at a later minute, which is fine — the expected day follows the minute it reports).
    const real = Date.now();
    const minute = (Math.floor(real / 60_000) + 1) * 60_000;
    const offset = minute - 1500 - real;
    const now = () => new Date(Date.now() + offset);
    const s = await startScheduler({ dataDir, workflowsDir: dir, now });
    try {
      const fireAt = s.next().find((n) => n.workflow === 'tick')!.at;
      expect(fireAt.getTime() % 60_000).toBe(0);
      expect(fireAt.getTime()).toBeGreaterThanOrEqual(minute);
      for (let i = 0; i < 1500 && !fs.existsSync(out); i++) await new Promise((r) => setTimeout(r, 100));
      // The expected working day computed here, not with the scheduler's own helper: the local calendar
      // day before the firing minute's.
      const f = fireAt;
      const before = new Date(f.getFullYear(), f.getMonth(), f.getDate() - 1, 12);
      const day = `${before.getFullYear()}${String(before.getMonth() + 1).padStart(2, '0')}${String(before.getDate()).padStart(2, '0')}`;
      expect(fs.readFileSync(out, 'utf8').trim()).toBe(day);
    } finally {
      await s.stop();
    }
    expect(readHistory(dataDir, 'tick')[0].trigger).toBe('schedule');
  });
});

describe('the workflow CLI', () => {
  it('runs, backfills with a failing day, and shows history', async () => {
    const dataDir = tmp('cli');
    const inDir = tmp('in');
    loadReference('master', await writeMaster({ outDir: inDir, seed: 1 }), dataDir);
    for (const day of ['20240101', '20240102']) {
      const f = await writeStatusDay({ date: day, cars: 3, outDir: inDir, seed: 2 });
      const part = path.join(dataDir, 'lake', 'collect', 'car-batch-log', `wrk_date=${day}`);
      fs.mkdirSync(part, { recursive: true });
      fs.writeFileSync(path.join(part, 'car-batch-log.1.log'), fs.readFileSync(f.file, 'utf8').split('\n').filter((l) => /^\d{14}/.test(l)).map((l) => `${l},${day}`).join('\n') + '\n');
    }
    const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/smartcar.js', 'workflow', ...args, '--data', dataDir], { encoding: 'utf8' });
    const run = cli('run', 'status', '--day', '20240101');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/status 20240101 SUCCEEDED .* partition:succeeded\(64800 rows\) compact:succeeded\(64800 rows\) mart:succeeded/);
    const back = cli('backfill', 'emergency-check', '--from', '20240101', '--to', '20240103');
    expect(back.status).toBe(1);
    expect(back.stdout).toContain('backfill emergency-check: 2 succeeded, 1 failed');
    expect(back.stdout).toContain('no data in smartcar_status_info for wrk_date=20240103');
    const hist = execFileSync(process.execPath, ['bin/smartcar.js', 'workflow', 'history', 'emergency-check', '--data', dataDir, '--verbose'], { encoding: 'utf8' });
    expect(hist.split('\n').filter((l) => /emergency-check 2024010\d/.test(l))).toHaveLength(3);
    expect(hist).toContain('check ok   car_number not null');
  });
});

describe('a status day without rows', () => {
  const emergency = () => loadWorkflows([SHIPPED_WORKFLOWS]).get('emergency-check')!;

  it('says when its lake files are still open, and when they close', async () => {
    const dataDir = tmp('open');
    const part = path.join(dataDir, 'lake', 'collect', 'car-batch-log', 'wrk_date=20240101');
    fs.mkdirSync(part, { recursive: true });
    fs.writeFileSync(path.join(part, 'car-batch-log.1704067200000.log.SmartCar_Agent_HdfsSink.tmp'), '20240101000000,A0001,90,90,90,90,1,1,1,1,A,A,90,20240101\n');
    const r = await runWorkflow(emergency(), '20240101', { dataDir });
    expect(r.state).toBe('failed');
    expect(r.error).toMatch(/no data in smartcar_status_info for wrk_date=20240101: its 1 lake file\(s\) are still being written by the collection agent, which closes a file at its roll size, after 100 s without new lines, or when it stops/);
  });

  it('says that partitions are by collection day, and which days were collected', async () => {
    const dataDir = tmp('other-day');
    const part = path.join(dataDir, 'lake', 'collect', 'car-batch-log', 'wrk_date=20240105');
    fs.mkdirSync(part, { recursive: true });
    fs.writeFileSync(path.join(part, 'car-batch-log.1.log'), '20240101000000,A0001,90,90,90,90,1,1,1,1,A,A,90,20240105\n');
    const r = await runWorkflow(emergency(), '20240101', { dataDir });
    expect(r.error).toMatch(/nothing was collected on that day \(lake partitions are by the day the agent collected a file, not by the records' own dates\); collected days: 20240105$/);
    const empty = await runWorkflow(emergency(), '20240101', { dataDir: tmp('empty') });
    expect(empty.error).toMatch(/nothing is collected yet: drop a status file into <data>\/spool\/car-batch-log/);
  });
});

describe('workflow run with a month', () => {
  it('runs the monthly buylist for --day yyyyMM, as its help says (it refused "--day must be yyyyMMdd")', async () => {
    const dataDir = tmp('month');
    const gen = tmp('month-gen');
    loadReference('master', await writeMaster({ outDir: gen, seed: 3 }), dataDir);
    loadReference('buylist', await writeBuyList({ outDir: gen, month: '202003', seed: 3, rows: 2000 }), dataDir);
    const r = spawnSync(process.execPath, ['bin/smartcar.js', 'workflow', 'run', 'buylist', '--day', '202003', '--data', dataDir], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout + r.stderr).toMatch(/^buylist 20200301 SUCCEEDED/m);
    expect(r.status).toBe(0);
    expect(fs.readdirSync(path.join(dataDir, 'lake', 'warehouse', 'managed_smartcar_item_buylist_info'))).toEqual(['biz_month=202003']);
  }, 150_000);
});
