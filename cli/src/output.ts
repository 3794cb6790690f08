// How the CLI prints: aligned tables with relative ages for people, `-o json` / `-o yaml` for
// scripts (the API's own records, untouched). Colour only when the stream is a terminal and
// NO_COLOR is unset (the same rule as the master's REPL, shared through @wharf/proto). Data
// goes to stdout; notes, hints and errors to stderr, so a pipe only sees the data.
import { colourWanted, createStyle, type Style } from '@wharf/proto/console-format';
import { stringify as toYaml } from 'yaml';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';

export type OutputFormat = 'table' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

export function parseOutputFormat(value: string | undefined, command: string): OutputFormat {
  if (value === undefined) return 'table';
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`-o takes ${OUTPUT_FORMATS.join(', ')} (got "${value}")`, command);
}

export class Output {
  /** styles for stdout and stderr, each coloured only on a terminal without NO_COLOR */
  readonly style: Style;
  readonly errStyle: Style;

  constructor(private readonly io: CliIo) {
    this.style = createStyle(colourWanted(io.stdout, io.env));
    this.errStyle = createStyle(colourWanted(io.stderr, io.env));
  }

  /** a line (or lines) of data on stdout */
  line(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** a note for the person on stderr (progress, hints, "saved …") */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** A record or a list: as JSON or YAML, or through `table` for people. */
  data(format: OutputFormat, value: unknown, table: () => string): void {
    if (format === 'json') this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else if (format === 'yaml') this.io.stdout.write(toYaml(value));
    else this.line(table());
  }
}
