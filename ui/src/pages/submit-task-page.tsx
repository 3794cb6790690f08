// Submit a task. The form checks what the API checks (api/task-form.ts) and shows each problem
// at its field; when the API still refuses, its own message goes to the field it names, which is
// scrolled into view and focused. "Will it fit?" asks the master (POST /api/tasks/fit) whether
// the task would be placed now, where, and why not on each other worker.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { ApiError, fieldErrors } from '../api/client.ts';
import { buildSubmission, emptyTaskForm, formFieldOf, formFromTask, type TaskField, type TaskForm } from '../api/task-form.ts';
import type { FitAnswer, Task } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';
import { Field } from '../components/field.tsx';
import { PairsEditor } from '../components/pairs-editor.tsx';

type Errors = Partial<Record<TaskField | 'form', string>>;

/** The field errors of an API refusal, by form field (what no field takes goes to `form`). */
function errorsOf(failure: unknown, runtime: TaskForm['runtime']): Errors {
  if (failure instanceof ApiError && failure.code === 'validation_failed') {
    const { fields, rest } = fieldErrors(failure.message);
    const next: Errors = {};
    for (const [path, message] of Object.entries(fields)) {
      const field = formFieldOf(path);
      if (field) next[field] = next[field] ? `${next[field]}; ${message}` : path === field ? message : `${path.slice(field.length + 1)}: ${message}`;
      else rest.push(`${path}: ${message}`);
    }
    if (rest.length) next.form = rest.join('; ');
    return next;
  }
  const field = failure instanceof ApiError && failure.code === 'forbidden' && runtime === 'exec' ? 'runtime' : 'form';
  return { [field]: failure instanceof Error ? failure.message : String(failure) };
}

/** The answer of "Will it fit?", per worker. */
function FitPanel({ fit }: { fit: FitAnswer }) {
  const chosen = fit.workers.find((w) => w.id === fit.workerId);
  return (
    <div className={`fit-panel notice ${fit.fits ? 'fit-yes' : 'fit-no'}`} role="status" data-testid="fit-answer">
      <p className="fit-verdict">
        {fit.fits
          ? `It fits now: the next scheduling pass would start it on ${chosen?.name ?? fit.workerId}.`
          : fit.workers.length === 0
            ? 'It does not fit now: no worker is connected.'
            : 'It does not fit now.'}
      </p>
      {fit.queue.reasons.length > 0 ? (
        <p className="small">
          Queue {fit.queue.name}: {fit.queue.reasons.join('; ')}
        </p>
      ) : null}
      {fit.workers.length > 0 ? (
        <ul className="fit-workers small">
          {fit.workers.map((w) => (
            <li key={w.id} className={w.fits ? 'fit-worker-yes' : 'fit-worker-no'}>
              <strong title={w.id}>{w.name}</strong>: {w.fits ? 'could take it' : w.reasons.join('; ')}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function SubmitTaskPage() {
  const { api, user } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: Task } | null)?.from;
  const [form, setForm] = useState<TaskForm>(() => (from ? formFromTask(from) : emptyTaskForm()));
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [fit, setFit] = useState<FitAnswer | null>(null);
  const [checking, setChecking] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  /** set when new errors should take the focus (after a submit or a check, not while typing) */
  const focusError = useRef(false);
  useEffect(() => {
    if (!focusError.current) return;
    focusError.current = false;
    const target =
      formRef.current?.querySelector<HTMLElement>('.field-invalid input, .field-invalid textarea, .field-invalid select') ??
      formRef.current?.querySelector<HTMLElement>('.form-error');
    if (!target) return;
    target.scrollIntoView?.({ block: 'center' });
    if (target.classList.contains('form-error')) target.setAttribute('tabindex', '-1');
    target.focus();
  }, [errors]);
  const showErrors = (next: Errors) => {
    focusError.current = Object.keys(next).length > 0;
    setErrors(next);
  };
  const set = <K extends keyof TaskForm>(key: K, value: TaskForm[K]) => setForm((f) => ({ ...f, [key]: value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const { submission, errors: local } = buildSubmission(form);
    showErrors(local);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      const answer = await api.post<{ task: Task }>('/api/tasks', submission);
      navigate(`/tasks/${encodeURIComponent(answer.task.id)}`);
    } catch (failure: unknown) {
      showErrors(errorsOf(failure, form.runtime));
    } finally {
      setBusy(false);
    }
  };

  const checkFit = async () => {
    const { submission, errors: local } = buildSubmission(form);
    showErrors(local);
    setFit(null);
    if (Object.keys(local).length > 0) return;
    setChecking(true);
    try {
      setFit(await api.post<FitAnswer>('/api/tasks/fit', submission));
    } catch (failure: unknown) {
      showErrors(errorsOf(failure, form.runtime));
    } finally {
      setChecking(false);
    }
  };

  return (
    <section className="page">
      <p className="crumbs">
        <Link to="/tasks">Tasks</Link> / Submit
      </p>
      <h1>Submit a task</h1>
      {from ? <p className="muted">Filled in from task {from.name} ({from.id}).</p> : null}
      <form ref={formRef} className="task-form" onSubmit={submit} noValidate>
        {errors.form ? (
          <p className="form-error" role="alert">
            {errors.form}
          </p>
        ) : null}
        <div className="card form-section">
          <h2 className="card-title">What to run</h2>
          <div className="form-grid">
            <Field label="Image" error={errors.image} hint="A Docker image reference, e.g. wharf/busybox or alpine:3.20.">
              {(p) => <input {...p} name="image" className="mono" value={form.image} onChange={(e) => set('image', e.target.value)} placeholder="wharf/busybox" />}
            </Field>
            <Field label="Name" error={errors.name} hint="Defaults to the image's name.">
              {(p) => <input {...p} name="name" value={form.name} onChange={(e) => set('name', e.target.value)} />}
            </Field>
            <Field label="Runtime" error={errors.runtime} hint={user?.role === 'admin' ? 'exec runs a host process.' : 'exec (host process) is for admins.'}>
              {(p) => (
                <select {...p} name="runtime" value={form.runtime} onChange={(e) => set('runtime', e.target.value as TaskForm['runtime'])}>
                  <option value="docker">docker</option>
                  <option value="exec">exec</option>
                </select>
              )}
            </Field>
            <Field label="Command is" hint={form.commandMode === 'shell' ? 'Run with sh -c.' : 'One argument per line (argv).'}>
              {(p) => (
                <select {...p} name="commandMode" value={form.commandMode} onChange={(e) => set('commandMode', e.target.value as TaskForm['commandMode'])}>
                  <option value="shell">a shell command</option>
                  <option value="argv">an argument list</option>
                </select>
              )}
            </Field>
          </div>
          <Field label="Command" error={errors.command} hint="Empty: the image's own command. Files written to /output are kept.">
            {(p) => (
              <textarea
                {...p}
                name="command"
                className="mono"
                rows={4}
                value={form.command}
                onChange={(e) => set('command', e.target.value)}
                placeholder={form.commandMode === 'shell' ? 'echo hello; date > /output/when.txt' : 'echo\nhello'}
              />
            )}
          </Field>
        </div>

        <div className="card form-section">
          <h2 className="card-title">Resources</h2>
          <div className="form-grid form-grid-4">
            <Field label="CPU" error={errors['resources.cpu']}>
              {(p) => (
                <div className="with-unit">
                  <input {...p} name="cpu" inputMode="decimal" value={form.cpu} onChange={(e) => set('cpu', e.target.value)} />
                  <select aria-label="CPU unit" value={form.cpuUnit} onChange={(e) => set('cpuUnit', e.target.value as TaskForm['cpuUnit'])}>
                    <option value="cores">cores</option>
                    <option value="millicores">millicores</option>
                  </select>
                </div>
              )}
            </Field>
            <Field label="Memory" error={errors['resources.memory']}>
              {(p) => (
                <div className="with-unit">
                  <input {...p} name="memory" inputMode="decimal" value={form.memory} onChange={(e) => set('memory', e.target.value)} />
                  <select aria-label="Memory unit" value={form.memoryUnit} onChange={(e) => set('memoryUnit', e.target.value as TaskForm['memoryUnit'])}>
                    <option value="Mi">MiB</option>
                    <option value="Gi">GiB</option>
                  </select>
                </div>
              )}
            </Field>
            <Field label="GPUs" error={errors['resources.gpu']}>
              {(p) => <input {...p} name="gpu" inputMode="numeric" value={form.gpu} onChange={(e) => set('gpu', e.target.value)} />}
            </Field>
            <Field label="Disk" error={errors['resources.disk']} hint="Empty: none reserved.">
              {(p) => (
                <div className="with-unit">
                  <input {...p} name="disk" inputMode="decimal" value={form.disk} onChange={(e) => set('disk', e.target.value)} />
                  <select aria-label="Disk unit" value={form.diskUnit} onChange={(e) => set('diskUnit', e.target.value as TaskForm['diskUnit'])}>
                    <option value="Mi">MiB</option>
                    <option value="Gi">GiB</option>
                  </select>
                </div>
              )}
            </Field>
          </div>
        </div>

        <div className="card form-section">
          <h2 className="card-title">Scheduling</h2>
          <div className="form-grid form-grid-3">
            <Field label="Priority" error={errors.priority} hint="0–100, higher runs first.">
              {(p) => <input {...p} name="priority" inputMode="numeric" value={form.priority} onChange={(e) => set('priority', e.target.value)} />}
            </Field>
            <Field label="Retries" error={errors.maxRetries} hint="After a non-zero exit or a timeout (0–100).">
              {(p) => <input {...p} name="maxRetries" inputMode="numeric" value={form.maxRetries} onChange={(e) => set('maxRetries', e.target.value)} />}
            </Field>
            <Field label="Timeout (seconds)" error={errors.timeoutSeconds} hint="0 = none.">
              {(p) => <input {...p} name="timeoutSeconds" inputMode="numeric" value={form.timeoutSeconds} onChange={(e) => set('timeoutSeconds', e.target.value)} />}
            </Field>
          </div>
          <div className="form-grid form-grid-3">
            <Field label="First retry after (seconds)" error={errors.retryPolicy} hint="Empty: the master's default.">
              {(p) => <input {...p} name="backoffSeconds" inputMode="decimal" value={form.backoffSeconds} onChange={(e) => set('backoffSeconds', e.target.value)} />}
            </Field>
            <Field label="Backoff multiplier" hint="1–10; each retry waits this much longer (default 2).">
              {(p) => <input {...p} name="backoffMultiplier" inputMode="decimal" value={form.backoffMultiplier} onChange={(e) => set('backoffMultiplier', e.target.value)} />}
            </Field>
            <Field label="Longest wait (seconds)" hint="The cap on a retry's wait.">
              {(p) => <input {...p} name="maxBackoffSeconds" inputMode="decimal" value={form.maxBackoffSeconds} onChange={(e) => set('maxBackoffSeconds', e.target.value)} />}
            </Field>
            <Field label="Retry only on exit codes" hint="e.g. 75, 137; empty: every failure is retried.">
              {(p) => <input {...p} name="retryOnExitCodes" value={form.retryOnExitCodes} onChange={(e) => set('retryOnExitCodes', e.target.value)} />}
            </Field>
            <Field label="Start deadline" error={errors.startDeadline} hint="Fail if not running by then: +10m, +2h or 2030-01-01T12:00:00Z.">
              {(p) => <input {...p} name="startDeadline" value={form.startDeadline} onChange={(e) => set('startDeadline', e.target.value)} />}
            </Field>
            <Field label="Deadline" error={errors.deadline} hint="Stop it and fail if not ended by then.">
              {(p) => <input {...p} name="deadline" value={form.deadline} onChange={(e) => set('deadline', e.target.value)} />}
            </Field>
          </div>
          <div className="grid-2">
            <PairsEditor legend="Environment" name="env" rows={form.env} onChange={(rows) => set('env', rows)} keyPlaceholder="NAME" error={errors.env} />
            <PairsEditor
              legend="Labels the worker must carry"
              name="labels"
              rows={form.labels}
              onChange={(rows) => set('labels', rows)}
              keyPlaceholder="zone"
              error={errors.labels}
            />
          </div>
        </div>

        {fit ? <FitPanel fit={fit} /> : null}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Submitting…' : 'Submit task'}
          </button>
          <button type="button" className="btn" disabled={checking} onClick={() => void checkFit()}>
            {checking ? 'Checking…' : 'Will it fit?'}
          </button>
          <Link to="/tasks" className="btn btn-ghost">
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}
