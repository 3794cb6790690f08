// A new DAG run from a file typed or pasted into the editor. The text is what is sent (YAML as
// application/yaml, a text starting with `{` as JSON); the "Use cache" switch reads and rewrites
// the file's top-level `useCache` line, so the switch and the file never disagree. The master
// validates the file; its refusal is shown under the editor with the lines it is about marked.
import { useId, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { ApiError } from '../api/client.ts';
import { errorLines, EXAMPLE_DAG, readUseCache, setUseCache } from '../api/dag-file.ts';
import type { DagSummary, DagWarning } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';
import { CodeEditor } from '../components/code-editor.tsx';

interface Refusal {
  message: string;
  lines: number[];
}

export function DagEditorPage() {
  const { api } = useAuth();
  const navigate = useNavigate();
  const id = useId();
  const [text, setText] = useState(EXAMPLE_DAG);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const useCache = readUseCache(text);

  const edit = (next: string) => {
    setText(next);
    setNote(null);
  };

  const toggleCache = (on: boolean) => {
    const next = setUseCache(text, on);
    if (next === undefined) setNote('The file is not valid JSON, so useCache cannot be set here: fix the file or edit the key by hand.');
    else edit(next);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (text.trim() === '') {
      setRefusal({ message: 'The file is empty: write a DAG (dagName and tasks) or reset to the example.', lines: [] });
      return;
    }
    setBusy(true);
    setRefusal(null);
    try {
      const json = text.trimStart().startsWith('{');
      const answer = await api.postText<{ dag: DagSummary; warnings?: DagWarning[] }>('/api/dags', text, json ? 'application/json' : 'application/yaml');
      // the run's page shows the fields the master ignored (another engine's, e.g. apiVersion)
      navigate(`/dags/${encodeURIComponent(answer.dag.id)}`, { state: { warnings: answer.warnings ?? [] } });
    } catch (failure: unknown) {
      const message = failure instanceof Error ? failure.message : String(failure);
      const prefix = failure instanceof ApiError && failure.status === 403 ? 'Not allowed: ' : '';
      setRefusal({ message: `${prefix}${message}`, lines: errorLines(message, text) });
    } finally {
      setBusy(false);
    }
  };

  const goToLine = (line: number) => {
    const area = document.getElementById(`${id}-file`) as HTMLTextAreaElement | null;
    if (!area) return;
    const lines = text.split('\n');
    const start = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
    area.scrollTop = Math.max(0, (line - 4) * 20);
  };

  return (
    <section className="page">
      <p className="crumbs">
        <Link to="/dags">DAGs</Link> / New run
      </p>
      <h1>New DAG run</h1>
      <form className="dag-form" onSubmit={submit} noValidate>
        <div className="card">
          <div className={`field${refusal ? ' field-invalid' : ''}`}>
            <label htmlFor={`${id}-file`}>DAG file (YAML or JSON)</label>
            <CodeEditor
              id={`${id}-file`}
              name="dag"
              value={text}
              onChange={edit}
              markedLines={refusal?.lines ?? []}
              rows={Math.min(30, Math.max(12, text.split('\n').length + 1))}
              aria-invalid={Boolean(refusal)}
              aria-describedby={`${refusal ? `${id}-error ` : ''}${id}-hint`}
            />
            <div className="field-hint" id={`${id}-hint`}>
              Tasks take the fields of a single task plus <code>depends_on</code>, <code>inputs</code> and <code>outputs</code>; the format is in docs/DAGS.md.
            </div>
            {refusal ? (
              <div className="field-error dag-error" id={`${id}-error`} role="alert" data-lines={refusal.lines.join(',')}>
                {refusal.lines.length ? (
                  <span className="dag-error-lines">
                    {refusal.lines.map((line, i) => (
                      <span key={line}>
                        <button type="button" className="link" onClick={() => goToLine(line)}>
                          line {line}
                        </button>
                        {i < refusal.lines.length - 1 ? ', ' : ':'}
                      </span>
                    ))}
                  </span>
                ) : null}
                <span className="dag-error-text">{refusal.message}</span>
              </div>
            ) : null}
          </div>
          <div className="dag-form-options">
            <label className="check">
              <input type="checkbox" name="useCache" checked={useCache !== false} onChange={(e) => toggleCache(e.target.checked)} />
              Use cache
            </label>
            <span className="muted small">
              {useCache === null
                ? 'useCache in the file is neither true nor false: the master will refuse it.'
                : useCache === false
                  ? 'Off: every input is downloaded, nothing is read from or written to worker caches.'
                  : 'On: workers reuse inputs they already hold (useCache: true).'}
            </span>
          </div>
          {note ? (
            <p className="notice" role="status">
              {note}
            </p>
          ) : null}
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Starting…' : 'Start run'}
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => {
              edit(EXAMPLE_DAG);
              setRefusal(null);
            }}
          >
            Reset to example
          </button>
          <Link to="/dags" className="btn btn-ghost">
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}
