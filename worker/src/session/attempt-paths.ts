// Where an attempt's files live: <dataDir>/attempts/<attemptId>/{output,work,logs.spool}.
import path from 'node:path';
import type { AttemptPaths } from '../runtime/task-runtime.js';

const SAFE_ATTEMPT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Whether an attempt id can name a folder, a file and a container. */
export function isSafeAttemptId(attemptId: string): boolean {
  return SAFE_ATTEMPT_ID.test(attemptId);
}

export function attemptPaths(attemptsDir: string, attemptId: string): AttemptPaths {
  if (!isSafeAttemptId(attemptId)) throw new Error(`attempt id ${JSON.stringify(attemptId)} cannot name a folder`);
  const root = path.join(attemptsDir, attemptId);
  return { root, output: path.join(root, 'output'), work: path.join(root, 'work') };
}

export function spoolFileOf(paths: AttemptPaths): string {
  return path.join(paths.root, 'logs.spool');
}
