import { useEffect, useMemo, useState } from 'react';
import { send } from '../api.ts';
import { useApi } from '../hooks.ts';
import { bytes, duration, num } from '../format.ts';
import { Action, Badge, Card, Chart, ErrorBox, Loading, PageHead, Stat, Table } from '../ui.tsx';

interface Component { name: string; phase: string; pid?: number; restarts: number; upSeconds?: number; error?: string; lastExit?: { code: number | null; signal: string | null } }
interface Overview {
  data: string; supervised: boolean; components: Component[]; componentsError?: string;
  host: { hostname: string; cpus: number; cpu: number; load: number[]; memTotal: number; memFree: number; uptime: number };
  disk: { bytes: number; files: number; byDir: Record<string, number>; free?: number };
  latest: Record<string, number | null>;
}
interface Series { t: number[]; series: Record<string, (number | null)[]> }

/** The request index.html started before the bundle ran (used once). */
function takePrefetch(): Promise<Response> | undefined {
  const w = window as unknown as { __overview?: Promise<Response> };
  const p = w.__overview;
  w.__overview = undefined;
  return p;
}

const tone = (p: string) => (p === 'up' ? 'ok' : p === 'starting' || p === 'restarting' ? 'warn' : 'bad');

function lineOption(s: Series, names: string[], unit: string) {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0, textStyle: { fontSize: 11 } },
    grid: { left: 56, right: 16, top: 32, bottom: 28 },
    xAxis: { type: 'time' },
    yAxis: { type: 'value', name: unit, nameTextStyle: { fontSize: 10 } },
    series: names.map((n) => ({ name: n, type: 'line', showSymbol: false, smooth: false, data: s.t.map((t, i) => [t, s.series[n]?.[i] ?? null]) })),
  };
}

export default function OverviewPage() {
  const o = useApi<Overview>('/api/overview', 5000, takePrefetch());
  // The charts (and ECharts itself) come after the first figures are on screen.
  const [later, setLater] = useState(false);
  useEffect(() => {
    if (!o.data || later) return;
    const t = setTimeout(() => setLater(true), 50);
    return () => clearTimeout(t);
  }, [o.data, later]);
  const s = useApi<Series>(later ? '/api/overview/series?minutes=60' : null, 5000);
  const charts = useMemo(() => s.data && {
    stages: lineOption(s.data, ['sim records/s', 'agent events/s', 'broker appends/s', 'stream records/s', 'table rows/s'], 'records/s'),
    lag: lineOption(s.data, ['consumer lag'], 'records'),
    alerts: lineOption(s.data, ['alerts/s', 'dead letters/s'], 'per second'),
  }, [s.data]);
  const d = o.data;
  return (
    <div>
      <PageHead title="Overview" sub={d ? `${d.host.hostname} · data in ${d.data}` : 'platform status'} />
      <ErrorBox error={o.error} onRetry={o.reload} />
      {!d && !o.error && <Loading />}
      {d && (
        <>
          <div className="stats" data-testid="overview-stats">
            <Stat label="Components up" value={`${d.components.filter((c) => c.phase === 'up').length} / ${d.components.length}`} sub={d.supervised ? 'supervised by smartcar up' : 'stand-alone console'} />
            <Stat label="Stream records/s" value={num(d.latest['stream records/s'], 0)} sub={`lag ${num(d.latest['consumer lag'])}`} />
            <Stat label="Alerts/s" value={num(d.latest['alerts/s'], 1)} sub={`dead letters/s ${num(d.latest['dead letters/s'], 1)}`} />
            <Stat label="Host CPU" value={`${Math.round(d.host.cpu * 100)} %`} sub={`${d.host.cpus} cores · load ${d.host.load.map((l) => l.toFixed(2)).join(' ')}`} />
            <Stat label="Memory" value={`${bytes(d.host.memTotal - d.host.memFree)}`} sub={`of ${bytes(d.host.memTotal)} used`} />
            <Stat label="Data directory" value={bytes(d.disk.bytes)} sub={`${num(d.disk.files)} files${d.disk.free !== undefined ? ` · ${bytes(d.disk.free)} free` : ''}`} />
          </div>
          <Card title="Components">
            {d.componentsError && <div className="note">{d.componentsError}</div>}
            <Table<Component>
              rowKey={(c) => c.name}
              rows={d.components}
              empty="No supervised components."
              columns={[
                { key: 'name', label: 'Component', render: (c) => <strong>{c.name}</strong> },
                { key: 'phase', label: 'State', render: (c) => <Badge tone={tone(c.phase)}>{c.phase}</Badge> },
                { key: 'pid', label: 'PID', className: 'num' },
                { key: 'upSeconds', label: 'Uptime', render: (c) => duration(c.upSeconds), className: 'num' },
                { key: 'restarts', label: 'Restarts', className: 'num' },
                { key: 'error', label: 'Note', render: (c) => c.error ?? (c.lastExit && c.phase !== 'up' ? `last exit ${c.lastExit.signal ?? `code ${c.lastExit.code}`}` : '') },
                { key: 'actions', label: '', render: (c) => <Action label="Restart" className="small" run={async () => { await send('POST', `/api/components/${c.name}/restart`); o.reload(); }} /> },
              ]}
            />
          </Card>
          <div className="grid2">
            <Card title="Records per second through each stage"><ErrorBox error={s.error} />{charts ? <Chart option={charts.stages} testId="chart-stages" /> : <Loading />}</Card>
            <Card title="Consumer lag (stream group)">{charts ? <Chart option={charts.lag} /> : <Loading />}</Card>
            <Card title="Alerts and dead letters per second">{charts ? <Chart option={charts.alerts} /> : <Loading />}</Card>
            <Card title="Disk use by folder">
              <Table<[string, number]> rows={Object.entries(d.disk.byDir).sort((a, b) => b[1] - a[1])} rowKey={(r) => r[0]}
                columns={[{ key: '0', label: 'Folder', render: (r) => r[0] }, { key: '1', label: 'Size', render: (r) => bytes(r[1]), className: 'num' },
                  { key: 'bar', label: '', render: (r) => <div className="bar"><div style={{ width: `${(100 * r[1]) / Math.max(1, d.disk.bytes)}%` }} /></div> }]} />
            </Card>
          </div>
          <p className="foot">Charts keep the last hour, one sample every 5 s, in the console's memory.</p>
        </>
      )}
    </div>
  );
}
