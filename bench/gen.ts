/**
 * `npm run bench:gen` — one status day for 100 cars (2.16 M records, ~100 MB) written by
 * `smartcar gen status`, against the awk baseline producing the same number of similar
 * lines, in the same run. Both run as whole commands under /usr/bin/time (wall time and peak RSS).
 * BENCH_RUNS (default 3) repetitions each, alternating; the best of each is compared.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/smartcar.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bench-gen-'));
const AWK = `BEGIN{srand(1);for(c=1;c<=100;c++)for(s=0;s<86400;s+=4)printf "20240101%02d%02d%02d,A%04d,%d,%d,%d,%d,1,1,1,1,A,A,%d\\n",int(s/3600),int(s%3600/60),s%60,c,80+int(rand()*20),80+int(rand()*20),80+int(rand()*20),80+int(rand()*20),80+int(rand()*20)}`;

function timed(cmd: string, args: string[], stdoutFile?: string): { wall: number; rssMB: number } {
  const out = stdoutFile ? fs.openSync(stdoutFile, 'w') : 'ignore';
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { stdio: ['ignore', out, 'pipe'], encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (typeof out === 'number') fs.closeSync(out);
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const kb = Number(r.stderr.trim().split('\n').at(-1));
  return { wall, rssMB: kb / 1024 };
}

const ours: { wall: number; rssMB: number }[] = [];
const base: { wall: number; rssMB: number }[] = [];
for (let i = 0; i < RUNS; i++) {
  ours.push(timed(process.execPath, [BIN, 'gen', 'status', '--date', '20240101', '--cars', '100', '--seed', String(i + 1), '--out', dir]));
  base.push(timed('awk', [AWK], path.join(dir, 'awk.txt')));
}
const size = fs.statSync(path.join(dir, 'SmartCarStatusInfo_20240101.txt')).size;
const awkLines = fs.readFileSync(path.join(dir, 'awk.txt'), 'utf8').split('\n').length - 1;
const best = (xs: { wall: number }[]) => Math.min(...xs.map((x) => x.wall));
const o = best(ours), b = best(base);
const fmt = (xs: { wall: number; rssMB: number }[]) => xs.map((x) => `${x.wall.toFixed(2)}s/${x.rssMB.toFixed(0)}MB`).join(' ');
console.log(`bench:gen — one status day, 100 cars, 2,160,000 records (${(size / 1e6).toFixed(1)} MB); awk baseline ${awkLines.toLocaleString('en-US')} lines; ${os.cpus().length} CPUs`);
console.log(`  smartcar gen status   best ${o.toFixed(2)} s   runs ${fmt(ours)}`);
console.log(`  awk baseline          best ${b.toFixed(2)} s   runs ${fmt(base)}`);
console.log(`  ratio smartcar/awk    ${(o / b).toFixed(2)}  (target < 1)   peak RSS smartcar ${Math.max(...ours.map((x) => x.rssMB)).toFixed(0)} MB`);
fs.rmSync(dir, { recursive: true, force: true });
