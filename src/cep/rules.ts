/**
 * Rules in files: every `*.epl` in a directory is one source of statements. Files are validated on
 * load and watched: a saved edit replaces that file's statements atomically; an edit that does not
 * compile is reported and the previous version keeps running.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/index.ts';
import type { CepEngine } from './engine.ts';

export function ruleFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) throw new UserError(`rules directory ${dir} does not exist`);
  return fs.readdirSync(dir).filter((f) => f.endsWith('.epl')).sort().map((f) => path.join(dir, f));
}

/** Deploys every rule file of `dir`; throws the first file's error (nothing of that file is deployed). */
export async function loadRules(dir: string, engine: CepEngine): Promise<void> {
  for (const file of ruleFiles(dir)) engine.replaceSource(file, fs.readFileSync(file, 'utf8'));
}

export interface RuleEvent { file: string; ok: boolean; error?: string; statements?: string[] }

export function watchRules(dir: string, engine: CepEngine, onEvent?: (e: RuleEvent) => void): { close(): void } {
  const last = new Map<string, string>();
  for (const file of ruleFiles(dir)) last.set(file, fs.readFileSync(file, 'utf8'));
  const timers = new Map<string, NodeJS.Timeout>();
  const reload = (file: string) => {
    let text: string | undefined;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      text = undefined;
    }
    if (text === undefined) {
      if (last.has(file)) {
        last.delete(file);
        engine.removeSource(file);
        onEvent?.({ file, ok: true, statements: [] });
      }
      return;
    }
    if (last.get(file) === text) return;
    try {
      const statements = engine.replaceSource(file, text);
      last.set(file, text);
      onEvent?.({ file, ok: true, statements });
    } catch (err) {
      onEvent?.({ file, ok: false, error: (err as Error).message });
    }
  };
  const watcher = fs.watch(dir, (_event, name) => {
    if (!name || !String(name).endsWith('.epl')) return;
    const file = path.join(dir, String(name));
    // Editors write in several steps: settle for 50 ms before reading.
    clearTimeout(timers.get(file));
    timers.set(file, setTimeout(() => reload(file), 50));
  });
  // fs.watch can miss events on some filesystems: a slow poll catches up.
  const poll = setInterval(() => {
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.epl')) reload(path.join(dir, f));
    for (const f of [...last.keys()]) if (!fs.existsSync(f)) reload(f);
  }, 2000);
  poll.unref();
  return {
    close() {
      watcher.close();
      clearInterval(poll);
      for (const t of timers.values()) clearTimeout(t);
    },
  };
}
