// Writes a followed log as the task wrote it: its stdout to our stdout, its stderr (and the
// master's own notes in the log) to our stderr, byte for byte, so `wharf run … > out.txt`
// captures exactly what the container printed. Our own notes (attempt markers, reconnects, how
// the task ended) go to stderr on a line of their own, dimmed on a terminal. While a prompt is
// on screen the output is held back and written after it.
import type { CommandContext } from '../command-context.js';
import type { LogChunk } from '../log-follower.js';

export class LogPrinter {
  private lastAttempt: string | undefined;
  private atLineStart = true;
  private held: LogChunk[] | undefined;

  constructor(
    private readonly ctx: CommandContext,
    /** notes only when stderr is a terminal (wharf run keeps a script's stderr to the task's own) */
    private readonly notesOnlyOnTerminal = false,
  ) {}

  chunk(chunk: LogChunk): void {
    if (this.held) {
      this.held.push(chunk);
      return;
    }
    if (this.lastAttempt !== undefined && chunk.attemptId !== this.lastAttempt) this.note(`--- attempt ${chunk.attempt} ---`);
    this.lastAttempt = chunk.attemptId;
    const out = chunk.stream === 'stdout' ? this.ctx.io.stdout : this.ctx.io.stderr;
    out.write(chunk.data);
    this.atLineStart = chunk.data.endsWith('\n');
  }

  /** A note of ours on stderr, on its own line. */
  note(text: string): void {
    if (this.notesOnlyOnTerminal && !this.ctx.io.stderr.isTTY) return;
    this.noteAlways(text);
  }

  /** A note that scripts need too (a failure's reason, a detach). */
  noteAlways(text: string): void {
    if (!this.atLineStart) this.ctx.io.stderr.write('\n');
    this.atLineStart = true;
    this.ctx.io.stderr.write(`${this.ctx.out.errStyle.dim(`wharf: ${text}`)}\n`);
  }

  /** Ends a last line the task left open (so the shell prompt starts on its own line). */
  finish(): void {
    if (!this.atLineStart && (this.ctx.io.stdout.isTTY || this.ctx.io.stderr.isTTY)) this.ctx.io.stderr.write('\n');
    this.atLineStart = true;
  }

  /** Holds output back (a prompt is on screen) until release(). */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const chunk of held) this.chunk(chunk);
  }
}
