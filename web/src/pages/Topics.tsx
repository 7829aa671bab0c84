import { useState } from 'react';
import { useApi } from '../hooks.ts';
import { num, when } from '../format.ts';
import { Badge, Card, ErrorBox, Loading, PageHead, Table } from '../ui.tsx';

interface Partition { partition: number; low: number; high: number }
interface Topic { topic: string; partitions: Partition[]; messages: number }
interface Group { groupId: string; state: string; members: number; lag: number; partitions: { topic: string; partition: number; committed: number; end: number; lag: number }[] }
interface Messages { topic: string; partition: number; from: number; high: number; messages: { offset: number; timestamp: number; key: string | null; value: string }[] }

export default function TopicsPage() {
  const topics = useApi<Topic[]>('/api/topics', 5000);
  const groups = useApi<Group[]>('/api/topics/groups', 5000);
  const [pick, setPick] = useState<{ topic: string; partition: number }>();
  const [n, setN] = useState(20);
  const msgs = useApi<Messages>(pick ? `/api/topics/${encodeURIComponent(pick.topic)}/messages?partition=${pick.partition}&n=${n}` : null);
  return (
    <div>
      <PageHead title="Topics" sub="The bus: topics, partitions and offsets; consumer groups and their lag" />
      <Card title="Topics">
        <ErrorBox error={topics.error} onRetry={topics.reload} />
        {!topics.data && !topics.error && <Loading />}
        {topics.data?.map((t) => (
          <div key={t.topic} className="topic">
            <h3>{t.topic} <span className="muted">{t.partitions.length} partitions · {num(t.messages)} messages</span></h3>
            <Table<Partition> rows={t.partitions} rowKey={(p) => String(p.partition)} onRow={(p) => setPick({ topic: t.topic, partition: p.partition })}
              columns={[
                { key: 'partition', label: 'Partition', className: 'num' },
                { key: 'low', label: 'Low offset', className: 'num', render: (p) => num(p.low) },
                { key: 'high', label: 'High offset', className: 'num', render: (p) => num(p.high) },
                { key: 'n', label: 'Messages', className: 'num', render: (p) => num(p.high - p.low) },
                { key: 'go', label: '', render: () => <span className="link">last messages →</span> },
              ]} />
          </div>
        ))}
      </Card>
      {pick && (
        <Card title={`Last messages of ${pick.topic} / ${pick.partition}`} actions={
          <span className="inline">
            <select value={n} onChange={(e) => setN(Number(e.target.value))} aria-label="how many">{[10, 20, 50, 100, 200].map((x) => <option key={x} value={x}>{x}</option>)}</select>
            <button className="btn small" onClick={msgs.reload}>Refresh</button>
            <button className="btn ghost small" onClick={() => setPick(undefined)}>Close</button>
          </span>}>
          <ErrorBox error={msgs.error} onRetry={msgs.reload} />
          {msgs.loading && <Loading what="Reading the partition" />}
          {msgs.data && <Table rows={msgs.data.messages.slice().reverse()} rowKey={(m) => String(m.offset)} columns={[
            { key: 'offset', label: 'Offset', className: 'num' },
            { key: 'timestamp', label: 'Time', render: (m) => when(m.timestamp) },
            { key: 'key', label: 'Key', render: (m) => <span className="mono">{m.key ?? '–'}</span> },
            { key: 'value', label: 'Value', render: (m) => <span className="mono">{m.value}</span> },
          ]} />}
        </Card>
      )}
      <Card title="Consumer groups">
        <ErrorBox error={groups.error} onRetry={groups.reload} />
        {!groups.data && !groups.error && <Loading />}
        {groups.data?.length === 0 && <div className="empty">No consumer groups.</div>}
        {groups.data?.map((g) => (
          <div key={g.groupId} className="topic">
            <h3>{g.groupId} <Badge tone={g.state === 'Stable' ? 'ok' : 'warn'}>{g.state}</Badge> <span className="muted">{g.members} member(s) · lag {num(g.lag)}</span></h3>
            <Table rows={g.partitions} rowKey={(p) => `${p.topic}/${p.partition}`} columns={[
              { key: 'topic', label: 'Topic' }, { key: 'partition', label: 'Partition', className: 'num' },
              { key: 'committed', label: 'Committed', className: 'num', render: (p) => num(p.committed) },
              { key: 'end', label: 'End', className: 'num', render: (p) => num(p.end) },
              { key: 'lag', label: 'Lag', className: 'num', render: (p) => <strong>{num(p.lag)}</strong> },
            ]} />
          </div>
        ))}
      </Card>
    </div>
  );
}
