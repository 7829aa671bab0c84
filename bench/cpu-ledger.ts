/**
 * A CPU ledger of the whole machine over a window of a benchmark: CPU-seconds per role (a stream worker,
 * its PostgreSQL backends, the broker, Redis, PostgreSQL's own processes, everything else), read from
 * /proc/<pid>/stat (utime + stime) at the window's start and end. Two workers on two cores can only reach
 * 2× if one worker's whole chain — not just its own process — leaves a core free, so that is what it counts.
 *
 * Roles come from `roles()`, called at each snapshot: pids known to the bench (itself, its workers, the
 * broker) and PostgreSQL backends found in pg_stat_activity by the `application_name` each store's
 * connection string sets. A process that starts inside the window counts from zero; one that exits inside
 * it is lost (pool connections live through a run, so this is rare). Linux only; elsewhere `snapshot`
 * returns undefined and no ledger is printed.
 */
import fs from 'node:fs';

/** USER_HZ: Linux reports utime/stime in these ticks (100 on every mainstream architecture). */
const TICKS = 100;

interface Proc { comm: string; start: number; ppid: number; cpu: number }

export interface Snapshot {
  at: number;
  /** pid → { comm, start (clock ticks after boot: tells a reused pid), ppid, cpu seconds } */
  procs: Map<number, Proc>;
  /** pid → role, as known at this snapshot */
  roles: Map<number, string>;
}

function readProcs(): Map<number, Proc> | undefined {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return undefined;
  }
  const procs = new Map<number, Proc>();
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid … : comm may hold spaces and parentheses, so split after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    // After comm: f[0] = state (field 3), so ppid (4) is f[1], utime (14) f[11], stime (15) f[12], starttime (22) f[19].
    procs.set(Number(name), { comm, ppid: Number(f[1]), start: Number(f[19]), cpu: (Number(f[11]) + Number(f[12])) / TICKS });
  }
  return procs;
}

export async function snapshot(roles: () => Promise<Map<number, string>>): Promise<Snapshot | undefined> {
  const r = await roles();
  const procs = readProcs();
  return procs && { at: performance.now(), procs, roles: r };
}

/**
 * The role of an unnamed process: PostgreSQL's and Redis's by their command name, the kernel's threads
 * (children of kthreadd, pid 2: writeback of PostgreSQL's files among them), else "rest of machine".
 */
function defaultRole(p: Proc, pid: number): string {
  if (p.ppid === 2 || pid === 2) return 'kernel threads (writeback, …)';
  if (p.comm.startsWith('postgres')) return 'pg other (wal, checkpointer, other sessions)';
  if (p.comm.startsWith('redis')) return 'redis';
  return 'rest of machine';
}

/**
 * The ledger between two snapshots for `records` records: one line per role (CPU-seconds, cores, µs per
 * record), then the total in records per CPU-second; `checkpoints` (PostgreSQL's, in the window) is noted
 * in the heading.
 */
export function ledger(a: Snapshot, b: Snapshot, records: number, checkpoints?: number): string {
  const wall = (b.at - a.at) / 1000;
  const byRole = new Map<string, number>();
  /** What "rest of machine" is, by command name (another session's benchmark, a compiler, …). */
  const rest = new Map<string, number>();
  for (const [pid, p] of b.procs) {
    const before = a.procs.get(pid);
    // A pid reused by a new process (another start time) counts from zero. Not the command name: a
    // kernel worker's changes with the work it does.
    const cpu = before && before.start === p.start ? p.cpu - before.cpu : p.cpu;
    if (cpu <= 0) continue;
    const role = b.roles.get(pid) ?? a.roles.get(pid) ?? defaultRole(p, pid);
    byRole.set(role, (byRole.get(role) ?? 0) + cpu);
    if (role === 'rest of machine') rest.set(p.comm, (rest.get(p.comm) ?? 0) + cpu);
  }
  const total = [...byRole.values()].reduce((s, x) => s + x, 0);
  const rows = [...byRole].sort((x, y) => y[1] - x[1]);
  const us = (cpu: number) => ((cpu / records) * 1e6).toFixed(2);
  const top = [...rest].sort((x, y) => y[1] - x[1]).slice(0, 3).map(([comm, cpu]) => `${comm} ${cpu.toFixed(2)}`).join(', ');
  const lines = rows.map(([role, cpu]) => `      ${role.padEnd(46)} ${cpu.toFixed(2).padStart(6)} CPU-s  ${(cpu / wall).toFixed(2)} cores  ${us(cpu).padStart(6)} µs/record${role === 'rest of machine' ? ` (${top})` : ''}`);
  const chain = rows.filter(([role]) => role !== 'rest of machine' && !role.startsWith('kernel')).reduce((s, [, c]) => s + c, 0);
  lines.push(`      ${'the pipeline (all but kernel, rest of machine)'.padEnd(46)} ${chain.toFixed(2).padStart(6)} CPU-s  ${(chain / wall).toFixed(2)} cores  ${us(chain).padStart(6)} µs/record = ${Math.round(records / chain).toLocaleString('en-US')} records per CPU-second`);
  const cp = checkpoints === undefined ? '' : `, ${checkpoints} PostgreSQL checkpoint${checkpoints === 1 ? '' : 's'} in it`;
  return `    CPU ledger over ${wall.toFixed(2)} s, ${records.toLocaleString('en-US')} records (machine total ${(total / wall).toFixed(2)} cores${cp}):\n${lines.join('\n')}\n`;
}
