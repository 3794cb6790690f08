// The lines of a task's log as they arrive over /ws/tasks/:id/logs. Chunks are whole lines
// normally, but a long line may come in pieces: a piece without a trailing newline stays open
// and the next chunk of the same attempt and stream continues it. Kept outside React state so
// 100,000 lines cost one array, not one copy per chunk.
//
// Every attempt (the first included) starts with a separator row. Each line gets its number
// within its attempt when its newline arrives, as the master numbers them for search
// (GET /api/tasks/:id/logs?grep=…), so a match (attempt, n) finds its row (rowOf).
import type { LogStream } from '../api/types.ts';

export interface LogLine {
  stream: LogStream;
  text: string;
  attempt: number;
  /** the line's number within its attempt; 0 for a separator or a line still open */
  n: number;
  /** when the worker read the chunk the line began in (ISO); absent: not known */
  ts?: string | undefined;
  /** the row that starts an attempt */
  separator?: true;
}

export class LogBuffer {
  readonly lines: LogLine[] = [];
  private readonly open = new Map<string, number>();
  private lastAttempt: number | undefined;
  /** per attempt: the row of line n at [n - 1] */
  private readonly rows = new Map<number, number[]>();

  get length(): number {
    return this.lines.length;
  }

  /** The attempts seen, in order. */
  get attempts(): number[] {
    return [...this.rows.keys()];
  }

  reset(): void {
    this.lines.length = 0;
    this.open.clear();
    this.rows.clear();
    this.lastAttempt = undefined;
  }

  /** The row of line `n` of `attempt`, or undefined when it has not arrived. */
  rowOf(attempt: number, n: number): number | undefined {
    return this.rows.get(attempt)?.[n - 1];
  }

  append(attemptId: string, attempt: number, stream: LogStream, data: string, ts?: string): void {
    if (data === '') return;
    if (attempt !== this.lastAttempt) {
      this.lines.push({ stream: 'system', text: `attempt ${attempt}`, attempt, n: 0, separator: true });
      if (!this.rows.has(attempt)) this.rows.set(attempt, []);
    }
    this.lastAttempt = attempt;
    const numbered = this.rows.get(attempt)!;
    const key = `${attemptId}\u0000${stream}`;
    const parts = data.split('\n');
    const endsOpen = parts[parts.length - 1] !== '';
    if (!endsOpen) parts.pop();
    parts.forEach((part, index) => {
      const text = part.endsWith('\r') ? part.slice(0, -1) : part;
      const openIndex = index === 0 ? this.open.get(key) : undefined;
      let row = openIndex;
      const line = openIndex === undefined ? undefined : this.lines[openIndex];
      if (line) line.text += text;
      else {
        this.lines.push({ stream, text, attempt, n: 0, ...(ts ? { ts } : {}) });
        row = this.lines.length - 1;
      }
      const closes = index < parts.length - 1 || !endsOpen;
      if (closes) {
        numbered.push(row!);
        this.lines[row!]!.n = numbered.length;
      }
    });
    if (endsOpen) this.open.set(key, this.lines.length - 1);
    else this.open.delete(key);
  }
}
