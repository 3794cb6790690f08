#!/usr/bin/env node
// Entry point of `wharf`, the command-line client of a Wharf master: the real process as the
// CLI's io (run-cli.ts does everything else), and an exit once stdout and stderr are flushed.
import { homedir } from 'node:os';
import type { CliIo, Signal } from './io.js';
import { runCli } from './run-cli.js';

const handlers = new Set<(signal: Signal) => void>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // no command is listening: stop as the signal would have
    if (handlers.size === 0) process.exit(signal === 'SIGINT' ? 130 : 143);
    for (const handler of [...handlers]) handler(signal);
  });
}

const io: CliIo = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  homedir: homedir(),
  now: () => Date.now(),
  onSignal(handler) {
    handlers.add(handler);
    return () => handlers.delete(handler);
  },
};

// a reader that went away (`wharf logs x | head`) is not an error
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

const code = await runCli(process.argv.slice(2), io);
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
