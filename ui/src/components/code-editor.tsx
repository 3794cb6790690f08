// A plain textarea for a DAG file with line numbers and marked lines (where the API's refusal
// points). Lines do not wrap, so row N of the textarea is line N of the file; the gutter and the
// marks follow the textarea's scroll. Tab is left to move focus (no keyboard trap).
import { useState, type TextareaHTMLAttributes } from 'react';

const LINE_HEIGHT = 20;

export function CodeEditor({
  value,
  onChange,
  markedLines = [],
  rows = 18,
  ...rest
}: {
  value: string;
  onChange: (value: string) => void;
  markedLines?: readonly number[];
  rows?: number;
} & Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'value' | 'onChange' | 'rows'>) {
  const [scroll, setScroll] = useState({ top: 0 });
  const count = value.split('\n').length;
  const marked = new Set(markedLines);
  const height = rows * LINE_HEIGHT + 18;
  return (
    <div className="code-editor" style={{ height }} data-marked={[...marked].join(',')}>
      <div className="code-gutter" aria-hidden="true">
        <div style={{ transform: `translateY(${-scroll.top}px)` }}>
          {Array.from({ length: count }, (_, i) => (
            <div key={i} className={marked.has(i + 1) ? 'code-line-no code-marked' : 'code-line-no'}>
              {i + 1}
            </div>
          ))}
        </div>
      </div>
      <div className="code-body">
        <div className="code-marks" aria-hidden="true" style={{ transform: `translateY(${-scroll.top}px)` }}>
          {[...marked].map((line) => (
            <div key={line} className="code-mark" style={{ top: (line - 1) * LINE_HEIGHT }} />
          ))}
        </div>
        <textarea
          {...rest}
          className="code-text"
          value={value}
          wrap="off"
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          onChange={(e) => onChange(e.target.value)}
          onScroll={(e) => setScroll({ top: e.currentTarget.scrollTop })}
        />
      </div>
    </div>
  );
}
