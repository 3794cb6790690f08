// The terminal shared by the REPL and the master's own log lines. While the prompt waits for
// input, a log line is printed above it and the prompt (with what the operator has typed so
// far) is drawn again below, so logs never garble a half-typed command.
import type { Writable } from 'node:stream';
import { clearScreenDown, cursorTo, moveCursor, type Interface } from 'node:readline';
import PinoPretty from 'pino-pretty';
import pino from 'pino';
import type { Logger } from '../logger.js';

export class ReplConsole {
  private rl: Interface | undefined;
  private promptShown = false;

  constructor(readonly output: Writable & { isTTY?: boolean }) {}

  /** The REPL's readline (terminal mode) and whether its prompt is on screen. */
  attach(rl: Interface | undefined): void {
    this.rl = rl;
    this.promptShown = false;
  }

  setPromptShown(shown: boolean): void {
    this.promptShown = shown;
  }

  printAbove(text: string): void {
    const line = text.endsWith('\n') ? text : `${text}\n`;
    const rl = this.rl;
    if (!rl || !this.promptShown) {
      this.output.write(line);
      return;
    }
    const { rows } = rl.getCursorPos();
    if (rows > 0) moveCursor(this.output, 0, -rows);
    cursorTo(this.output, 0);
    clearScreenDown(this.output);
    this.output.write(line);
    rl.prompt(true);
  }
}

/**
 * The process logger while the REPL runs. On a terminal: pretty lines printed above the
 * prompt. Otherwise (piped stdin with --repl): JSON lines on stderr, so stdout carries only
 * what the REPL prints.
 */
export function createReplLogger(options: { level: string; console: ReplConsole; terminal: boolean; colour: boolean }): Logger {
  if (!options.terminal) return pino({ name: 'wharf-master', level: options.level }, pino.destination(2));
  const prettify = PinoPretty.prettyFactory({ colorize: options.colour, ignore: 'pid,hostname' });
  return pino(
    { name: 'wharf-master', level: options.level },
    { write: (line: string) => options.console.printAbove(prettify(line)) },
  );
}
