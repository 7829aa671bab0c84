/**
 * The group coordinator (Kafka's classic consumer-group protocol): members join, the first becomes the
 * leader and computes the assignment, SyncGroup hands it out; heartbeats keep members alive, and a
 * member silent longer than its session timeout is evicted, which starts a rebalance.
 *
 * Committed offsets are appended to `__consumer_offsets.jsonl` (fsynced) and replayed at start-up,
 * so they survive broker restarts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { E } from '../kafka/index.ts';
import { StorageError } from './log.ts';


export interface JoinResult {
  error: number;
  generation: number;
  protocol: string;
  leader: string;
  memberId: string;
  members: { id: string; metadata: Buffer }[];
}

interface Member {
  id: string;
  clientId: string;
  host: string;
  sessionTimeout: number;
  rebalanceTimeout: number;
  protocols: { name: string; metadata: Buffer }[];
  assignment: Buffer;
  lastSeen: number;
  join?: (r: JoinResult) => void;
  sync?: (r: { error: number; assignment: Buffer }) => void;
}

type State = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable';

class Group {
  state: State = 'Empty';
  generation = 0;
  protocolType = '';
  protocol = '';
  leader = '';
  members = new Map<string, Member>();
  timer?: NodeJS.Timeout;
  /** True during a new group's initial delay, while more members may still join. */
  delaying = false;
  constructor(readonly id: string) {}
}

export class Coordinator {
  private readonly groups = new Map<string, Group>();
  private readonly offsets = new Map<string, Map<string, { offset: bigint; metadata: string }>>();
  private readonly offsetsFile: string;
  private readonly fd: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(dataDir: string, private readonly initialDelayMs = 300) {
    this.offsetsFile = path.join(dataDir, '__consumer_offsets.jsonl');
    if (fs.existsSync(this.offsetsFile)) {
      for (const line of fs.readFileSync(this.offsetsFile, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          const o = JSON.parse(line) as { g: string; t: string; p: number; o: string; m: string };
          this.setOffset(o.g, o.t, o.p, BigInt(o.o), o.m);
        } catch {
          // A torn last line from a crash: the commit it held was never acknowledged.
        }
      }
    }
    this.fd = fs.openSync(this.offsetsFile, 'a');
    this.sweeper = setInterval(() => this.expire(), 250);
    this.sweeper.unref();
  }

  private group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) this.groups.set(id, (g = new Group(id)));
    return g;
  }

  private setOffset(group: string, topic: string, partition: number, offset: bigint, metadata: string): void {
    let m = this.offsets.get(group);
    if (!m) this.offsets.set(group, (m = new Map()));
    m.set(`${topic}\u0000${partition}`, { offset, metadata });
  }

  commit(group: string, entries: { topic: string; partition: number; offset: bigint; metadata: string }[]): void {
    if (!entries.length) return;
    const lines = entries.map((e) => JSON.stringify({ g: group, t: e.topic, p: e.partition, o: e.offset.toString(), m: e.metadata ?? '' })).join('\n') + '\n';
    const size = fs.fstatSync(this.fd).size;
    try {
      fs.writeSync(this.fd, lines);
      fs.fdatasyncSync(this.fd);
    } catch (err) {
      // A full disk: cut what was written, so the next commit's line does not glue onto a torn one.
      try { fs.ftruncateSync(this.fd, size); } catch { /* the torn line is skipped at start-up */ }
      throw new StorageError(`cannot record the commit in ${this.offsetsFile}: ${(err as Error).message}`, err as NodeJS.ErrnoException);
    }
    for (const e of entries) this.setOffset(group, e.topic, e.partition, e.offset, e.metadata ?? '');
  }

  fetchOffset(group: string, topic: string, partition: number): { offset: bigint; metadata: string } | undefined {
    return this.offsets.get(group)?.get(`${topic}\u0000${partition}`);
  }

  committedTopics(group: string): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const k of this.offsets.get(group)?.keys() ?? []) {
      const [t, p] = k.split('\u0000');
      out.set(t, [...(out.get(t) ?? []), Number(p)]);
    }
    return out;
  }

  join(groupId: string, memberId: string, clientId: string, host: string, sessionTimeout: number, rebalanceTimeout: number,
    protocolType: string, protocols: { name: string; metadata: Buffer }[]): Promise<JoinResult> {
    const g = this.group(groupId);
    const fail = (error: number): Promise<JoinResult> => Promise.resolve({ error, generation: -1, protocol: '', leader: '', memberId, members: [] });
    if (sessionTimeout < 1000 || sessionTimeout > 300_000) return fail(E.INVALID_SESSION_TIMEOUT);
    if (g.members.size > 0 && g.protocolType && protocolType !== g.protocolType) return fail(E.INCONSISTENT_GROUP_PROTOCOL);
    let m = memberId ? g.members.get(memberId) : undefined;
    if (memberId && !m) return fail(E.UNKNOWN_MEMBER_ID);
    if (!m) {
      m = { id: `${clientId || 'member'}-${randomUUID()}`, clientId, host, sessionTimeout, rebalanceTimeout, protocols, assignment: Buffer.alloc(0), lastSeen: Date.now() };
      g.members.set(m.id, m);
    }
    m.protocols = protocols;
    m.sessionTimeout = sessionTimeout;
    m.rebalanceTimeout = rebalanceTimeout;
    m.lastSeen = Date.now();
    g.protocolType = protocolType;
    const member = m;
    const p = new Promise<JoinResult>((resolve) => (member.join = resolve));
    // A pending SyncGroup of this member is answered: a new round has begun.
    member.sync?.({ error: E.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) });
    member.sync = undefined;
    this.prepare(g, g.state === 'Empty' ? this.initialDelayMs : 0);
    this.maybeComplete(g);
    return p;
  }

  private prepare(g: Group, delay: number): void {
    if (g.state !== 'PreparingRebalance') {
      g.state = 'PreparingRebalance';
      for (const m of g.members.values()) {
        m.sync?.({ error: E.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) });
        m.sync = undefined;
      }
      const timeout = Math.max(delay, ...[...g.members.values()].map((m) => m.rebalanceTimeout));
      clearTimeout(g.timer);
      // Members that do not rejoin within the rebalance timeout are dropped.
      g.timer = setTimeout(() => this.complete(g, true), timeout);
      if (delay > 0) {
        // A flag the timer clears itself, not a wall-clock comparison: Node timers may fire a
        // millisecond early by Date.now(), and a missed completion would wait out the rebalance timeout.
        g.delaying = true;
        setTimeout(() => {
          g.delaying = false;
          this.maybeComplete(g);
        }, delay).unref();
      }
    }
  }

  private maybeComplete(g: Group): void {
    if (g.state !== 'PreparingRebalance') return;
    if (g.delaying) return;
    if ([...g.members.values()].every((m) => m.join)) this.complete(g, false);
  }

  private complete(g: Group, dropLaggards: boolean): void {
    if (g.state !== 'PreparingRebalance') return;
    clearTimeout(g.timer);
    if (dropLaggards) for (const [id, m] of g.members) if (!m.join) g.members.delete(id);
    const joined = [...g.members.values()].filter((m) => m.join);
    if (joined.length === 0) {
      g.state = 'Empty';
      return;
    }
    // The first protocol every member supports, in the order the first member prefers.
    const protocol = joined[0].protocols.map((p) => p.name).find((n) => joined.every((m) => m.protocols.some((p) => p.name === n)));
    g.generation++;
    g.protocol = protocol ?? '';
    if (!g.members.has(g.leader)) g.leader = joined[0].id;
    g.state = 'CompletingRebalance';
    const all = joined.map((m) => ({ id: m.id, metadata: m.protocols.find((p) => p.name === protocol)?.metadata ?? Buffer.alloc(0) }));
    for (const m of joined) {
      const resolve = m.join!;
      m.join = undefined;
      m.lastSeen = Date.now();
      resolve({
        error: protocol ? E.NONE : E.INCONSISTENT_GROUP_PROTOCOL, generation: g.generation, protocol: g.protocol,
        leader: g.leader, memberId: m.id, members: m.id === g.leader ? all : [],
      });
    }
  }

  sync(groupId: string, generation: number, memberId: string, assignments: { id: string; assignment: Buffer }[]): Promise<{ error: number; assignment: Buffer }> {
    const g = this.groups.get(groupId);
    const m = g?.members.get(memberId);
    const empty = Buffer.alloc(0);
    if (!g || !m) return Promise.resolve({ error: E.UNKNOWN_MEMBER_ID, assignment: empty });
    if (generation !== g.generation) return Promise.resolve({ error: E.ILLEGAL_GENERATION, assignment: empty });
    if (g.state === 'PreparingRebalance') return Promise.resolve({ error: E.REBALANCE_IN_PROGRESS, assignment: empty });
    m.lastSeen = Date.now();
    if (g.state === 'Stable') return Promise.resolve({ error: E.NONE, assignment: m.assignment });
    const p = new Promise<{ error: number; assignment: Buffer }>((resolve) => (m.sync = resolve));
    if (memberId === g.leader) {
      for (const member of g.members.values()) member.assignment = assignments.find((a) => a.id === member.id)?.assignment ?? empty;
      g.state = 'Stable';
      for (const member of g.members.values()) {
        const resolve = member.sync;
        member.sync = undefined;
        resolve?.({ error: E.NONE, assignment: member.assignment });
      }
    }
    return p;
  }

  heartbeat(groupId: string, generation: number, memberId: string): number {
    const g = this.groups.get(groupId);
    const m = g?.members.get(memberId);
    if (!g || !m) return E.UNKNOWN_MEMBER_ID;
    m.lastSeen = Date.now();
    if (g.state === 'PreparingRebalance') return E.REBALANCE_IN_PROGRESS;
    if (generation !== g.generation) return E.ILLEGAL_GENERATION;
    return E.NONE;
  }

  leave(groupId: string, memberId: string): number {
    const g = this.groups.get(groupId);
    const m = g?.members.get(memberId);
    if (!g || !m) return E.UNKNOWN_MEMBER_ID;
    g.members.delete(memberId);
    m.join?.({ error: E.UNKNOWN_MEMBER_ID, generation: -1, protocol: '', leader: '', memberId, members: [] });
    this.afterDeparture(g);
    return E.NONE;
  }

  private afterDeparture(g: Group): void {
    if (g.members.size === 0) {
      clearTimeout(g.timer);
      g.state = 'Empty';
      return;
    }
    if (g.state === 'PreparingRebalance') this.maybeComplete(g);
    else this.prepare(g, 0);
  }

  /** Evicts members whose session expired (members waiting in a join are alive). */
  private expire(): void {
    const now = Date.now();
    for (const g of this.groups.values()) {
      let gone = false;
      for (const [id, m] of g.members) {
        if (!m.join && now - m.lastSeen > m.sessionTimeout) {
          g.members.delete(id);
          m.sync?.({ error: E.UNKNOWN_MEMBER_ID, assignment: Buffer.alloc(0) });
          gone = true;
        }
      }
      if (gone) this.afterDeparture(g);
    }
  }

  describe(groupId: string) {
    const g = this.groups.get(groupId);
    return {
      state: g ? g.state : 'Dead', protocolType: g?.protocolType ?? '', protocol: g?.protocol ?? '',
      members: g ? [...g.members.values()].map((m) => ({ id: m.id, clientId: m.clientId, host: m.host, metadata: m.protocols.find((p) => p.name === g.protocol)?.metadata ?? Buffer.alloc(0), assignment: m.assignment })) : [],
    };
  }

  list(): { id: string; protocolType: string }[] {
    return [...this.groups.values()].map((g) => ({ id: g.id, protocolType: g.protocolType }));
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const g of this.groups.values()) clearTimeout(g.timer);
    fs.closeSync(this.fd);
  }
}
