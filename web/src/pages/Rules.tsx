import { useEffect, useRef, useState } from 'react';
import { get, send } from '../api.ts';
import { useApi } from '../hooks.ts';
import { num, ts14, when } from '../format.ts';
import { Action, Badge, Card, Editor, ErrorBox, Loading, PageHead, Table } from '../ui.tsx';

interface RuleFile { file: string; bytes: number; modified: number; ok: boolean; statements: { name: string; text: string }[]; error?: { message: string; line: number; column: number } }
interface Check { ok: boolean; statements: { name: string; text: string }[]; error?: { message: string; line: number; column: number; full: string } }
interface AlertRow { car: string; date: string; avgSpeed: number }
interface TestResult { records: number; from: string | null; to: string | null; bytesRead: number; capped: boolean; ms: number; edited: { alerts: AlertRow[]; late: number }; current: { alerts: AlertRow[]; late: number; file: string } | null; onlyEdited: number; onlyCurrent: number; both: number }

function AlertTable({ rows, other }: { rows: AlertRow[]; other: Set<string> }) {
  return <Table<AlertRow> rows={rows.slice(0, 200)} rowKey={(a) => `${a.car}-${a.date}`} empty="No alerts." columns={[
    { key: 'car', label: 'Car', render: (a) => <span className={`mono ${other.has(`${a.car}-${a.date}`) ? '' : 'diff'}`}>{a.car}</span> },
    { key: 'date', label: 'Event time', render: (a) => ts14(a.date) },
    { key: 'avgSpeed', label: 'Avg speed', className: 'num', render: (a) => (Number.isFinite(a.avgSpeed) ? a.avgSpeed.toFixed(1) : '–') },
  ]} />;
}

export default function RulesPage() {
  const files = useApi<RuleFile[]>('/api/rules');
  const [file, setFile] = useState<string>();
  const [text, setText] = useState('');
  const [saved, setSaved] = useState('');
  const [check, setCheck] = useState<Check>();
  const [checkError, setCheckError] = useState<string>();
  const [test, setTest] = useState<TestResult>();
  const [msg, setMsg] = useState<string>();
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);

  useEffect(() => { if (!file && files.data?.length) setFile(files.data[0].file); }, [files.data, file]);
  useEffect(() => {
    if (!file) return;
    get<{ text: string }>(`/api/rules/${encodeURIComponent(file)}`).then((r) => { setText(r.text); setSaved(r.text); setTest(undefined); setMsg(undefined); }, (e: Error) => setCheckError(e.message));
  }, [file]);
  useEffect(() => {
    // Checks as you type: 250 ms after the last key.
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      send<Check>('POST', '/api/rules/check', { text, file: file ?? 'rule.epl' }).then((c) => { setCheck(c); setCheckError(undefined); }, (e: Error) => setCheckError(e.message));
    }, 250);
    return () => clearTimeout(timer.current);
  }, [text, file]);

  const e = new Set(test?.edited.alerts.map((a) => `${a.car}-${a.date}`));
  const c = new Set(test?.current?.alerts.map((a) => `${a.car}-${a.date}`));
  return (
    <div>
      <PageHead title="Rules" sub="EPL statements the stream runs; a saved file is picked up by the running stream (hot reload)" />
      <div className="split">
        <Card title="Rule files" className="side">
          <ErrorBox error={files.error} onRetry={files.reload} />
          {!files.data && !files.error && <Loading />}
          <ul className="list">
            {files.data?.map((f) => (
              <li key={f.file}><a className={f.file === file ? 'active' : ''} href="#/rules" onClick={(ev) => { ev.preventDefault(); setFile(f.file); }}>
                <span className="mono">{f.file}</span> <Badge tone={f.ok ? 'ok' : 'bad'}>{f.ok ? `${f.statements.length} stmt` : 'error'}</Badge>
                <small className="muted">{num(f.bytes)} bytes · {when(f.modified)}</small></a></li>
            ))}
          </ul>
        </Card>
        <div className="grow">
          <Card title={<span className="mono">{file ?? '…'}{text !== saved ? ' •' : ''}</span>} actions={<span className="inline">
            <Action label="Test on recent data" run={async () => { setTest(await send<TestResult>('POST', '/api/rules/test', { text, file })); }} disabled={!check?.ok} />
            <Action label="Save" className="primary" disabled={!check?.ok || text === saved || !file} run={async () => {
              await send('PUT', `/api/rules/${encodeURIComponent(file!)}`, { text });
              setSaved(text);
              setMsg(`saved ${new Date().toLocaleTimeString()}: the stream reloads it within seconds`);
              files.reload();
            }} />
          </span>}>
            <Editor value={text} onChange={setText} language="epl" error={check?.error ?? null} minHeight={200} testId="epl-editor" />
            <div className="check" data-testid="rule-check">
              {checkError && <ErrorBox error={checkError} />}
              {check && (check.ok
                ? <span className="ok-text">✓ compiles: {check.statements.map((s) => s.name).join(', ')}</span>
                : <span className="action-error">✕ line {check.error!.line}, column {check.error!.column}: {check.error!.message}</span>)}
              {msg && <span className="muted"> · {msg}</span>}
            </div>
          </Card>
          {test && (
            <Card title="Test on the last hour of driving records" actions={<span className="muted">{num(test.records)} records{test.from ? `, ${ts14(test.from)} → ${ts14(test.to!)}` : ''} · {num(test.ms)} ms{test.capped ? ' · read the last 32 MB of the log' : ''}</span>}>
              <p data-testid="test-summary">Edited rule: <strong>{num(test.edited.alerts.length)}</strong> alerts · saved rule: <strong>{num(test.current?.alerts.length ?? 0)}</strong> · in both {num(test.both)}, only edited {num(test.onlyEdited)}, only saved {num(test.onlyCurrent)}</p>
              <div className="grid2 test-lists">
                <div><h3>Edited rule would raise</h3><AlertTable rows={test.edited.alerts} other={c} /></div>
                <div><h3>Saved rule raised</h3><AlertTable rows={test.current?.alerts ?? []} other={e} /></div>
              </div>
            </Card>
          )}
        </div>
      </div>
    </div>
  );
}
