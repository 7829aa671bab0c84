import { useEffect, useState } from 'react';
import { get, qs, send } from '../api.ts';
import { useApi } from '../hooks.ts';
import { num, when } from '../format.ts';
import { Badge, Card, ErrorBox, Loading, PageHead, Table } from '../ui.tsx';

interface Wf { name: string; description: string; schedule: string | null; next: string | null; steps: { id: string; type: string; dependsOn: string[] }[]; last: { day: string; state: string; started: string; ms: number } | null }
interface Step { id: string; type: string; state: string; attempts: number; ms?: number; rows?: number; error?: string; log: string[] }
interface Run { id: string; workflow: string; day: string; trigger: string; state: string; started: string; ended: string; ms: number; error?: string; steps: Step[]; rows: number }
interface Job { id: string; workflow: string; kind: string; days: string[]; done: number; failed: number; state: string; current?: string; runs: { day: string; state: string; ms: number }[]; error?: string }

const tone = (s: string) => (s === 'succeeded' ? 'ok' : s === 'running' ? 'info' : s === 'skipped' ? 'muted' : 'bad');
const today8 = (offsetDays = -1) => { const d = new Date(Date.now() + offsetDays * 86_400_000); return `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`; };

function JobProgress({ job, onDone }: { job: Job; onDone: () => void }) {
  const [j, setJ] = useState(job);
  const [error, setError] = useState<Error>();
  useEffect(() => {
    let stop = false;
    const poll = async () => {
      while (!stop) {
        try {
          const x = await get<Job>(`/api/workflows/jobs/${job.id}`);
          setJ(x);
          if (x.state !== 'running') { onDone(); return; }
        } catch (e) { setError(e as Error); return; }
        await new Promise((r) => setTimeout(r, 700));
      }
    };
    void poll();
    return () => { stop = true; };
  }, [job.id, onDone]);
  const pct = Math.round((100 * j.done) / Math.max(1, j.days.length));
  return (
    <div className="job" data-testid="job">
      <div className="job-head"><strong>{j.kind} {j.workflow}</strong> <Badge tone={tone(j.state)}>{j.state}</Badge> <span className="muted">{j.done} / {j.days.length} days{j.failed ? `, ${j.failed} failed` : ''}{j.current ? ` · now ${j.current}` : ''}</span></div>
      <div className="progress"><div style={{ width: `${pct}%` }} /></div>
      <ErrorBox error={error ?? j.error} />
    </div>
  );
}

export default function WorkflowsPage() {
  const wfs = useApi<Wf[]>('/api/workflows', 10_000);
  const [filter, setFilter] = useState('');
  const hist = useApi<Run[]>(`/api/workflows/history?${qs({ name: filter, limit: 50 })}`, 5000);
  const [jobs, setJobs] = useState<Job[]>([]);
  const [day, setDay] = useState(today8());
  const [from, setFrom] = useState(today8(-3));
  const [to, setTo] = useState(today8());
  const [actionError, setActionError] = useState<string>();
  const [open, setOpen] = useState<string>();

  const start = async (path: string, body: object) => {
    setActionError(undefined);
    try {
      const j = await send<Job>('POST', path, body);
      setJobs((x) => [j, ...x].slice(0, 10));
    } catch (e) { setActionError((e as Error).message); }
  };
  return (
    <div>
      <PageHead title="Workflows" sub="The daily workflows that build the data marts (the Oozie role): schedule, history, run now, backfill">
        <label className="inline">Day <input value={day} onChange={(e) => setDay(e.target.value)} className="mono short" aria-label="day" /></label>
        <label className="inline">Backfill <input value={from} onChange={(e) => setFrom(e.target.value)} className="mono short" aria-label="from" /> → <input value={to} onChange={(e) => setTo(e.target.value)} className="mono short" aria-label="to" /></label>
      </PageHead>
      <ErrorBox error={actionError} />
      {jobs.map((j) => <JobProgress key={j.id} job={j} onDone={hist.reload} />)}
      <Card title="Workflows">
        <ErrorBox error={wfs.error} onRetry={wfs.reload} />
        {!wfs.data && !wfs.error && <Loading />}
        {wfs.data && <Table<Wf> rows={wfs.data} rowKey={(w) => w.name} columns={[
          { key: 'name', label: 'Workflow', render: (w) => <><strong>{w.name}</strong><div className="muted small">{w.description}</div></> },
          { key: 'steps', label: 'Steps', render: (w) => <span className="mono small">{w.steps.map((s) => s.id).join(' → ')}</span> },
          { key: 'schedule', label: 'Schedule', render: (w) => <span className="mono">{w.schedule ?? 'manual'}</span> },
          { key: 'next', label: 'Next run', render: (w) => (w.next ? when(w.next) : '–') },
          { key: 'last', label: 'Last run', render: (w) => (w.last ? <><Badge tone={tone(w.last.state)}>{w.last.state}</Badge> <span className="muted">{w.last.day}</span></> : <span className="muted">never</span>) },
          { key: 'act', label: '', render: (w) => <span className="inline">
            <button className="btn small primary" data-testid={`run-${w.name}`} onClick={() => void start(`/api/workflows/${w.name}/run`, { day })}>Run {day}</button>
            <button className="btn small" onClick={() => void start(`/api/workflows/${w.name}/backfill`, { from, to })}>Backfill</button>
          </span> },
        ]} />}
      </Card>
      <Card title="Run history" actions={<select value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="workflow filter"><option value="">all workflows</option>{wfs.data?.map((w) => <option key={w.name}>{w.name}</option>)}</select>}>
        <ErrorBox error={hist.error} onRetry={hist.reload} />
        {hist.data && <Table<Run> rows={hist.data} rowKey={(r) => r.id} empty="No runs yet." onRow={(r) => setOpen(open === r.id ? undefined : r.id)} columns={[
          { key: 'started', label: 'Started', render: (r) => when(r.started) },
          { key: 'workflow', label: 'Workflow', render: (r) => <strong>{r.workflow}</strong> },
          { key: 'day', label: 'Day', render: (r) => <span className="mono">{r.day}</span> },
          { key: 'trigger', label: 'Trigger' },
          { key: 'state', label: 'State', render: (r) => <Badge tone={tone(r.state)}>{r.state}</Badge> },
          { key: 'ms', label: 'Duration', className: 'num', render: (r) => `${(r.ms / 1000).toFixed(2)} s` },
          { key: 'rows', label: 'Rows written', className: 'num', render: (r) => num(r.rows) },
          { key: 'error', label: 'Error / log', render: (r) => (open === r.id ? (
            <div className="log">{r.steps.map((s) => <div key={s.id}><Badge tone={tone(s.state)}>{s.id}</Badge> {s.error && <span className="action-error">{s.error}</span>}<pre>{s.log.join('\n')}</pre></div>)}</div>
          ) : <span className="muted">{r.error ? r.error.slice(0, 120) : 'click for the log'}</span>) },
        ]} />}
      </Card>
    </div>
  );
}
