// What the CLI touches of its process, passed in explicitly so the commands can be driven by
// tests with other streams, another environment and another clock (cli.ts builds the real one).
import type { Readable, Writable } from 'node:stream';

export type Signal = 'SIGINT' | 'SIGTERM';

export interface CliInput extends Readable {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface CliOutput extends Writable {
  isTTY?: boolean;
}

export interface CliIo {
  stdin: CliInput;
  stdout: CliOutput;
  stderr: CliOutput;
  env: NodeJS.ProcessEnv;
  cwd: string;
  homedir: string;
  now(): number;
  /** Handles Ctrl-C (SIGINT) and SIGTERM while registered; answers the function that unregisters. */
  onSignal(handler: (signal: Signal) => void): () => void;
}
