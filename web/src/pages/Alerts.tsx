import { useEffect, useRef, useState } from 'react';
import { qs } from '../api.ts';
import { useApi } from '../hooks.ts';
import { duration, num, ts14 } from '../format.ts';
import { Badge, Card, ErrorBox, Loading, PageHead, Table } from '../ui.tsx';

interface Alert { member: string; car: string; at: string; day: string; seen: number }
interface DaySet { day: string; ttl: number; size: number; matching: number; members: Alert[] }

export default function AlertsPage() {
  const [live, setLive] = useState<(Alert & { shown: number })[]>([]);
  const [status, setStatus] = useState<'connecting' | 'live' | 'lost'>('connecting');
  const [problem, setProblem] = useState<string>();
  const [car, setCar] = useState('');
  const [filter, setFilter] = useState('');
  const sets = useApi<DaySet[]>(`/api/alerts/sets?${qs({ car: filter, limit: 200 })}`, 10_000);
  const es = useRef<EventSource | null>(null);

  useEffect(() => {
    const src = new EventSource('/api/alerts/stream');
    es.current = src;
    src.onopen = () => { setStatus('live'); setProblem(undefined); };
    src.onerror = () => { setStatus('lost'); setProblem('the live feed (GET /api/alerts/stream) dropped; reconnecting…'); };
    // Events arriving together are drawn together: one render per frame, not one per alert.
    let batch: (Alert & { shown: number })[] = [];
    let frame = 0;
    src.addEventListener('alert', (e) => {
      batch.unshift({ ...(JSON.parse((e as MessageEvent).data) as Alert), shown: Date.now() });
      if (!frame) frame = requestAnimationFrame(() => {
        const b = batch;
        batch = [];
        frame = 0;
        setLive((l) => [...b, ...l].slice(0, 500));
      });
    });
    src.addEventListener('problem', (e) => setProblem(`the hot store could not be read: ${JSON.parse((e as MessageEvent).data).error}`));
    return () => src.close();
  }, []);

  const shown = filter ? live.filter((a) => a.car.startsWith(filter)) : live;
  return (
    <div>
      <PageHead title="Alerts" sub="Overspeed alerts as the stream writes them to the hot store (SADD <day> <car>-<time>, TTL one week)">
        <form className="inline" onSubmit={(e) => { e.preventDefault(); setFilter(car.trim().toUpperCase()); }}>
          <input placeholder="Filter by car, e.g. A0001" value={car} onChange={(e) => setCar(e.target.value)} aria-label="car filter" />
          <button className="btn">Filter</button>
          {filter && <button type="button" className="btn ghost" onClick={() => { setCar(''); setFilter(''); }}>Clear</button>}
        </form>
      </PageHead>
      <ErrorBox error={problem} />
      <Card title={<>Live <Badge tone={status === 'live' ? 'ok' : status === 'lost' ? 'bad' : 'warn'}>{status}</Badge></>} actions={<span className="muted">{num(shown.length)} since this page opened</span>}>
        <div className="live-list" data-testid="live-alerts">
          <Table<Alert & { shown: number }> rows={shown.slice(0, 100)} rowKey={(a) => a.member} empty="Waiting for the next overspeed alert…"
            columns={[
              { key: 'car', label: 'Car', render: (a) => <strong className="mono">{a.car}</strong> },
              { key: 'at', label: 'Event time', render: (a) => ts14(a.at) },
              { key: 'day', label: 'Set' },
              { key: 'seen', label: 'Written', render: (a) => new Date(a.seen).toLocaleTimeString() },
            ]} />
        </div>
      </Card>
      <Card title="Day sets in the hot store">
        <ErrorBox error={sets.error} onRetry={sets.reload} />
        {!sets.data && !sets.error && <Loading />}
        {sets.data && sets.data.length === 0 && <div className="empty">No day sets yet.</div>}
        {sets.data?.map((s) => (
          <details key={s.day} className="dayset" open={sets.data!.length === 1}>
            <summary>
              <strong>{s.day}</strong> <span className="muted">{num(s.size)} members{filter ? `, ${num(s.matching)} of ${filter}` : ''}</span>
              <Badge tone={s.ttl > 0 ? 'info' : 'muted'}>{s.ttl > 0 ? `expires in ${duration(s.ttl)}` : s.ttl === -1 ? 'no expiry' : 'expired'}</Badge>
            </summary>
            <Table<Alert> rows={s.members} rowKey={(a) => a.member} columns={[
              { key: 'car', label: 'Car', render: (a) => <span className="mono">{a.car}</span> },
              { key: 'at', label: 'Event time', render: (a) => ts14(a.at) },
              { key: 'member', label: 'Member', render: (a) => <span className="mono muted">{a.member}</span> },
            ]} />
            {s.matching > s.members.length && <div className="muted">showing the newest {s.members.length} of {num(s.matching)}</div>}
          </details>
        ))}
      </Card>
    </div>
  );
}
