import { useCallback, useEffect, useRef, useState } from 'react';
import { get } from './api.ts';

export interface Loaded<T> { data?: T; error?: Error; loading: boolean; reload(): void }

/** GETs `path` (again every `everyMs` when given); keeps the last good data while a refresh fails. */
export function useApi<T>(path: string | null, everyMs?: number, first?: Promise<Response>): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: !!path });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const live = useRef(true);
  useEffect(() => {
    live.current = true;
    if (!path) return;
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let prefetched = first;
    const load = () => {
      const p = prefetched ? prefetched.then(async (r) => { if (!r.ok) throw new Error(`GET ${path} failed (${r.status})`); return (await r.json()) as T; }).catch(() => get<T>(path, ac.signal)) : get<T>(path, ac.signal);
      prefetched = undefined;
      p.then(
        (data) => { if (live.current) setState({ data, loading: false }); },
        (error: Error) => { if (live.current && error.name !== 'AbortError') setState((s) => ({ data: s.data, error, loading: false })); },
      ).finally(() => { if (everyMs && live.current) timer = setTimeout(load, everyMs); });
    };
    setState((s) => ({ ...s, loading: true }));
    load();
    return () => { live.current = false; ac.abort(); clearTimeout(timer); };
    // `first` is used once, for the first load only.
  }, [path, everyMs, tick]);

  return { ...state, reload };
}

export function useHashRoute(): [string, URLSearchParams] {
  const read = () => {
    const h = location.hash.replace(/^#\/?/, '');
    const [page, q] = h.split('?');
    return [page || 'overview', new URLSearchParams(q ?? '')] as [string, URLSearchParams];
  };
  const [r, setR] = useState(read);
  useEffect(() => {
    const on = () => setR(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}

export function go(page: string, params: Record<string, string> = {}): void {
  const q = new URLSearchParams(params).toString();
  location.hash = `#/${page}${q ? `?${q}` : ''}`;
}
