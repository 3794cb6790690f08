// Reading from the person at the terminal: a line (echoed), a secret (not echoed), one key,
// and all of stdin for --password-stdin and `-f -`. Prompts go to stderr so stdout stays data.
import { createInterface } from 'node:readline';
import { Interrupted, UsageError } from './errors.js';
import type { CliIo } from './io.js';

export function isInteractive(io: CliIo): boolean {
  return Boolean(io.stdin.isTTY && io.stdin.setRawMode);
}

/** All of stdin as text (for --password-stdin, --token-stdin and `-f -`). */
export function readAllStdin(io: CliIo, limitBytes = 16 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > limitBytes) {
        cleanup();
        reject(new UsageError(`stdin: more than ${limitBytes} bytes`));
        return;
      }
      chunks.push(buffer);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      io.stdin.off('data', onData);
      io.stdin.off('end', onEnd);
      io.stdin.off('error', onError);
    };
    io.stdin.on('data', onData);
    io.stdin.once('end', onEnd);
    io.stdin.once('error', onError);
    io.stdin.resume();
  });
}

/** One echoed line from the terminal. */
export function askLine(io: CliIo, question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
    let answered = false;
    rl.on('SIGINT', () => {
      rl.close();
      io.stderr.write('\n');
      reject(new Interrupted());
    });
    rl.on('close', () => {
      if (!answered) reject(new Interrupted());
    });
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer.trim());
    });
  });
}

/** Reads keys in raw mode until `onKey` answers a result (or `signal` aborts: then `onAbort`). */
function rawKeys<T>(io: CliIo, onKey: (key: string) => { done: T } | undefined, abort?: { signal: AbortSignal; answer: T }): Promise<T> {
  const stdin = io.stdin;
  return new Promise<T>((resolve, reject) => {
    let finished = false;
    const finish = (result: { done: T } | Error) => {
      if (finished) return;
      finished = true;
      stdin.off('data', onData);
      abort?.signal.removeEventListener('abort', onAbort);
      stdin.setRawMode?.(false);
      stdin.pause();
      if (result instanceof Error) reject(result);
      else resolve(result.done);
    };
    const onAbort = () => finish({ done: abort!.answer });
    if (abort?.signal.aborted) {
      resolve(abort.answer);
      return;
    }
    abort?.signal.addEventListener('abort', onAbort, { once: true });
    const onData = (chunk: Buffer | string) => {
      for (const key of String(chunk)) {
        const result = onKey(key);
        if (result) {
          finish(result);
          return;
        }
      }
    };
    stdin.setRawMode?.(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** A secret from the terminal, not echoed (backspace and Ctrl-U edit; Ctrl-C interrupts). */
export async function askSecret(io: CliIo, question: string): Promise<string> {
  io.stderr.write(question);
  let value = '';
  let interrupted = false;
  const answer = await rawKeys<string | undefined>(io, (key) => {
    if (key === '\r' || key === '\n' || key === '\x04') return { done: value };
    if (key === '\x03') {
      interrupted = true;
      return { done: undefined };
    }
    if (key === '\x7f' || key === '\b') value = [...value].slice(0, -1).join('');
    else if (key === '\x15') value = '';
    else if (key >= ' ') value += key;
    return undefined;
  });
  io.stderr.write('\n');
  if (interrupted || answer === undefined) throw new Interrupted();
  return answer;
}

/**
 * One key among `keys` (lower-cased); Ctrl-C answers '\x03', other keys answer `other`, and so
 * does an abort of `signal` (the question no longer matters).
 */
export function askKey(io: CliIo, question: string, keys: readonly string[], other: string, signal?: AbortSignal): Promise<string> {
  io.stderr.write(question);
  return rawKeys(
    io,
    (key) => {
      const lower = key.toLowerCase();
      if (key === '\x03') return { done: '\x03' };
      return { done: keys.includes(lower) ? lower : other };
    },
    signal ? { signal, answer: other } : undefined,
  ).then((key) => {
    io.stderr.write('\n');
    return key;
  });
}
