// Analysis: the last pictures of `smartcar ml recommend | classify | cluster` and their result tables
// (the same ECharts options the `--plots` SVG files are rendered from).
import { Chart, Card, ErrorBox, Loading, PageHead, Table } from '../ui.tsx';
import { useApi } from '../hooks.ts';
import { cell, num, when } from '../format.ts';

interface Figure { name: string; analysis: string; title: string; at: string; option: Record<string, unknown> }
interface ResultTable { name: string; about: string; writtenBy: string; exists: boolean; rows: number; sample: { columns: string[]; rows: unknown[][] } }
interface Analysis { figures: Figure[]; tables: ResultTable[] }

const ORDER = ['recommend', 'classify', 'cluster'];
const LABEL: Record<string, string> = { recommend: 'Recommendation', classify: 'Status classification (random forest)', cluster: 'Car clustering (k-means)' };

export default function AnalysisPage() {
  const a = useApi<Analysis>('/api/analysis?sample=10', 10_000); // a run in the terminal shows up within 10 s
  if (a.error) return <ErrorBox error={a.error} onRetry={a.reload} />;
  if (!a.data) return <Loading />;
  const groups = [...new Set([...ORDER, ...a.data.figures.map((f) => f.analysis)])]
    .map((g) => ({ g, figures: a.data!.figures.filter((f) => f.analysis === g) }))
    .filter((x) => x.figures.length > 0);
  return (
    <div>
      <PageHead title="Analysis" sub="Recommendation, classification and clustering: the last run's pictures and the tables they wrote" />
      {groups.length === 0 && (
        <Card title="No pictures yet">
          <p className="muted">Run an analysis, e.g. <span className="mono">smartcar ml classify train --day 20240101</span>, <span className="mono">smartcar ml cluster --k 20</span> or <span className="mono">smartcar ml recommend --month 202003 --evaluate</span>; its pictures appear here.</p>
        </Card>
      )}
      {groups.map(({ g, figures }) => (
        <Card key={g} title={LABEL[g] ?? g}>
          <div className="figures">
            {figures.map((f) => (
              <figure key={f.name} className="figure" data-testid={`figure-${f.name}`}>
                <Chart option={f.option} height={360} />
                <figcaption className="muted">{f.title} · {when(Date.parse(f.at))} · <a className="link" href={`/api/analysis/figures/${encodeURIComponent(f.name)}/svg`}>SVG</a></figcaption>
              </figure>
            ))}
          </div>
        </Card>
      ))}
      {a.data.tables.map((t) => (
        <Card key={t.name} title={<span className="mono">{t.name}</span>} actions={<span className="muted">{t.exists ? `${num(t.rows)} rows` : 'not written yet'}</span>}>
          <p className="muted">{t.about}. Written by <span className="mono">{t.writtenBy}</span>.</p>
          {t.exists && (
            <Table<unknown[]> rows={t.sample.rows} rowKey={(_, i) => String(i)}
              columns={t.sample.columns.map((c, i) => ({ key: String(i), label: c, render: (r) => cell(r[i]) }))} />
          )}
        </Card>
      ))}
    </div>
  );
}
