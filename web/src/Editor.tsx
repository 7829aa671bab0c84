// CodeMirror 6 for SQL (with table and column completion) and EPL (errors marked at line and column),
// loaded only when an editor is shown.
import { useEffect, useRef } from 'react';
import { EditorState, type Extension } from '@codemirror/state';
import { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection, placeholder as ph } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { autocompletion, completionKeymap, closeBrackets } from '@codemirror/autocomplete';
import { bracketMatching, syntaxHighlighting, defaultHighlightStyle } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { sql, PostgreSQL } from '@codemirror/lang-sql';

export interface EditorError { line: number; column: number; message: string }

export interface EditorProps {
  value: string;
  onChange?: (v: string) => void;
  language?: 'sql' | 'epl';
  schema?: Record<string, string[]>;
  error?: EditorError | null;
  onRun?: () => void;
  placeholder?: string;
  minHeight?: number;
  testId?: string;
}

export default function Editor({ value, onChange, language = 'sql', schema, error, onRun, placeholder, minHeight = 80, testId }: EditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const cb = useRef({ onChange, onRun, error });
  cb.current = { onChange, onRun, error };

  useEffect(() => {
    if (!host.current) return;
    const exts: Extension[] = [
      lineNumbers(), history(), drawSelection(), highlightActiveLine(), bracketMatching(), closeBrackets(),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      keymap.of([{ key: 'Mod-Enter', run: () => { cb.current.onRun?.(); return true; } }, { key: 'Shift-Enter', run: () => { cb.current.onRun?.(); return true; } }, ...defaultKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
      EditorView.updateListener.of((u) => { if (u.docChanged) cb.current.onChange?.(u.state.doc.toString()); }),
      EditorView.theme({ '&': { minHeight: `${minHeight}px` }, '.cm-scroller': { fontFamily: 'var(--mono)' } }),
      lintGutter(),
    ];
    if (placeholder) exts.push(ph(placeholder));
    if (language === 'sql') exts.push(sql({ dialect: PostgreSQL, schema: schema ?? {}, upperCaseKeywords: false }), autocompletion());
    view.current = new EditorView({ state: EditorState.create({ doc: value, extensions: exts }), parent: host.current });
    return () => { view.current?.destroy(); view.current = null; };
    // The editor is created once per schema; value changes from outside are applied below.
  }, [language, JSON.stringify(schema ?? {})]);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);

  useEffect(() => {
    // The server's check decides the markers: the error's token, from its line and column.
    const v = view.current;
    if (!v) return;
    const diags: Diagnostic[] = [];
    if (error) {
      const line = v.state.doc.line(Math.min(Math.max(1, error.line), v.state.doc.lines));
      const from = Math.min(line.from + Math.max(0, error.column - 1), line.to);
      const word = /^\w+/.exec(v.state.doc.sliceString(from, line.to))?.[0].length ?? 1;
      diags.push({ from, to: Math.min(line.to, from + Math.max(1, word)), severity: 'error', message: error.message });
    }
    v.dispatch(setDiagnostics(v.state, diags));
  }, [error, value]);

  return <div ref={host} className="editor" data-testid={testId} />;
}
