/**
 * Flume's `exec` source. `tail -F FILE` is served natively by the tail follower (tail.ts), with durable
 * positions; any other command runs as a child process, one line per event, at most once (as in Flume).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { z } from 'zod';
import { errorMessage } from '../../core/index.ts';
import { registerComponent, type SourceFactory } from '../registry.ts';
import { resolvePath } from '../config.ts';
import { bool, int } from '../props.ts';
import { toEvents } from './lines.ts';
import { StoppedError } from './stopped.ts';
import type { Source } from '../types.ts';
import { TailSource, type Ctx, type Deliver } from './tail.ts';

const execSchema = z.object({
  command: z.string().min(1).describe('The command, e.g. tail -F logs/app.log (a relative file resolves against the data directory). Other commands run with /bin/sh -c.'),
  shell: z.string().optional().describe('Shell prefix for child-process commands, e.g. /bin/bash -c (default /bin/sh -c).'),
  restart: bool(false).describe('Restart a child-process command when it exits, after restartThrottle. A natively served tail -F never exits.'),
  restartThrottle: int(10000).describe('Milliseconds to wait before a restart.'),
  logStdErr: bool(false).describe('Log the standard error of a child-process command.'),
  batchSize: int(20, 1).describe('Lines per channel transaction.'),
  batchTimeout: int(3000, 1).describe('Milliseconds after which a partial batch of a child-process command is committed.'),
  charset: z.string().default('UTF-8').describe('Accepted, ignored: lines are passed on as bytes.'),
}).strict().describe('Runs a command and turns its output lines into events. `tail -F FILE` is recognised and served natively: the file is followed like TAILDIR, with durable positions, rotation and truncation, from its beginning when no position is saved (not tail\'s last 10 lines), 1 MB line limit. Any other command runs as a child process, one event per line, at most once (as in Flume).');
type ExecConfig = z.infer<typeof execSchema>;

/** `tail -F FILE`, `tail -f FILE`, `tail -n +0 -F FILE`…: the file a tail command follows, if it is one. */
export function tailTarget(command: string): string | undefined {
  const words = command.trim().split(/\s+/);
  if (words[0] !== 'tail' && !words[0].endsWith('/tail')) return undefined;
  let file: string | undefined;
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (w === '-n' || w === '-c' || w === '--lines' || w === '-s') { i++; continue; }
    if (w.startsWith('-')) continue;
    if (file !== undefined) return undefined; // several files: not a single follow
    file = w;
  }
  return file;
}

/** Any other command: a child process, restarted when `restart = true`. At most once (Flume's semantics). */
class ExecSource implements Source {
  private child: ChildProcess | undefined;
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(private readonly cfg: ExecConfig, private readonly deliver: Deliver, private readonly ctx: Ctx) {}

  get name(): string {
    return this.ctx.name;
  }

  async start(): Promise<void> {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await this.runOnce().catch((err) => {
        if (!(err instanceof StoppedError)) this.ctx.log.error({ source: this.name, err: errorMessage(err) }, 'exec source failed');
      });
      if (!this.cfg.restart || this.stopped) return;
      await new Promise((r) => setTimeout(r, this.cfg.restartThrottle));
    }
  }

  private runOnce(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const child = this.cfg.shell
        ? spawn(this.cfg.shell.split(/\s+/)[0], [...this.cfg.shell.split(/\s+/).slice(1), this.cfg.command], { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('/bin/sh', ['-c', this.cfg.command], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      let partial = Buffer.alloc(0);
      let batch: Buffer[] = [];
      let chain = Promise.resolve();
      const flush = () => {
        if (!batch.length) return;
        const events = toEvents(batch, {});
        batch = [];
        chain = chain.then(() => this.deliver(events, '')).catch(reject);
      };
      const timer = setInterval(flush, this.cfg.batchTimeout);
      child.stdout!.on('data', (chunk: Buffer) => {
        let data = partial.length ? Buffer.concat([partial, chunk]) : chunk;
        let nl: number;
        while ((nl = data.indexOf(10)) !== -1) {
          batch.push(Buffer.from(data.subarray(0, nl > 0 && data[nl - 1] === 13 ? nl - 1 : nl)));
          data = data.subarray(nl + 1);
          if (batch.length >= this.cfg.batchSize) flush();
        }
        partial = Buffer.from(data);
      });
      child.stderr!.on('data', (c: Buffer) => { if (this.cfg.logStdErr) this.ctx.log.warn({ source: this.name, stderr: c.toString().trim() }, 'exec stderr'); });
      child.on('error', (err) => { clearInterval(timer); reject(err); });
      child.on('close', (code) => {
        clearInterval(timer);
        if (partial.length) batch.push(partial);
        flush();
        this.ctx.log.info({ source: this.name, code }, 'exec command exited');
        void chain.then(resolve, reject);
      });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.child?.kill('SIGTERM');
    await this.done;
  }
}

registerComponent({
  kind: 'source', type: 'exec', aliases: ['org.apache.flume.source.ExecSource'],
  schema: execSchema,
  create: (cfg: ExecConfig, deliver, ctx) => {
    const target = tailTarget(cfg.command);
    if (target === undefined) return new ExecSource(cfg, deliver, ctx);
    ctx.log.info({ source: ctx.name, file: target }, `'${cfg.command}' is served natively (durable positions, rotation, truncation)`);
    return new TailSource({ files: [{ path: resolvePath(ctx.dataDir, target), headers: {} }], batchSize: cfg.batchSize, skipToEnd: false, maxLineLength: 1 << 20, pollMs: 50 }, deliver, ctx);
  },
} satisfies SourceFactory<ExecConfig>);
