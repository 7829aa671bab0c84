import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { qs, send } from '../api.ts';
import { go, useApi } from '../hooks.ts';
import { num, when } from '../format.ts';
import { parseForms, type Form } from '../../../src/console/forms.ts';
import { runSql, type RunEnd, type RunMeta } from '../sqlrun.ts';
import { Action, Card, Chart, Editor, ErrorBox, Loading, PageHead, VirtualGrid } from '../ui.tsx';

type ChartKind = 'table' | 'bar' | 'line' | 'area' | 'pie' | 'scatter';
const CHARTS: ChartKind[] = ['table', 'bar', 'line', 'area', 'pie', 'scatter'];

interface Paragraph { title: string; note: string; sql: string; chart: ChartKind; key?: string; value?: string; group?: string }
interface Notebook { id: string; file: string; title: string; note: string; paragraphs: Paragraph[] }
interface Listed { id: string; title: string; paragraphs: number; modified: number; error?: string }

const CHART_ROWS = 5000;

function chartOption(kind: ChartKind, columns: string[], rows: unknown[][], key?: string, value?: string, group?: string) {
  const ki = Math.max(0, columns.indexOf(key ?? columns[0]));
  const valueCols = (value ? value.split(',') : columns.filter((_, i) => i !== ki).slice(0, 1)).map((v) => columns.indexOf(v.trim())).filter((i) => i >= 0);
  const gi = group ? columns.indexOf(group) : -1;
  const data = rows.slice(0, CHART_ROWS);
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  if (kind === 'pie') {
    const vi = valueCols[0] ?? 1;
    return { tooltip: { trigger: 'item' }, legend: { type: 'scroll', bottom: 0 }, series: [{ type: 'pie', radius: ['35%', '70%'], data: data.map((r) => ({ name: String(r[ki]), value: n(r[vi]) })) }] };
  }
  if (kind === 'scatter') {
    const vi = valueCols[0] ?? 1;
    return { tooltip: {}, grid: { left: 56, right: 16, top: 24, bottom: 32 }, xAxis: { type: 'value', name: columns[ki] }, yAxis: { type: 'value', name: columns[vi] }, series: [{ type: 'scatter', symbolSize: 6, data: data.map((r) => [n(r[ki]), n(r[vi])]) }] };
  }
  const type = kind === 'area' ? 'line' : kind;
  let categories: string[];
  let series: { name: string; type: string; data: (number | null)[]; areaStyle?: object; showSymbol?: boolean }[];
  if (gi >= 0) {
    categories = [...new Set(data.map((r) => String(r[ki])))];
    const groups = [...new Set(data.map((r) => String(r[gi])))];
    const vi = valueCols[0] ?? 1;
    series = groups.map((g) => ({ name: g, type, data: categories.map((c) => n(data.find((r) => String(r[ki]) === c && String(r[gi]) === g)?.[vi])) }));
  } else {
    categories = data.map((r) => String(r[ki]));
    series = valueCols.map((vi) => ({ name: columns[vi], type, data: data.map((r) => n(r[vi])) }));
  }
  if (kind === 'area') series = series.map((s) => ({ ...s, areaStyle: {}, showSymbol: false }));
  return {
    tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 56, right: 16, top: 32, bottom: 48 },
    xAxis: { type: 'category', data: categories, axisLabel: { rotate: categories.length > 12 ? 45 : 0 } }, yAxis: { type: 'value' }, series,
  };
}

interface ParagraphHandle { run(): Promise<void> }

function ParagraphView({ p, index, schema, onChange, register, onRemove }: {
  p: Paragraph; index: number; schema?: Record<string, string[]>; onChange: (p: Paragraph) => void;
  register: (i: number, h: ParagraphHandle | null) => void; onRemove: () => void;
}) {
  const forms: Form[] = useMemo(() => parseForms(p.sql), [p.sql]);
  const [values, setValues] = useState<Record<string, string>>({});
  const [meta, setMeta] = useState<RunMeta>();
  const [end, setEnd] = useState<RunEnd>();
  const [error, setError] = useState<string>();
  const [running, setRunning] = useState(false);
  const [count, setCount] = useState(0);
  const [firstMs, setFirstMs] = useState<number>();
  const rows = useRef<unknown[][]>([]);
  const ac = useRef<AbortController | null>(null);
  const valuesRef = useRef(values);
  valuesRef.current = values;

  const lastRun = useRef<Record<string, string>>({});
  const run = useCallback(async (vals = valuesRef.current) => {
    lastRun.current = Object.fromEntries(parseForms(p.sql).map((f) => [f.name, vals[f.name] ?? f.defaultValue]));
    ac.current?.abort();
    const ctl = new AbortController();
    ac.current = ctl;
    rows.current = [];
    setCount(0);
    setEnd(undefined);
    setError(undefined);
    setFirstMs(undefined);
    setRunning(true);
    const t0 = performance.now();
    let pending = false;
    const flush = () => { pending = false; setCount(rows.current.length); };
    try {
      const e = await runSql(p.sql, vals, {
        meta: (m) => setMeta(m),
        rows: (r) => {
          const first = rows.current.length === 0;
          for (const x of r) rows.current.push(x);
          if (first) {
            // The first rows are drawn at once; later ones at most every 200 ms.
            setFirstMs(Math.round(performance.now() - t0));
            setCount(rows.current.length);
          } else if (!pending) {
            pending = true;
            setTimeout(flush, 200);
          }
        },
      }, ctl.signal);
      setCount(rows.current.length);
      setEnd(e);
    } catch (err) {
      if ((err as Error).name === 'AbortError') setEnd({ rows: rows.current.length, ms: Math.round(performance.now() - t0), stopped: 'cancelled' });
      else setError((err as Error).message);
      setCount(rows.current.length);
    } finally {
      if (ac.current === ctl) setRunning(false);
    }
  }, [p.sql]);

  useEffect(() => {
    register(index, { run: () => run() });
    return () => register(index, null);
  }, [index, run, register]);

  const cancel = () => {
    if (meta) void send('POST', `/api/sql/runs/${meta.run}/cancel`).catch(() => {});
    ac.current?.abort();
  };

  const setForm = (name: string, v: string, rerun: boolean) => {
    const next = { ...values, [name]: v };
    setValues(next);
    if (rerun) void run(next);
  };

  const effective = Object.fromEntries(forms.map((f) => [f.name, values[f.name] ?? f.defaultValue]));
  const option = useMemo(() => (meta && p.chart !== 'table' && count > 0 ? chartOption(p.chart, meta.columns, rows.current, p.key, p.value, p.group) : undefined),
    [meta, p.chart, p.key, p.value, p.group, count, end]);
  const csv = `/api/sql/csv?${qs({ sql: p.sql, params: JSON.stringify(effective), name: (p.title || 'result').replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 60) || 'result' })}`;

  return (
    <section className="paragraph card" data-testid={`paragraph-${index}`}>
      <header className="card-head">
        <input className="para-title" value={p.title} onChange={(e) => onChange({ ...p, title: e.target.value })} aria-label="paragraph title" />
        <div className="card-actions">
          {running ? <button className="btn danger small" onClick={cancel}>Cancel</button> : <button className="btn primary small" onClick={() => void run()} data-testid="run">▶ Run</button>}
          <button className="btn ghost small" title="Remove paragraph" onClick={onRemove}>✕</button>
        </div>
      </header>
      <div className="card-body">
        {p.note && <p className="note">{p.note}</p>}
        <Editor value={p.sql} onChange={(sql) => onChange({ ...p, sql })} schema={schema} onRun={() => void run()} testId="sql-editor" />
        {forms.length > 0 && (
          <div className="forms" data-testid="forms">
            {forms.map((f) => (
              <label key={f.name} className="form-field">{f.name}
                {f.options ? (
                  <select value={effective[f.name]} onChange={(e) => setForm(f.name, e.target.value, true)} aria-label={f.name}>{f.options.map((o) => <option key={o}>{o}</option>)}</select>
                ) : (
                  <input value={effective[f.name]} aria-label={f.name} onChange={(e) => setForm(f.name, e.target.value, false)}
                    onKeyDown={(e) => { if (e.key === 'Enter') void run({ ...values, [f.name]: (e.target as HTMLInputElement).value }); }}
                    onBlur={(e) => { if (e.target.value !== lastRun.current[f.name]) void run({ ...values, [f.name]: e.target.value }); }} />
                )}
              </label>
            ))}
          </div>
        )}
        <div className="result-bar">
          <div className="chart-pick" role="group" aria-label="display">
            {CHARTS.map((c) => <button key={c} className={`seg ${p.chart === c ? 'on' : ''}`} onClick={() => onChange({ ...p, chart: c })}>{c}</button>)}
          </div>
          {meta && p.chart !== 'table' && (
            <span className="inline">
              <label>key <select value={p.key ?? meta.columns[0]} onChange={(e) => onChange({ ...p, key: e.target.value })}>{meta.columns.map((c) => <option key={c}>{c}</option>)}</select></label>
              <label>value <select value={p.value?.split(',')[0] ?? meta.columns[1] ?? meta.columns[0]} onChange={(e) => onChange({ ...p, value: e.target.value })}>{meta.columns.map((c) => <option key={c}>{c}</option>)}</select></label>
              <label>group <select value={p.group ?? ''} onChange={(e) => onChange({ ...p, group: e.target.value || undefined })}><option value="">–</option>{meta.columns.map((c) => <option key={c}>{c}</option>)}</select></label>
            </span>
          )}
          <span className="grow" />
          {meta && <a className="btn ghost small" href={csv} download>CSV</a>}
        </div>
        {error && <div className="error sql-error" role="alert"><pre>{error}</pre></div>}
        {(running || end) && (
          <div className="status" data-testid="run-status">
            {running ? <><span className="spinner" /> running… {num(count)} rows{firstMs !== undefined ? ` (first after ${firstMs} ms)` : ''}</> :
              end && <>{num(end.rows)} rows in {num(end.ms)} ms{firstMs !== undefined ? ` · first rows after ${firstMs} ms` : ''}{end.stopped ? <strong> · stopped: {end.stopped}</strong> : ''}</>}
          </div>
        )}
        {meta && count > 0 && p.chart === 'table' && <VirtualGrid columns={meta.columns} rows={rows.current} count={count} />}
        {meta && count === 0 && end && !error && <div className="empty">No rows.</div>}
        {option && <Chart option={option} height={300} testId={`chart-${index}`} />}
        {option && count > CHART_ROWS && <div className="muted">the chart shows the first {num(CHART_ROWS)} rows</div>}
      </div>
    </section>
  );
}

function NotebookView({ id, scratchSql }: { id?: string; scratchSql?: string }) {
  const loaded = useApi<Notebook>(id ? `/api/notebooks/${encodeURIComponent(id)}` : null);
  const schema = useApi<Record<string, string[]>>('/api/sql/schema');
  const [nb, setNb] = useState<Notebook>();
  const [saved, setSaved] = useState<string>();
  const handles = useRef(new Map<number, ParagraphHandle>());
  useEffect(() => { if (loaded.data) setNb(loaded.data); }, [loaded.data]);
  useEffect(() => {
    if (!id) setNb({ id: 'scratch', file: '', title: 'Scratch', note: '', paragraphs: [{ title: 'Query', note: '', sql: scratchSql ?? 'select 42 as answer', chart: 'table' }] });
  }, [id, scratchSql]);
  const register = useCallback((i: number, h: ParagraphHandle | null) => { if (h) handles.current.set(i, h); else handles.current.delete(i); }, []);
  if (loaded.error) return <ErrorBox error={loaded.error} onRetry={loaded.reload} />;
  if (!nb) return <Loading what="Loading the notebook" />;
  const update = (i: number, p: Paragraph) => setNb({ ...nb, paragraphs: nb.paragraphs.map((x, j) => (j === i ? p : x)) });
  const runAll = async () => { for (let i = 0; i < nb.paragraphs.length; i++) await handles.current.get(i)?.run(); };
  const save = async () => {
    const target = id ?? (prompt('Save as (letters, digits, - and _):', 'my-notebook') || '');
    if (!target) return;
    await send('PUT', `/api/notebooks/${encodeURIComponent(target)}`, { title: nb.title, note: nb.note, paragraphs: nb.paragraphs.map(({ title, note, sql, chart, key, value, group }) => ({ title, note, sql, chart, key, value, group })) });
    setSaved(`saved ${new Date().toLocaleTimeString()}`);
    if (!id) go('notebooks', { id: target });
  };
  return (
    <div>
      <PageHead title={nb.title} sub={nb.file ? <span className="mono">{nb.file}</span> : 'not saved yet'}>
        <Action label="▶ Run all" className="primary" run={runAll} />
        <Action label="Save" run={save} />
        {saved && <span className="muted">{saved}</span>}
      </PageHead>
      <ErrorBox error={schema.error} />
      {nb.note && <p className="note">{nb.note}</p>}
      {nb.paragraphs.map((p, i) => (
        <ParagraphView key={`${nb.id}-${i}`} p={p} index={i} schema={schema.data} onChange={(x) => update(i, x)} register={register}
          onRemove={() => setNb({ ...nb, paragraphs: nb.paragraphs.filter((_, j) => j !== i) })} />
      ))}
      <button className="btn ghost" onClick={() => setNb({ ...nb, paragraphs: [...nb.paragraphs, { title: `Paragraph ${nb.paragraphs.length + 1}`, note: '', sql: 'select 1', chart: 'table' }] })}>+ Add paragraph</button>
    </div>
  );
}

export default function NotebooksPage({ params }: { params: URLSearchParams }) {
  const id = params.get('id') ?? undefined;
  const sql = params.get('sql') ?? undefined;
  const list = useApi<Listed[]>('/api/notebooks');
  return (
    <div className="split">
      <Card title="Notebooks" className="side" actions={<button className="btn small" onClick={() => go('notebooks', { sql: 'select 42 as answer' })}>New</button>}>
        <ErrorBox error={list.error} onRetry={list.reload} />
        {!list.data && !list.error && <Loading />}
        <ul className="list">
          {list.data?.map((n) => (
            <li key={n.id}><a className={n.id === id ? 'active' : ''} href={`#/notebooks?id=${encodeURIComponent(n.id)}`}>
              <span>{n.title}</span><small className="muted">{n.error ? `⚠ ${n.error}` : `${n.paragraphs} paragraphs · ${when(n.modified)}`}</small></a></li>
          ))}
        </ul>
        <p className="muted small">Plain Markdown files under the data directory's <span className="mono">notebooks/</span>: copy, diff and keep them in git.</p>
      </Card>
      <div className="grow">
        {id || sql ? <NotebookView key={id ?? sql} id={id} scratchSql={sql} /> : <><PageHead title="Notebooks" sub="SQL paragraphs with charts and dynamic forms (Zeppelin, Hue's editor)" /><Card title="Open a notebook"><p className="muted">Pick a notebook on the left, or start a new one. Paragraphs run read-only SQL over the catalog; <span className="mono">{'${AvgSpeed=60}'}</span> becomes a text box and <span className="mono">{'${area=A01,A01|B02}'}</span> a select.</p></Card></>}
      </div>
    </div>
  );
}
