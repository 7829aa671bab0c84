/**
 * The agent runtime (Flume's `Application`): builds every component of an AgentDefinition from the
 * registry, then runs
 *
 *   source ──deliver(batch, position)──► interceptors ──put+commit(marker)──► channel(s)
 *   channel ──sink runner: process() in a loop, backoff on failure──► sink
 *
 * Start order: channels (replay) → sinks (recover their destination from their markers) → sources
 * (resume from their markers). Stop order: sources → drain (bounded) → sinks (close files) → channels
 * (checkpoint). `deliver` never gives up while the agent runs: a full channel is waited on, a failing
 * one retried with backoff, so a source never skips a batch; interceptors run once per batch.
 */
import fs from 'node:fs';
import path from 'node:path';
import { counter, gauge, createLogger, type Logger, errorMessage } from '../core/index.ts';
import { AgentConfigError, validateComponent, type AgentDefinition } from './config.ts';
import type { ChannelFactory, ComponentContext, InterceptorFactory, SinkFactory, SourceFactory } from './registry.ts';
import { asBatch, EventBatch } from './batch.ts';
import { ChannelFullError, type Channel, type CollectEvent, type DeadLetters, type Interceptor, type Sink, type Source } from './types.ts';
import { StoppedError } from './source/stopped.ts';

const metrics = {
  accepted: counter('smartcar_collect_source_events_accepted_total', 'Events a source committed to its channel(s), after interceptors', ['agent', 'component']),
  dropped: counter('smartcar_collect_interceptor_dropped_total', 'Events dropped by an interceptor (e.g. regex_filter)', ['agent', 'component']),
  putRetries: counter('smartcar_collect_channel_put_retries_total', 'Put transactions retried (channel full or failing)', ['agent', 'component']),
  fill: gauge('smartcar_collect_channel_fill', 'Events committed to a channel and not yet taken for good', ['agent', 'component']),
  fillRatio: gauge('smartcar_collect_channel_fill_ratio', 'Channel fill / capacity', ['agent', 'component']),
  sinkErrors: counter('smartcar_collect_sink_process_errors_total', 'Sink delivery failures (the batch is rolled back and retried)', ['agent', 'component']),
};

export interface AgentOptions {
  dataDir: string;
  brokers: string[];
  deadLetters: DeadLetters;
  /** Unknown properties become warnings instead of errors (Flume ignores them silently). */
  lenient?: boolean;
  log?: Logger;
  /** Bounded wait for channels to empty on stop (ms). Default 5000. */
  drainTimeoutMs?: number;
}

interface RunningSource {
  source: Source;
  channels: Channel[];
  interceptors: { name: string; i: Interceptor }[];
  /** The source's latest delivery (resolves when it and all before it are committed). */
  last: Promise<void>;
  /** Resolves once the latest delivery's commit has been issued. */
  issued: Promise<void>;
}

export interface ComponentStatus {
  kind: 'source' | 'channel' | 'sink';
  name: string;
  type: string;
  fill?: number;
  capacity?: number;
  delivered?: number;
  errors?: number;
  lastError?: string;
}

export class Agent {
  readonly warnings: string[] = [];
  private readonly log: Logger;
  private channels = new Map<string, { channel: Channel; type: string }>();
  private sinks: { sink: Sink; channel: Channel; type: string; delivered: number; errors: number; lastError?: string; loop?: Promise<void> }[] = [];
  private sources: (RunningSource & { type: string })[] = [];
  private stopping = false;
  private started = false;

  constructor(readonly def: AgentDefinition, private readonly opts: AgentOptions) {
    this.log = opts.log ?? createLogger('agent');
  }

  private ctx(name: string): ComponentContext {
    return {
      agent: this.def.name, name, dataDir: path.resolve(this.opts.dataDir), lakeRoot: path.resolve(this.opts.dataDir, 'lake'),
      stateDir: path.resolve(this.opts.dataDir, 'state', 'collect', this.def.name), brokers: this.opts.brokers,
      deadLetters: this.opts.deadLetters, log: this.log.child({ agent: this.def.name, component: name }),
    };
  }

  /** Validates the whole definition and builds every component; all problems are reported at once. */
  build(): void {
    const problems: string[] = [];
    const lenient = this.opts.lenient ?? false;
    const def = this.def;
    const where = (line: number) => (line ? `${def.file}:${line}` : def.file);
    for (const c of def.channels) {
      const v = validateComponent(def, 'channel', c, problems, lenient, this.warnings);
      if (!v) continue;
      try {
        this.channels.set(c.name, { channel: (v.factory as ChannelFactory<unknown>).create(v.config, this.ctx(c.name)), type: v.factory.type });
      } catch (err) {
        problems.push(`${where(c.line)}: channel '${c.name}': ${errorMessage(err)}`);
      }
    }
    const used = new Set<string>();
    for (const s of def.sinks) {
      const v = validateComponent(def, 'sink', s, problems, lenient, this.warnings);
      const ch = this.channels.get(s.channel);
      if (s.channel && !ch && !def.channels.some((c) => c.name === s.channel)) problems.push(`${where(s.line)}: sink '${s.name}': channel '${s.channel}' is not defined (channels: ${def.channels.map((c) => c.name).join(', ') || 'none'})`);
      if (!v || !ch) continue;
      used.add(s.channel);
      try {
        this.sinks.push({ sink: (v.factory as SinkFactory<unknown>).create(v.config, ch.channel, this.ctx(s.name)), channel: ch.channel, type: v.factory.type, delivered: 0, errors: 0 });
      } catch (err) {
        problems.push(`${where(s.line)}: sink '${s.name}': ${errorMessage(err)}`);
      }
    }
    for (const s of def.sources) {
      const v = validateComponent(def, 'source', s, problems, lenient, this.warnings);
      const channels: Channel[] = [];
      for (const name of s.channels) {
        const ch = this.channels.get(name);
        if (ch) channels.push(ch.channel);
        else if (!def.channels.some((c) => c.name === name)) problems.push(`${where(s.line)}: source '${s.name}': channel '${name}' is not defined (channels: ${def.channels.map((c) => c.name).join(', ') || 'none'})`);
      }
      const interceptors: RunningSource['interceptors'] = [];
      for (const ic of s.interceptors) {
        const iv = validateComponent(def, 'interceptor', ic, problems, lenient, this.warnings);
        if (!iv) continue;
        try {
          interceptors.push({ name: `${s.name}.${ic.name}`, i: (iv.factory as InterceptorFactory<unknown>).create(iv.config, this.ctx(ic.name)) });
        } catch (err) {
          problems.push(`${where(ic.line)}: interceptor '${ic.name}': ${errorMessage(err)}`);
        }
      }
      if (!v || channels.length !== s.channels.length) continue;
      const running: RunningSource & { type: string } = { source: undefined as unknown as Source, channels, interceptors, type: v.factory.type, last: Promise.resolve(), issued: Promise.resolve() };
      try {
        running.source = (v.factory as SourceFactory<unknown>).create(v.config, (events, marker) => this.deliver(s.name, running, events, marker), {
          ...this.ctx(s.name),
          // Read when the source starts, after the channels replayed their logs. With several channels the
          // markers agree unless a crash hit between their commits; the first channel commits last, so its
          // marker is the earliest.
          get resume() { return channels[0]?.marker(s.name); },
        });
        this.sources.push(running);
      } catch (err) {
        problems.push(`${where(s.line)}: source '${s.name}': ${errorMessage(err)}`);
      }
    }
    for (const c of def.channels) if (!used.has(c.name) && this.channels.has(c.name)) this.warnings.push(`${where(c.line)}: channel '${c.name}' has no sink: events put into it are never delivered`);
    if (problems.length) throw new AgentConfigError(problems);
  }

  /**
   * Interceptors once, right away; then put+commit into every channel until it succeeds or the agent
   * stops. A source may call again before the previous batch is committed (read-ahead): the next batch's
   * interceptors run while the previous one commits, and with one channel its commit is *issued* as soon
   * as the previous commit was issued, so both share one fsync (the file channel's group commit).
   * Order still holds: a channel applies commits in the order they are issued, and after a failed write
   * it refuses every later commit (the file channel is poisoned until restart), so a marker can never be
   * durable ahead of an earlier batch.
   */
  private deliver(sourceName: string, src: RunningSource, events: CollectEvent[] | EventBatch, marker: string): Promise<void> {
    let batch = asBatch(events);
    for (const { name, i } of src.interceptors) {
      const before = batch.count;
      // The batch form where the interceptor has one; else one object per event and back.
      batch = i.interceptBatch ? i.interceptBatch(batch) : EventBatch.fromEvents(i.intercept(batch.events()));
      if (batch.count < before) metrics.dropped.inc({ agent: this.def.name, component: name }, before - batch.count);
    }
    const prevIssued = src.issued;
    const prevDone = src.last;
    let markIssued!: () => void;
    src.issued = new Promise<void>((r) => (markIssued = r));
    const run = (src.channels.length === 1 ? prevIssued : prevDone).then(() => this.commitBatch(sourceName, src, batch, marker, markIssued));
    // The batch counts as delivered only when every earlier one is too.
    const done = Promise.all([prevDone, run]).then(() => undefined);
    done.catch(() => markIssued());
    src.last = done;
    return done;
  }

  private async commitBatch(sourceName: string, src: RunningSource, batch: EventBatch, marker: string, issued: () => void): Promise<void> {
    const labels = { agent: this.def.name, component: sourceName };
    // The first channel last: the source resumes from the first channel's marker, so a crash between two
    // channels' commits repeats the batch in the others instead of losing it there.
    for (const channel of [...src.channels].reverse()) {
      let backoff = 100;
      for (;;) {
        if (this.stopping) {
          issued();
          throw new StoppedError();
        }
        let tx: ReturnType<Channel['transaction']> | undefined;
        try {
          tx = channel.transaction();
          if (batch.count) tx.put(batch);
          const committing = tx.commit({ owner: sourceName, value: marker });
          issued();
          await committing;
          break;
        } catch (err) {
          await tx?.rollback().catch(() => {});
          metrics.putRetries.inc(labels);
          if (err instanceof ChannelFullError) {
            await channel.waitForSpace(batch.count, 1000);
            continue;
          }
          this.log.error({ source: sourceName, channel: channel.name, err: errorMessage(err), retryInMs: backoff }, 'put into channel failed; retrying the same batch');
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, 10_000);
        }
      }
    }
    issued();
    metrics.accepted.inc(labels, batch.count);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const [, c] of this.channels) await c.channel.start();
    for (const s of this.sinks) await s.sink.start();
    for (const s of this.sinks) s.loop = this.runSink(s);
    for (const s of this.sources) await s.source.start();
    const fillTimer = setInterval(() => this.updateGauges(), 1000);
    fillTimer.unref();
    this.stopFill = () => clearInterval(fillTimer);
    this.log.info({ agent: this.def.name, sources: this.sources.length, channels: this.channels.size, sinks: this.sinks.length }, 'agent started');
  }

  private stopFill: () => void = () => {};

  private updateGauges(): void {
    for (const [name, c] of this.channels) {
      const labels = { agent: this.def.name, component: name };
      metrics.fill.set(labels, c.channel.size());
      metrics.fillRatio.set(labels, c.channel.size() / c.channel.capacity);
    }
  }

  /** Runs a sink until stop; after the stop request it keeps going until its channel is empty (or it fails). */
  private async runSink(s: Agent['sinks'][number]): Promise<void> {
    let backoff = 250;
    const labels = { agent: this.def.name, component: s.sink.name };
    for (;;) {
      const finishing = this.sinksStop;
      try {
        const n = await s.sink.process();
        s.delivered += n;
        backoff = 250;
        if (n === 0) {
          if (finishing) return;
          await Promise.race([s.channel.waitForEvents(1000), this.stopRequested]);
        }
      } catch (err) {
        s.errors++;
        s.lastError = errorMessage(err);
        metrics.sinkErrors.inc(labels);
        this.log.error({ sink: s.sink.name, err: s.lastError, retryInMs: backoff }, 'sink delivery failed; batch rolled back, retrying');
        if (finishing) return;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  private sinksStop = false;
  private requestStop: () => void = () => {};
  private readonly stopRequested = new Promise<void>((r) => (this.requestStop = r));

  /** Stops sources, lets sinks drain the channels (bounded), closes sinks, checkpoints channels. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await Promise.all(this.sources.map((s) => s.source.stop().catch((err) => this.log.error({ err: errorMessage(err) }, 'source stop failed'))));
    const deadline = Date.now() + (this.opts.drainTimeoutMs ?? 5000);
    while (Date.now() < deadline && [...this.channels.values()].some((c) => c.channel.size() > 0) && this.sinks.length) {
      await new Promise((r) => setTimeout(r, 50));
    }
    this.sinksStop = true;
    this.requestStop();
    await Promise.all(this.sinks.map((s) => s.loop));
    for (const s of this.sinks) await s.sink.stop().catch((err) => this.log.error({ sink: s.sink.name, err: errorMessage(err) }, 'sink stop failed'));
    for (const [, c] of this.channels) await c.channel.stop().catch((err) => this.log.error({ channel: c.channel.name, err: errorMessage(err) }, 'channel stop failed'));
    this.stopFill();
    this.updateGauges();
    this.log.info({ agent: this.def.name }, 'agent stopped');
  }

  status(): ComponentStatus[] {
    const out: ComponentStatus[] = [];
    for (const s of this.sources) out.push({ kind: 'source', name: s.source.name, type: s.type });
    for (const [name, c] of this.channels) out.push({ kind: 'channel', name, type: c.type, fill: c.channel.size(), capacity: c.channel.capacity });
    for (const s of this.sinks) out.push({ kind: 'sink', name: s.sink.name, type: s.type, delivered: s.delivered, errors: s.errors, lastError: s.lastError });
    return out;
  }

  /** Writes `status()` to a JSON file every `ms`, for `smartcar agent … --status`. */
  publishStatus(file: string, ms = 2000): () => void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    let failing = false;
    const write = () => {
      const tmp = file + '.tmp';
      try {
        fs.writeFileSync(tmp, JSON.stringify({ pid: process.pid, agent: this.def.name, updated: Date.now(), components: this.status() }));
        fs.renameSync(tmp, file);
        failing = false;
      } catch (err) {
        // Informational only (a full disk must not stop the agent): said once, retried at the next tick.
        fs.rmSync(tmp, { force: true });
        if (!failing) this.log.warn({ file, err: errorMessage(err) }, 'cannot write the status file; `--status` shows the last one written');
        failing = true;
      }
    };
    write();
    const t = setInterval(write, ms);
    t.unref();
    return () => {
      clearInterval(t);
      write();
    };
  }
}
