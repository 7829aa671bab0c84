import { useState } from 'react';
import { qs, send, get } from '../api.ts';
import { go, useApi } from '../hooks.ts';
import { cell, num } from '../format.ts';
import { Badge, Card, ErrorBox, Loading, PageHead, Table } from '../ui.tsx';

interface CatalogTable { name: string; kind: string; columns: number }
interface Detail { name: string; columns: { column: string; type: string }[]; partitions: { column: string; value: string | null; rows: number }[]; sample: { columns: string[]; rows: unknown[][] } }
interface StoreRow { row: string; cells: Record<string, string> }
interface Scan { rows: StoreRow[]; filters: string[]; truncated: boolean }

function StoreBrowser() {
  const stores = useApi<{ name: string; families: string[] }[]>('/api/store');
  const [table, setTable] = useState('DriverCarInfo');
  const [filters, setFilters] = useState("cf1:speed>100\ncf1:area_number~^A");
  const [prefix, setPrefix] = useState('');
  const [limit, setLimit] = useState(50);
  const [scan, setScan] = useState<Scan>();
  const [scanError, setScanError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const [row, setRow] = useState<StoreRow>();
  const [getKey, setGetKey] = useState('');
  const [column, setColumn] = useState('cf1:speed');
  const [value, setValue] = useState('');
  const [putMsg, setPutMsg] = useState<{ ok: boolean; text: string }>();

  const runScan = async () => {
    setBusy(true);
    setScanError(undefined);
    const q = [qs({ prefix, limit }), ...filters.split('\n').map((f) => f.trim()).filter(Boolean).map((f) => `filter=${encodeURIComponent(f)}`)].filter(Boolean).join('&');
    try {
      setScan(await get<Scan>(`/api/store/${encodeURIComponent(table)}/scan?${q}`));
    } catch (e) {
      setScanError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  const open = async (key: string) => {
    setPutMsg(undefined);
    try {
      const r = await get<StoreRow>(`/api/store/${encodeURIComponent(table)}/rows/${encodeURIComponent(key)}`);
      setRow(r);
      setValue(r.cells[column] ?? '');
    } catch (e) {
      setScanError(e as Error);
    }
  };
  const put = async () => {
    if (!row) return;
    try {
      const r = await send<StoreRow>('PUT', `/api/store/${encodeURIComponent(table)}/rows/${encodeURIComponent(row.row)}`, { column, value });
      setRow(r);
      setPutMsg({ ok: true, text: `saved ${column} = ${value}` });
      setScan((s) => s && { ...s, rows: s.rows.map((x) => (x.row === r.row ? r : x)) });
    } catch (e) {
      setPutMsg({ ok: false, text: (e as Error).message });
    }
  };
  const cols = scan?.rows.length ? [...new Set(scan.rows.flatMap((r) => Object.keys(r.cells)))] : [];
  return (
    <Card title="Table store (HBase role): search with conditions, and modify">
      <ErrorBox error={stores.error} onRetry={stores.reload} />
      <form className="scan-form" onSubmit={(e) => { e.preventDefault(); void runScan(); }}>
        <label>Table <select value={table} onChange={(e) => setTable(e.target.value)} aria-label="store table">{(stores.data ?? [{ name: 'DriverCarInfo', families: ['cf1'] }]).map((t) => <option key={t.name}>{t.name}</option>)}</select></label>
        <label className="grow"><span>Filters, one per line: <span className="mono">family:qualifier OP value</span> (OP is = != &lt; &lt;= &gt; &gt;= ~)</span>
          <textarea rows={2} value={filters} onChange={(e) => setFilters(e.target.value)} aria-label="filters" className="mono" /></label>
        <label>Row prefix <input value={prefix} onChange={(e) => setPrefix(e.target.value)} aria-label="prefix" /></label>
        <label>Limit <input type="number" min={1} max={10000} value={limit} onChange={(e) => setLimit(Number(e.target.value))} aria-label="limit" /></label>
        <button className="btn primary" disabled={busy}>{busy ? 'Scanning…' : 'Scan'}</button>
      </form>
      <form className="inline" onSubmit={(e) => { e.preventDefault(); void open(getKey.trim()); }}>
        <input className="mono grow" placeholder="row key, e.g. 03510122300202-A0001" value={getKey} onChange={(e) => setGetKey(e.target.value)} aria-label="row key" />
        <button className="btn">Get row</button>
      </form>
      <ErrorBox error={scanError} />
      {scan && (
        <div data-testid="scan-result">
          <p className="muted">{num(scan.rows.length)} row(s){scan.truncated ? ' (more match: raise the limit)' : ''} · filters: {scan.filters.join(' AND ') || 'none'}</p>
          <Table<StoreRow> rows={scan.rows} rowKey={(r) => r.row} onRow={(r) => void open(r.row)} empty="No row matches."
            columns={[{ key: 'row', label: 'Row key', render: (r) => <span className="mono">{r.row}</span> }, ...cols.map((c) => ({ key: c, label: c.split(':')[1], render: (r: StoreRow) => r.cells[c] ?? '' }))]} />
        </div>
      )}
      {row && (
        <div className="row-edit" data-testid="row-edit">
          <h3>Row <span className="mono">{row.row}</span></h3>
          <Table<[string, string]> rows={Object.entries(row.cells)} rowKey={(x) => x[0]} columns={[{ key: '0', label: 'Column', render: (x) => <span className="mono">{x[0]}</span> }, { key: '1', label: 'Value', render: (x) => x[1] }]} />
          <form className="inline" onSubmit={(e) => { e.preventDefault(); void put(); }}>
            <select value={column} onChange={(e) => { setColumn(e.target.value); setValue(row.cells[e.target.value] ?? ''); }} aria-label="column">{Object.keys(row.cells).map((c) => <option key={c}>{c}</option>)}</select>
            <input value={value} onChange={(e) => setValue(e.target.value)} aria-label="value" />
            <button className="btn primary">Put</button>
            {putMsg && <span className={putMsg.ok ? 'ok-text' : 'action-error'} role={putMsg.ok ? 'status' : 'alert'}>{putMsg.text}</span>}
          </form>
        </div>
      )}
    </Card>
  );
}

export default function TablesPage({ params }: { params: URLSearchParams }) {
  const name = params.get('name');
  const tables = useApi<CatalogTable[]>('/api/tables');
  const detail = useApi<Detail>(name ? `/api/tables/${encodeURIComponent(name)}?sample=15` : null);
  return (
    <div>
      <PageHead title="Tables" sub="The SQL catalog's tables and views over the lake, and the table store" />
      <div className="split">
        <Card title="Catalog" className="side">
          <ErrorBox error={tables.error} onRetry={tables.reload} />
          {!tables.data && !tables.error && <Loading />}
          <ul className="list">
            {tables.data?.map((t) => (
              <li key={t.name}><a className={t.name === name ? 'active' : ''} href={`#/tables?${qs({ name: t.name })}`}><span className="mono">{t.name}</span> <Badge tone={t.kind === 'view' ? 'info' : 'muted'}>{t.kind}</Badge></a></li>
            ))}
          </ul>
        </Card>
        <div className="grow">
          {!name && <Card title="Pick a table"><p className="muted">Choose a table or view on the left to see its columns, partitions and sample rows.</p></Card>}
          {name && (
            <Card title={<span className="mono">{name}</span>} actions={<button className="btn small" onClick={() => go('notebooks', { sql: `select * from ${name} limit 100` })}>Query in a notebook</button>}>
              <ErrorBox error={detail.error} onRetry={detail.reload} />
              {detail.loading && <Loading />}
              {detail.data && (
                <>
                  <h3>Columns</h3>
                  <div className="chips">{detail.data.columns.map((c) => <span key={c.column} className="chip"><span className="mono">{c.column}</span> <small>{c.type}</small></span>)}</div>
                  {detail.data.partitions.length > 0 && (<>
                    <h3>Partitions</h3>
                    <Table rows={detail.data.partitions} rowKey={(p) => `${p.column}=${p.value}`} columns={[{ key: 'p', label: 'Partition', render: (p) => <span className="mono">{p.column}={p.value}</span> }, { key: 'rows', label: 'Rows', className: 'num', render: (p) => num(p.rows) }]} />
                  </>)}
                  <h3>Sample rows</h3>
                  <Table<unknown[]> rows={detail.data.sample.rows} empty="No rows." columns={detail.data.sample.columns.map((c, i) => ({ key: String(i), label: c, render: (r) => cell(r[i]) }))} />
                </>
              )}
            </Card>
          )}
        </div>
      </div>
      <StoreBrowser />
    </div>
  );
}
