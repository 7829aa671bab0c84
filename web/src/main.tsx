import { StrictMode, lazy, Suspense, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { captureToken, get, setToken, token } from './api.ts';
import { useHashRoute } from './hooks.ts';
import { ErrorBox, Loading } from './ui.tsx';
import Overview from './pages/Overview.tsx';
import './style.css';

// Overview is in the first bundle (it is the landing page); the others load on first visit.
const pages: Record<string, { label: string; icon: string; Page: React.ComponentType<{ params: URLSearchParams }> }> = {
  overview: { label: 'Overview', icon: '◉', Page: Overview },
  alerts: { label: 'Alerts', icon: '⚠', Page: lazy(() => import('./pages/Alerts.tsx')) },
  lake: { label: 'Lake', icon: '▤', Page: lazy(() => import('./pages/Lake.tsx')) },
  topics: { label: 'Topics', icon: '⇶', Page: lazy(() => import('./pages/Topics.tsx')) },
  tables: { label: 'Tables', icon: '▦', Page: lazy(() => import('./pages/Tables.tsx')) },
  notebooks: { label: 'Notebooks', icon: '✎', Page: lazy(() => import('./pages/Notebooks.tsx')) },
  workflows: { label: 'Workflows', icon: '⟳', Page: lazy(() => import('./pages/Workflows.tsx')) },
  rules: { label: 'Rules', icon: '§', Page: lazy(() => import('./pages/Rules.tsx')) },
  analysis: { label: 'Analysis', icon: '◭', Page: lazy(() => import('./pages/Analysis.tsx')) },
};

interface Session { data: string; supervised: boolean; canWrite: boolean; host: string }

function TokenBox({ session, onChange }: { session?: Session; onChange: () => void }) {
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState(token() ?? '');
  if (!session) return null;
  return (
    <div className="token">
      <button className={`pill ${session.canWrite ? 'ok' : 'warn'}`} onClick={() => setOpen(!open)} title="Changes (restart, put, run, save) need the console token">
        {session.canWrite ? '● can change things' : '○ read-only: give the token'}
      </button>
      {open && (
        <form className="token-form" onSubmit={(e) => { e.preventDefault(); setToken(value.trim()); setOpen(false); onChange(); }}>
          <label>Console token <small>(in the URL smartcar up printed, or {session.data}/state/console-token)</small></label>
          <input value={value} onChange={(e) => setValue(e.target.value)} placeholder="paste the token" autoFocus />
          <button className="btn primary">Use it</button>
        </form>
      )}
    </div>
  );
}

function App() {
  const [page, params] = useHashRoute();
  const [session, setSession] = useState<Session>();
  const [sessionError, setSessionError] = useState<Error>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    get<Session>('/api/session').then((s) => { setSession(s); setSessionError(undefined); }, setSessionError);
  }, [tick]);
  const current = pages[page] ?? pages.overview;
  const Page = current.Page;
  return (
    <div className="app">
      <nav className="nav"><div className="nav-inner">
        <div className="brand"><span className="logo">s</span><span>smartcar</span><small>console</small></div>
        <ul>
          {Object.entries(pages).map(([id, p]) => (
            <li key={id}><a href={`#/${id}`} className={current === p ? 'active' : ''}><span className="icon">{p.icon}</span>{p.label}</a></li>
          ))}
        </ul>
        <div className="nav-foot">
          {session && <div className="data-dir" title={session.data}>data: {session.data}</div>}
          <TokenBox session={session} onChange={() => setTick((t) => t + 1)} />
        </div>
      </div></nav>
      <main className="main">
        <ErrorBox error={sessionError} onRetry={() => setTick((t) => t + 1)} />
        <Suspense fallback={<Loading what={`Loading ${current.label}`} />}>
          <Page key={page} params={params} />
        </Suspense>
      </main>
    </div>
  );
}

captureToken();
createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>);
