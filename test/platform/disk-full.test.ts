/**
 * A full disk under a running `smartcar up` (issue 18): the data directory is a small tmpfs mounted by
 * the test (CI runs as root); a ballast file fills it while the driving log keeps growing (the log is the
 * cars' side: it lives on another disk, linked into the data directory). While the disk is full the
 * platform stops taking input and says so in its metrics; nothing is corrupted and nothing
 * acknowledged is lost: once the ballast is deleted, every line — before, during and after — is a row
 * of DriverCarInfo exactly once, the broker's log holds every offset once and in order (read back with
 * kcat, not with our consumer), and the platform takes new input again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { httpGet } from '../../src/platform/scrape.ts';
import { needTool } from '../support/require.ts';
import { waitFor } from '../support/spec.ts';
import { endAll, fileLines, health, smartcar, startUp, waitForTable } from '../support/platform.ts';

const kcat = needTool('kcat', ['-V'], 'the full-disk test reads the broker back with kcat');
const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-disk-'));
const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-disk-log-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=640m', 'tmpfs', mnt]).status === 0;
if (!mounted && process.env.CI) throw new Error(`CI: cannot mount a tmpfs on ${mnt} (the full-disk test needs root)`);
if (!mounted) process.stderr.write(`\n!!! SKIPPED: the full-disk test needs to mount a tmpfs (run as root); CI fails instead of skipping.\n\n`);
const data = path.join(mnt, 'data');
const track: ChildProcess[] = [];

afterAll(() => {
  if (process.env.SMARTCAR_DISK_DEBUG) {
    for (const c of track) process.stderr.write(`exit ${c.exitCode} ${c.signalCode}\n`);
    spawnSync('sh', ['-c', `tail -c 3000 ${data}/logs/platform/*.log; df -h ${mnt}`], { stdio: 'inherit' });
  }
  endAll(mnt, track);
  if (mounted) spawnSync('umount', ['-l', mnt]);
  fs.rmSync(mnt, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

/** Fills the filesystem of `file` until a write is refused; returns the bytes written. */
function fill(file: string): number {
  const fd = fs.openSync(file, 'w');
  let total = 0;
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10]) {
      const buf = Buffer.alloc(size, 0x55);
      for (;;) {
        try {
          total += fs.writeSync(fd, buf);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return total;
}

/** Sum of a metric's samples from the platform's merged /metrics whose labels include `label` (`component="broker"`). */
const metric = (text: string, name: string, label: string) =>
  [...text.matchAll(new RegExp(`^${name}\\{[^}]*${label}[^}]*\\} (\\S+)$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
const AGENT = 'agent="SmartCar_Agent"';
const of = (c: string) => `component="${c}"`;

describe.skipIf(!mounted || !kcat)('a full disk under smartcar up', () => {
  it('stops taking input with metrics saying why, loses and corrupts nothing, and resumes once space is freed', async () => {
    // The driving log lives outside the small filesystem (the cars write it), linked into the data directory.
    fs.mkdirSync(path.join(data, 'logs'), { recursive: true });
    fs.symlinkSync(outside, path.join(data, 'logs', 'driver-realtime-log'));
    const logFile = path.join(outside, 'SmartCarDriverInfo.log');
    const source = path.join(os.tmpdir(), `smartcar-disk-src-${process.pid}.log`);
    const g = smartcar(['gen', 'driver', '--cars', '20', '--date', '20240109', '--records', '4500', '--fast', '--seed', '4', '--out', source]);
    expect(g.status, g.out).toBe(0);
    const lines = [...fileLines(source)].filter(Boolean);
    fs.rmSync(source);
    const quarter = Math.floor(lines.length / 4);
    const append = (from: number, to: number) => fs.appendFileSync(logFile, lines.slice(from, to).join('\n') + '\n');
    const table = { kind: 'lmdb' as const, path: path.join(data, 'table') };

    const u = await startUp(data, ['--port', '0', '--broker-port', '0', '--no-sim'], { track, readyMs: 180_000 });
    const port = u.port();
    const metrics = async () => {
      try {
        return (await httpGet(`127.0.0.1:${port}`, '/metrics', 10_000)).body;
      } catch (err) {
        throw new Error(`/metrics of smartcar up: ${(err as Error).message}\n${u.output()}`);
      }
    };
    const pids = (await health(port)).components;
    const brokerRecords = async () => metric(await metrics(), 'smartcar_broker_records_produced_total', of('broker'));
    const good = (from: number, to: number) => lines.slice(from, to).filter((l) => /^\d{14},/.test(l)).length;

    // 1. Normal operation.
    append(0, quarter);
    let t = await waitForTable(logFile, table, 180_000);
    expect(t.missing.count).toBe(0);

    // 2. Work in flight at every stage when the disk fills: the stream is held (SIGSTOP) while the broker
    //    takes the second quarter, then the broker is held while the agent's channel takes the third.
    process.kill(pids.stream.pid!, 'SIGSTOP');
    const r0 = await brokerRecords();
    append(quarter, 2 * quarter);
    await waitFor(async () => (await brokerRecords()) >= r0 + good(quarter, 2 * quarter), 120_000, 'the broker to take the second quarter');
    process.kill(pids.broker.pid!, 'SIGSTOP');
    append(2 * quarter, 3 * quarter);
    const fill0 = () => metrics().then((m) => metric(m, 'smartcar_collect_channel_fill', of('DriverCarInfo_Channel')));
    await waitFor(async () => (await fill0()) >= good(2 * quarter, 3 * quarter), 120_000, 'the agent\'s channel to hold the third quarter');

    // 3. The disk fills up. The cars keep writing (the last quarter); broker and stream go on.
    const ballast = path.join(mnt, 'ballast');
    expect(fill(ballast)).toBeGreaterThan(0);
    const before = await metrics();
    append(3 * quarter, lines.length);
    process.kill(pids.broker.pid!, 'SIGCONT');
    process.kill(pids.stream.pid!, 'SIGCONT');
    // The agent refuses new input (its channel keeps minimumRequiredSpace free) and the broker refuses
    // the agent's deliveries; each says so in its metrics.
    await waitFor(async () => {
      const m = await metrics();
      return metric(m, 'smartcar_collect_channel_put_retries_total', AGENT) > metric(before, 'smartcar_collect_channel_put_retries_total', AGENT)
        && metric(m, 'smartcar_broker_storage_failing', of('broker')) === 1;
    }, 120_000, 'the agent and the broker to report the full disk');
    const during = await metrics();
    expect(metric(during, 'smartcar_broker_request_errors_total', of('broker'))).toBeGreaterThan(metric(before, 'smartcar_broker_request_errors_total', of('broker')));
    // Give the stream time to try its writes on the full disk.
    await new Promise((r) => setTimeout(r, 5000));

    // 4. Space is freed: everything flows again without restarting `up`.
    fs.rmSync(ballast);
    t = await waitForTable(logFile, table, 300_000);
    expect(t.missing, 'every line of the log is a row once space was freed').toEqual({ count: 0, examples: [] });
    expect(t.extra).toEqual({ count: 0, examples: [] });
    expect(t.log.repeated).toBe(0);
    expect(t.log.codes.length).toBe(good(0, lines.length));
    await waitFor(async () => (await health(port)).status === 'ok', 120_000, 'every component to be up');
    expect(metric(await metrics(), 'smartcar_broker_storage_failing', of('broker'))).toBe(0);

    // The broker's log: every offset of each partition once, in order, readable by librdkafka.
    const broker = /broker +pid \d+ +(127\.0\.0\.1:\d+)/.exec(u.output())![1];
    const k = spawnSync('kcat', ['-b', broker, '-C', '-t', 'SmartCar-Topic', '-o', 'beginning', '-e', '-q', '-f', '%p %o\n'], { encoding: 'utf8', timeout: 120_000 });
    expect(k.status, k.stderr).toBe(0);
    const next = new Map<string, number>();
    let records = 0;
    for (const line of k.stdout.trim().split('\n')) {
      const [p, o] = line.split(' ');
      expect(Number(o), `partition ${p}`).toBe(next.get(p) ?? 0);
      next.set(p, Number(o) + 1);
      records++;
    }
    expect(records).toBeGreaterThanOrEqual(t.log.codes.length);

    const after = await metrics();
    const restarts = (m: string) => ['broker', 'agent', 'stream'].map((c) => `${c} ${metric(m, 'smartcar_platform_restarts_total', of(c))}`).join(', ');
    process.stderr.write(`full disk: agent put retries ${metric(during, 'smartcar_collect_channel_put_retries_total', AGENT)}, broker request errors ${metric(during, 'smartcar_broker_request_errors_total', of('broker'))}; restarts ${restarts(after)}\n`);
    u.child.kill('SIGTERM');
    expect(await u.exited).toBe(0);
  }, 900_000);
});
