// The lines of a task's log as they arrive over /ws/tasks/:id/logs. Chunks are whole lines
// normally, but a long line may come in pieces: a piece without a trailing newline stays open
// and the next chunk of the same attempt and stream continues it. Kept outside React state so
// 100,000 lines cost one array, not one copy per chunk.
import type { LogStream } from '../api/types.ts';

export interface LogLine {
  stream: LogStream;
  text: string;
  attempt: number;
}

export class LogBuffer {
  readonly lines: LogLine[] = [];
  private readonly open = new Map<string, number>();
  private lastAttempt: number | undefined;

  get length(): number {
    return this.lines.length;
  }

  reset(): void {
    this.lines.length = 0;
    this.open.clear();
    this.lastAttempt = undefined;
  }

  append(attemptId: string, attempt: number, stream: LogStream, data: string): void {
    if (data === '') return;
    if (attempt !== this.lastAttempt && (this.lastAttempt !== undefined || attempt > 1)) {
      this.lines.push({ stream: 'system', text: `--- attempt ${attempt} ---`, attempt });
    }
    this.lastAttempt = attempt;
    const key = `${attemptId}\u0000${stream}`;
    const parts = data.split('\n');
    const endsOpen = parts[parts.length - 1] !== '';
    if (!endsOpen) parts.pop();
    parts.forEach((part, index) => {
      const text = part.endsWith('\r') ? part.slice(0, -1) : part;
      const openIndex = index === 0 ? this.open.get(key) : undefined;
      const line = openIndex === undefined ? undefined : this.lines[openIndex];
      if (line) line.text += text;
      else this.lines.push({ stream, text, attempt });
    });
    if (endsOpen) this.open.set(key, this.lines.length - 1);
    else this.open.delete(key);
  }
}
