import { useState } from 'react';
import { qs } from '../api.ts';
import { go, useApi } from '../hooks.ts';
import { bytes, cell, num, when } from '../format.ts';
import { Badge, Card, ErrorBox, Loading, PageHead, Table } from '../ui.tsx';

interface Entry { name: string; path: string; type: 'dir' | 'file'; size: number; files: number; inProgress: boolean; inProgressFiles: number; mtime: number }
interface Listing { path: string; entries: Entry[]; totalBytes: number; totalFiles: number }
interface Preview { path: string; kind: 'text' | 'parquet'; size: number; inProgress: boolean; head?: string[]; tail?: string[]; columns?: string[]; rows?: number; headRows?: unknown[][]; tailRows?: unknown[][] }

const download = (p: string) => `/api/lake/download?${qs({ path: p })}`;

function RowsTable({ columns, rows }: { columns: string[]; rows: unknown[][] }) {
  return <Table<unknown[]> rows={rows} columns={columns.map((c, i) => ({ key: String(i), label: c, render: (r) => cell(r[i]) }))} />;
}

export default function LakePage({ params }: { params: URLSearchParams }) {
  const path = params.get('path') ?? '';
  const [file, setFile] = useState<string>();
  const list = useApi<Listing>(`/api/lake/list?${qs({ path })}`);
  const preview = useApi<Preview>(file ? `/api/lake/preview?${qs({ path: file, lines: 15 })}` : null);
  const crumbs = path ? path.split('/') : [];
  return (
    <div>
      <PageHead title="Lake" sub="The data lake's folders: Hive-style partitions, raw collected files and the marts' Parquet" />
      <div className="crumbs">
        <a href="#/lake">lake</a>
        {crumbs.map((c, i) => <span key={i}> / <a href={`#/lake?${qs({ path: crumbs.slice(0, i + 1).join('/') })}`}>{c}</a></span>)}
      </div>
      <ErrorBox error={list.error} onRetry={list.reload} />
      {!list.data && !list.error && <Loading />}
      {list.data && (
        <Card title={`${num(list.data.entries.length)} entries`} actions={<span className="muted">{bytes(list.data.totalBytes)} in {num(list.data.totalFiles)} files</span>}>
          <Table<Entry> rows={list.data.entries} rowKey={(e) => e.path} empty="This folder is empty."
            onRow={(e) => (e.type === 'dir' ? go('lake', { path: e.path }) : setFile(e.path))}
            columns={[
              { key: 'name', label: 'Name', render: (e) => <span className={e.type}>{e.type === 'dir' ? '📁 ' : '📄 '}{e.name} {e.inProgress && <Badge tone="warn">in progress</Badge>}</span> },
              { key: 'size', label: 'Size', render: (e) => bytes(e.size), className: 'num' },
              { key: 'files', label: 'Files', render: (e) => (e.type === 'dir' ? <>{num(e.files)}{e.inProgressFiles ? <span className="muted"> ({e.inProgressFiles} in progress)</span> : null}</> : ''), className: 'num' },
              { key: 'mtime', label: 'Modified', render: (e) => when(e.mtime) },
              { key: 'dl', label: '', render: (e) => (e.type === 'file' ? <a className="btn small" href={download(e.path)} onClick={(ev) => ev.stopPropagation()}>Download</a> : null) },
            ]} />
        </Card>
      )}
      {file && (
        <Card title={<>Preview <span className="mono muted">{file}</span></>} actions={<button className="btn ghost small" onClick={() => setFile(undefined)}>Close</button>}>
          <ErrorBox error={preview.error} onRetry={preview.reload} />
          {!preview.data && !preview.error && <Loading />}
          {preview.data && (
            <div data-testid="lake-preview">
              <p className="muted">{preview.data.kind === 'parquet' ? `Parquet · ${num(preview.data.rows)} rows` : 'text'} · {bytes(preview.data.size)} {preview.data.inProgress && <Badge tone="warn">in progress: still being written</Badge>}</p>
              {preview.data.kind === 'text' ? (
                <>
                  <h3>Head</h3><pre className="code">{preview.data.head?.join('\n')}</pre>
                  {!!preview.data.tail?.length && <><h3>Tail</h3><pre className="code">{preview.data.tail.join('\n')}</pre></>}
                </>
              ) : (
                <>
                  <h3>First rows</h3><RowsTable columns={preview.data.columns ?? []} rows={preview.data.headRows ?? []} />
                  {!!preview.data.tailRows?.length && <><h3>Last rows</h3><RowsTable columns={preview.data.columns ?? []} rows={preview.data.tailRows} /></>}
                </>
              )}
            </div>
          )}
        </Card>
      )}
    </div>
  );
}
