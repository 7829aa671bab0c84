import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { driverLines } from '../../src/sim/index.ts';
import { parseDate8 } from '../../src/core/time.ts';
import { dataPaths } from '../../src/core/paths.ts';
import { resumePoint } from '../../src/platform/sim.ts';
import { SMARTCAR_BIN } from '../../src/platform/supervisor.ts';
import { waitFor } from '../support/overspeed.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-platform-sim-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const GOOD = /^\d{14},[A-Z]\d{4},/;

async function runUntil(data: string, args: string[], lines: number, signal: NodeJS.Signals): Promise<void> {
  const log = dataPaths(data).driverLog;
  const child = spawn(process.execPath, [SMARTCAR_BIN, 'sim', '--data', data, ...args], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  const count = () => (fs.existsSync(log) ? fs.readFileSync(log, 'latin1').split('\n').length : 0);
  await waitFor(() => count() > lines, 120_000, `${lines} lines in the driving log`);
  child.kill(signal);
  await exited;
}

describe('smartcar sim (the simulator under smartcar up)', () => {
  it('after kill -9 and restarts, the log holds exactly the records of one uninterrupted run, plus the same garbage', async () => {
    const data = path.join(root, 'resume');
    const args = ['--cars', '7', '--speedup', '400', '--seed', '11', '--date', '20240301', '--garbage', '0.01', '--no-status'];
    await runUntil(data, args, 2000, 'SIGKILL');
    await runUntil(data, args, 6000, 'SIGKILL');
    // A torn last line, as a kill in the middle of a write leaves it.
    fs.appendFileSync(dataPaths(data).driverLog, '20240301001500,C0001,1,');
    await runUntil(data, args, 9000, 'SIGTERM');
    const got = fs.readFileSync(dataPaths(data).driverLog, 'latin1').split('\n').filter((l) => /^\d{14},[A-Z]\d{4},[0-5],[0-3],(F|[LR][1-3]),[NLR],\d+,[A-F](0[1-9]|10)$/.test(l));
    const expected = [...driverLines({ cars: 7, seed: 11, startMs: parseDate8('20240301'), records: Math.ceil(got.length / 7) + 1 })].filter((l) => GOOD.test(l));
    expect(got.length).toBeGreaterThan(8000);
    expect(got).toEqual(expected.slice(0, got.length));
    // Garbage included, the log is the uninterrupted run's lines in order, apart from the few lines torn by the kills.
    const all = fs.readFileSync(dataPaths(data).driverLog, 'latin1').split('\n').slice(0, -1);
    const reference = [...driverLines({ cars: 7, seed: 11, startMs: parseDate8('20240301'), records: Math.ceil(got.length / 7) + 1, garbage: 0.01 })];
    let j = 0;
    const torn: string[] = [];
    for (const line of all) {
      if (line === reference[j]) j++;
      else torn.push(line);
    }
    expect(torn.length).toBeLessThanOrEqual(3);
    expect(torn).toContain('20240301001500,C0001,1,');
    expect(reference.slice(0, j).filter((l) => !GOOD.test(l) && !l.startsWith('Driver')).length).toBeGreaterThan(50);
  });

  it('writes one status day file into the spool per simulated day and remembers it across restarts', async () => {
    const data = path.join(root, 'status');
    const args = ['--cars', '3', '--speedup', '20000', '--seed', '2', '--date', '20240301', '--status-cars', '2'];
    const p = dataPaths(data);
    // 20000× crosses midnight after ~4.3 s of wall time.
    const child = spawn(process.execPath, [SMARTCAR_BIN, 'sim', '--data', data, ...args], { stdio: 'ignore' });
    await waitFor(() => fs.existsSync(path.join(p.spool, 'SmartCarStatusInfo_20240302.txt')), 60_000, 'the second day\'s status file');
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const files = fs.readdirSync(p.spool).filter((f) => !f.startsWith('.')).sort();
    expect(files).toEqual(['SmartCarStatusInfo_20240301.txt', 'SmartCarStatusInfo_20240302.txt']);
    const lines = fs.readFileSync(path.join(p.spool, files[0]), 'latin1').trim().split('\n');
    expect(lines.filter((l) => /^\d{14}/.test(l))).toHaveLength(2 * 21_600);
    // A restart does not write day one again (the agent deletes ingested files, so rewriting would duplicate it).
    fs.rmSync(path.join(p.spool, files[0]));
    await runUntil(data, args, 1, 'SIGTERM');
    expect(fs.existsSync(path.join(p.spool, files[0]))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(p.state, 'sim.json'), 'utf8')).statusDays).toEqual(['20240301', '20240302']);
  });

  it('finds where to resume from the last well-formed line, skipping garbage after it', () => {
    const file = path.join(root, 'tail.log');
    const start = parseDate8('20240301');
    fs.writeFileSync(file, '20240301000002,A0001,1,0,F,N,50,A01\n20240301000002,B0001,1,0,F,N,50,B01\n20240301000002,C0001,1,0,F\n' + '20240301000003,A0001,' + '7'.repeat(70_000) + '\n');
    expect(resumePoint(file, start)).toEqual({ round: 2, car: 1 });
    fs.appendFileSync(file, '20240301000003,Z0002,0,0,R3,L,120,F');
    // The torn line is closed so that the next record starts on a line of its own.
    expect(resumePoint(file, start)).toEqual({ round: 2, car: 1 });
    expect(fs.readFileSync(file, 'latin1').endsWith('F\n')).toBe(true);
    expect(resumePoint(path.join(root, 'none.log'), start)).toBeUndefined();
  });
});
