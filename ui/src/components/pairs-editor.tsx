// Rows of key = value (environment variables, labels) with add and remove.
import type { KeyValue } from '../api/task-form.ts';

export function PairsEditor({
  legend,
  rows,
  onChange,
  keyPlaceholder,
  error,
  name,
}: {
  legend: string;
  rows: KeyValue[];
  onChange: (rows: KeyValue[]) => void;
  keyPlaceholder: string;
  error?: string | undefined;
  name: string;
}) {
  const update = (index: number, patch: Partial<KeyValue>) => onChange(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  return (
    <fieldset className={`pairs${error ? ' field-invalid' : ''}`} aria-describedby={error ? `${name}-error` : undefined}>
      <legend>{legend}</legend>
      {rows.length === 0 ? <p className="muted small">None.</p> : null}
      {rows.map((row, index) => (
        <div className="pair" key={index}>
          <input
            aria-label={`${legend} ${index + 1} name`}
            placeholder={keyPlaceholder}
            value={row.key}
            onChange={(e) => update(index, { key: e.target.value })}
            className="mono"
          />
          <span aria-hidden="true">=</span>
          <input aria-label={`${legend} ${index + 1} value`} placeholder="value" value={row.value} onChange={(e) => update(index, { value: e.target.value })} />
          <button type="button" className="btn btn-small btn-ghost" aria-label={`Remove ${legend.toLowerCase()} ${index + 1}`} onClick={() => onChange(rows.filter((_, i) => i !== index))}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" className="btn btn-small" onClick={() => onChange([...rows, { key: '', value: '' }])}>
        Add {name === 'env' ? 'variable' : 'label'}
      </button>
      {error ? (
        <div className="field-error" id={`${name}-error`} role="alert">
          {error}
        </div>
      ) : null}
    </fieldset>
  );
}
