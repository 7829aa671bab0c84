/**
 * A second host, for real: a network namespace joined to this one by a veth pair. The broker binds the
 * host side's address with credentials; kcat inside the namespace is refused without them and admitted
 * with them, and the broker's log names the other host. Also: a non-loopback bind without credentials
 * is refused at start, by `smartcar broker` and by `smartcar up`, with one line and exit code 2.
 *
 * Needs root (CI runs as root) and iproute2; the namespace and the links are removed in afterAll.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, tmp } from './support.ts';
import { needTool } from '../support/require.ts';
import { waitFor } from '../support/overspeed.ts';
import { dataPaths } from '../../src/core/paths.ts';
import { readLock } from '../../src/platform/lock.ts';

const id = process.pid % 10_000;
const NS = `smk-ns-${id}`;
const VH = `smkh${id}`; // interface names: at most 15 characters
const VN = `smkn${id}`;
const NET = `10.200.${(process.pid % 250) + 1}`;
const HOST_IP = `${NET}.1`, PEER_IP = `${NET}.2`;
const USER = 'fleet', PASSWORD = 'over-the-wire';

const canNetns = needTool('kcat', ['-V'], 'the network-namespace SASL test (kcat inside the namespace)')
  && needTool('sh', ['-c', `ip netns add ${NS}-probe && ip netns del ${NS}-probe`], 'the network-namespace SASL test (needs root and `ip netns`)');

const ip = (...args: string[]) => {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
};

/** Environment without the platform's credentials (the parent's must not leak into a refusal test). */
const bareEnv = () => {
  const e: NodeJS.ProcessEnv = { ...process.env, SMARTCAR_LOG_LEVEL: 'info' };
  delete e.SMARTCAR_BROKER_PASSWORD;
  delete e.SMARTCAR_BROKER_USER;
  return e;
};

function run(cmd: string, args: string[], env = bareEnv()): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('exit', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

let broker: ChildProcess | undefined;
let up: ChildProcess | undefined;
let brokerLog = '';
let port = 0;
const inNamespace = (args: string[]) => run('ip', ['netns', 'exec', NS, 'kcat', '-b', `${HOST_IP}:${port}`, ...args]);
const creds = (password: string) => ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${USER}`, '-X', `sasl.password=${password}`];

describe.skipIf(!canNetns)('the broker reached from another host (a network namespace)', () => {
  beforeAll(async () => {
    ip('netns', 'add', NS);
    ip('link', 'add', VH, 'type', 'veth', 'peer', 'name', VN);
    ip('link', 'set', VN, 'netns', NS);
    ip('addr', 'add', `${HOST_IP}/24`, 'dev', VH);
    ip('link', 'set', VH, 'up');
    ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${PEER_IP}/24`, 'dev', VN);
    ip('netns', 'exec', NS, 'ip', 'link', 'set', VN, 'up');
    ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
    const env = { ...bareEnv(), SMARTCAR_BROKER_USER: USER, SMARTCAR_BROKER_PASSWORD: PASSWORD };
    broker = spawn(process.execPath, ['bin/smartcar.js', 'broker', '--host', HOST_IP, '--port', '0', '--data', tmp('netns')], { stdio: ['ignore', 'pipe', 'pipe'], env });
    broker.stderr!.on('data', (d: Buffer) => (brokerLog += d.toString()));
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      broker!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening \S+:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      broker!.once('exit', (code) => reject(new Error(`broker exited ${code}: ${out} ${brokerLog}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (up && up.exitCode === null) {
      up.kill('SIGKILL');
      await exited(up);
    }
    if (broker && broker.exitCode === null) {
      broker.kill('SIGTERM');
      await exited(broker);
    }
    // Deleting the namespace deletes its end of the pair, and with it the host's end; both are tried anyway.
    spawnSync('ip', ['netns', 'del', NS]);
    spawnSync('ip', ['link', 'del', VH]);
  });

  it('the namespace is another host: it reaches the broker only over the veth pair', async () => {
    const r = await run('ip', ['netns', 'exec', NS, 'ip', '-4', 'addr', 'show']);
    expect(r.stdout).toContain(PEER_IP);
    expect(r.stdout).not.toContain(HOST_IP);
  });

  it('refuses the other host without credentials', async () => {
    const r = await inNamespace(['-L', '-m', '3']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toMatch(/broker 0 at/);
    expect(brokerLog).toMatch(new RegExp(`"remote":"${PEER_IP.replace(/\./g, '\\.')}:\\d+".*"reason":"unauthenticated"`));
  }, 30_000);

  it('refuses the other host with a wrong password, and logs one clear line naming it', async () => {
    const r = await inNamespace([...creds('guess'), '-L', '-m', '3']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Authentication failed: Invalid username or password/);
    expect(brokerLog).toContain(`authentication failed for user '${USER}' from ${PEER_IP}:`);
  }, 30_000);

  it('admits the other host with the credentials: it lists, produces and consumes', async () => {
    const meta = await inNamespace([...creds(PASSWORD), '-L', '-m', '10']);
    expect(meta.status, meta.stderr).toBe(0);
    expect(meta.stdout).toContain(`broker 0 at ${HOST_IP}:${port}`);
    const lines = Array.from({ length: 30 }, (_, i) => `A${String(i).padStart(4, '0')}:from-the-namespace-${i}`);
    const p = await new Promise<number | null>((resolve) => {
      const k = spawn('ip', ['netns', 'exec', NS, 'kcat', '-b', `${HOST_IP}:${port}`, ...creds(PASSWORD), '-t', 'remote', '-P', '-K:'], { stdio: ['pipe', 'ignore', 'ignore'] });
      k.on('exit', resolve);
      k.stdin.end(lines.join('\n') + '\n');
    });
    expect(p).toBe(0);
    const c = await inNamespace([...creds(PASSWORD), '-t', 'remote', '-C', '-o', 'beginning', '-e', '-f', '%k:%s\\n']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout.trim().split('\n').sort()).toEqual([...lines].sort());
    expect(brokerLog).toMatch(new RegExp(`"remote":"${PEER_IP.replace(/\./g, '\\.')}:\\d+".*"user":"${USER}".*client authenticated`));
  }, 60_000);


  it('smartcar up --broker-host on the veth address: every component presents the credentials: the agent produces, the stream joins its group, the console browses topics', async () => {
    const data = path.join(tmp('up-sasl'), 'data');
    up = spawn(process.execPath, ['bin/smartcar.js', 'up', '--no-sim', '--data', data, '--port', '0', '--broker-port', '0', '--broker-host', HOST_IP], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...bareEnv(), SMARTCAR_BROKER_USER: USER, SMARTCAR_BROKER_PASSWORD: PASSWORD },
    });
    let out = '';
    up.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    up.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
    const upExited = new Promise<number | null>((r) => up!.once('exit', (code) => r(code)));
    await waitFor(() => out.includes('ready; Ctrl-C stops everything') || up!.exitCode !== null, 90_000, 'smartcar up to be ready');
    expect(up.exitCode, out).toBeNull();
    const m = new RegExp(`broker +pid \\d+ +${HOST_IP.replace(/\./g, '\\.')}:(\\d+) .*SASL`).exec(out);
    expect(m, out).not.toBeNull();
    port = Number(m![1]);

    // The agent's kafka sink: driving lines reach SmartCar-Topic (read back from the other host).
    const p = dataPaths(data);
    fs.mkdirSync(path.dirname(p.driverLog), { recursive: true });
    const lines = Array.from({ length: 5 }, (_, i) => `20240301001${i}00,C000${i},1,0,F,N,80,A01`);
    fs.appendFileSync(p.driverLog, lines.join('\n') + '\n');
    let seen: string[] = [];
    await waitFor(async () => {
      const c = await inNamespace([...creds(PASSWORD), '-t', 'SmartCar-Topic', '-C', '-o', 'beginning', '-e', '-f', '%s\\n']);
      seen = c.status === 0 ? c.stdout.trim().split('\n') : [];
      return lines.every((l) => seen.includes(l));
    }, 60_000, 'the agent to produce the driving lines');

    // The console (in the supervisor) through kafkajs: topics, and the stream's consumer group.
    const httpPort = readLock(path.join(data, 'state'))!.port!;
    const get = async (u: string) => {
      const r = await fetch(`http://127.0.0.1:${httpPort}${u}`);
      return { status: r.status, body: await r.text() };
    };
    const topics = await get('/api/topics');
    expect(topics.status, topics.body).toBe(200);
    expect(topics.body).toContain('SmartCar-Topic');
    await waitFor(async () => (await get('/api/topics/groups')).body.includes('smartcar-stream'), 60_000, 'the stream\'s group in the console');

    // Nothing inside the platform was turned away; every connection authenticated.
    const brokerLog = fs.readFileSync(path.join(data, 'logs', 'platform', 'broker.log'), 'utf8');
    expect(brokerLog).toContain('client authenticated');
    expect(brokerLog).not.toMatch(/unauthenticated|authentication failed/);

    up.kill('SIGINT');
    expect(await upExited).toBe(0);
  }, 240_000);
});

describe('a non-loopback bind without credentials', () => {
  // Any non-loopback address: the refusal comes before the bind, so it need not exist here.
  const addr = '10.200.251.1';

  it('smartcar broker refuses it at start: one line, exit code 2, nothing created', async () => {
    const data = path.join(tmp('refuse'), 'broker');
    const r = await run(process.execPath, ['bin/smartcar.js', 'broker', '--host', addr, '--port', '0', '--data', data]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^smartcar: --host ${addr} would let other hosts reach the broker without credentials: set SMARTCAR_BROKER_PASSWORD`))]);
    expect(fs.existsSync(data)).toBe(false);
  });

  it('smartcar up refuses --broker-host without SMARTCAR_BROKER_PASSWORD: one line, exit code 2', async () => {
    const data = path.join(tmp('refuse-up'), 'data');
    const r = await run(process.execPath, ['bin/smartcar.js', 'up', '--no-sim', '--broker-host', addr, '--data', data, '--port', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^smartcar: --broker-host ${addr} would let other hosts reach the broker without credentials`))]);
    expect(fs.existsSync(data)).toBe(false);
  });
});
