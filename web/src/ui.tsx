import { lazy, Suspense, useRef, useState, type ReactNode } from 'react';
import { cell } from './format.ts';

export function ErrorBox({ error, onRetry }: { error?: Error | string; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <strong>Something failed.</strong> <span className="error-text">{typeof error === 'string' ? error : error.message}</span>
      {onRetry && <button className="btn small" onClick={onRetry}>Retry</button>}
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return <div className="loading"><span className="spinner" /> {what}…</div>;
}

export function Card({ title, actions, children, className }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`card ${className ?? ''}`}>
      {(title || actions) && <header className="card-head"><h2>{title}</h2><div className="card-actions">{actions}</div></header>}
      <div className="card-body">{children}</div>
    </section>
  );
}

export function Stat({ label, value, sub }: { label: string; value: ReactNode; sub?: ReactNode }) {
  return <div className="stat"><div className="stat-label">{label}</div><div className="stat-value">{value}</div>{sub && <div className="stat-sub">{sub}</div>}</div>;
}

export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted'; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

export function PageHead({ title, sub, children }: { title: string; sub?: ReactNode; children?: ReactNode }) {
  return <div className="page-head"><div><h1>{title}</h1>{sub && <p className="sub">{sub}</p>}</div><div className="page-actions">{children}</div></div>;
}

/** A button that shows it is busy and reports what failed. */
export function Action({ label, run, className, disabled, title }: { label: string; run: () => Promise<unknown>; className?: string; disabled?: boolean; title?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  return (
    <span className="action">
      <button className={`btn ${className ?? ''}`} title={title} disabled={busy || disabled} onClick={() => {
        setBusy(true);
        setError(undefined);
        run().catch((e: Error) => setError(e.message)).finally(() => setBusy(false));
      }}>{busy ? '…' : label}</button>
      {error && <span className="action-error" role="alert">{error}</span>}
    </span>
  );
}

export interface Column<T> { key: string; label: ReactNode; render?: (row: T) => ReactNode; className?: string }

export function Table<T>({ columns, rows, empty = 'Nothing here yet.', onRow, rowKey }: { columns: Column<T>[]; rows: T[]; empty?: string; onRow?: (r: T) => void; rowKey?: (r: T, i: number) => string }) {
  if (!rows.length) return <div className="empty">{empty}</div>;
  return (
    <div className="table-wrap">
      <table className="table">
        <thead><tr>{columns.map((c) => <th key={c.key} className={c.className}>{c.label}</th>)}</tr></thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={rowKey ? rowKey(r, i) : i} className={onRow ? 'clickable' : ''} onClick={onRow ? () => onRow(r) : undefined}>
              {columns.map((c) => <td key={c.key} className={c.className}>{c.render ? c.render(r) : cell((r as Record<string, unknown>)[c.key])}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const ROW_H = 28;

/** A grid that renders only the rows in view: a million rows scroll as smoothly as ten. */
export function VirtualGrid({ columns, rows, count, height = 360 }: { columns: string[]; rows: unknown[][]; count: number; height?: number }) {
  const [top, setTop] = useState(0);
  const ref = useRef<HTMLDivElement>(null);
  const first = Math.max(0, Math.floor(top / ROW_H) - 10);
  const last = Math.min(count, Math.ceil((top + height) / ROW_H) + 10);
  const widths = columns.map(() => 'minmax(120px, 1fr)').join(' ');
  const view: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const r = rows[i];
    view.push(
      <div key={i} className="vrow" style={{ top: i * ROW_H, gridTemplateColumns: `64px ${widths}` }}>
        <span className="vnum">{i + 1}</span>
        {columns.map((_, j) => <span key={j} className={r && r[j] === null ? 'null' : ''}>{r ? cell(r[j]) : ''}</span>)}
      </div>,
    );
  }
  return (
    <div className="vgrid" style={{ height: Math.min(height, (count + 1) * ROW_H + 2) }}>
      <div className="vhead" style={{ gridTemplateColumns: `64px ${widths}` }}><span className="vnum">#</span>{columns.map((c) => <span key={c}>{c}</span>)}</div>
      <div className="vbody" ref={ref} data-testid="grid-body" onScroll={(e) => setTop((e.target as HTMLDivElement).scrollTop)} style={{ height: Math.min(height, (count + 1) * ROW_H + 2) - ROW_H }}>
        <div style={{ height: count * ROW_H, position: 'relative', minWidth: `${64 + columns.length * 120}px` }}>{view}</div>
      </div>
    </div>
  );
}

const ChartImpl = lazy(() => import('./Chart.tsx'));
const EditorImpl = lazy(() => import('./Editor.tsx'));

export function Chart(props: import('./Chart.tsx').ChartProps) {
  return <Suspense fallback={<Loading what="Loading charts" />}><ChartImpl {...props} /></Suspense>;
}

export function Editor(props: import('./Editor.tsx').EditorProps) {
  return <Suspense fallback={<textarea className="editor-fallback" value={props.value} readOnly rows={6} />}><EditorImpl {...props} /></Suspense>;
}
