// A task's log as lines (search, stream and attempt filters, paging) and as a raw download.
// `GET /api/tasks/:id/logs` answers the plain text (optionally followed) without these query
// parameters, and JSON lines with any of them (routes.ts chooses); `GET .../logs/raw` downloads.
// Both read the stored files a piece at a time (logs/log-lines.ts), never a whole log in memory.
import type { Response } from 'express';
import { RE2JS } from 're2js';
import { z } from 'zod';
import { WharfError } from '../errors.js';
import { rawBytes, scanLines, type LineScanResult } from '../logs/log-lines.js';
import type { LogStore } from '../logs/log-store.js';
import { describeIssues } from '../tasks/task-input.js';

/** A search pattern longer than this is refused (400 naming grep). */
export const MAX_GREP_LENGTH = 500;
/** One request scans for at most this long, then answers what it found and where to go on. */
export const SCAN_BUDGET_MS = 2000;
export const MAX_LINES_PER_PAGE = 5000;

const flag = z.enum(['0', '1', 'true', 'false'], 'must be 1 or 0').optional();

export const logLinesQuery = z.object({
  grep: z
    .string('must be one piece of text')
    .min(1, 'must not be empty')
    .max(MAX_GREP_LENGTH, `must be at most ${MAX_GREP_LENGTH} characters`)
    .optional()
    .describe('answer only lines containing this text (a regular expression with regex=1)'),
  regex: flag.describe('grep is a regular expression (RE2 syntax: linear time, no backreferences or lookaround)'),
  ignoreCase: flag.describe('grep ignores upper and lower case'),
  stream: z.enum(['stdout', 'stderr', 'system'], 'must be stdout, stderr or system').optional().describe("only this stream's lines (system: the master's notes)"),
  attempt: z
    .string()
    .regex(/^(all|[1-9][0-9]{0,5})$/, 'must be an attempt number or all')
    .optional()
    .describe('one attempt by its number, or all (default)'),
  after: z
    .string()
    .regex(/^[0-9]{1,9}:[0-9]{1,12}$/, 'must be the next value of a previous answer (attempt:line)')
    .optional()
    .describe('start after this line: the `next` of the previous page'),
  limit: z.coerce.number('must be a number').int('must be a whole number').min(1, 'must be at least 1').max(MAX_LINES_PER_PAGE, `must be at most ${MAX_LINES_PER_PAGE}`).optional().describe(`lines per page (default 1000, at most ${MAX_LINES_PER_PAGE})`),
  format: z.enum(['lines'], 'must be lines').optional().describe('lines: answer JSON lines even without another of these parameters'),
});

export const rawLogQuery = z.object({
  attempt: logLinesQuery.shape.attempt,
});

/** The query parameters that make GET /api/tasks/:id/logs answer JSON lines instead of text. */
const LINE_PARAMETERS = ['grep', 'regex', 'ignoreCase', 'stream', 'attempt', 'after', 'limit', 'format'] as const;

export function wantsLines(query: Record<string, unknown>): boolean {
  return LINE_PARAMETERS.some((name) => query[name] !== undefined);
}

interface TaskAttempts {
  id: string;
  attempts: readonly { id: string; number: number; workerId: string }[];
}

const isOn = (value: string | undefined): boolean => value === '1' || value === 'true';

/** Which attempts a query names (all by default); 400 naming `attempt` for one the task does not have. */
function chosenAttempts(task: TaskAttempts, attempt: string | undefined): TaskAttempts['attempts'] {
  if (attempt === undefined || attempt === 'all') return task.attempts;
  const number = Number(attempt);
  const found = task.attempts.filter((a) => a.number === number);
  if (found.length === 0) {
    const range = task.attempts.length === 0 ? 'no attempt yet' : `attempts 1 to ${Math.max(...task.attempts.map((a) => a.number))}`;
    throw new WharfError('validation_failed', `attempt: the task has no attempt ${number} (it has ${range})`);
  }
  return found;
}

/** The line test a query asks for; 400 naming `grep` for a pattern RE2 cannot take. */
function lineMatcher(grep: string | undefined, regex: boolean, ignoreCase: boolean): ((text: string) => boolean) | undefined {
  if (grep === undefined) return undefined;
  if (regex) {
    let compiled: RE2JS;
    try {
      // RE2: matching time is linear in the line's length, so no pattern can stall the master
      compiled = RE2JS.compile(grep, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
    } catch (error: unknown) {
      throw new WharfError('validation_failed', `grep: not a regular expression this search takes (RE2 syntax: no backreferences or lookaround): ${error instanceof Error ? error.message : String(error)}`);
    }
    return (text) => compiled.matcher(text).find();
  }
  if (ignoreCase) {
    const wanted = grep.toLowerCase();
    return (text) => text.toLowerCase().includes(wanted);
  }
  return (text) => text.includes(grep);
}

/** GET /api/tasks/:id/logs with a line parameter: one page of lines. */
export async function answerLogLines(task: TaskAttempts, rawQuery: unknown, logs: LogStore, res: Response): Promise<void> {
  const parsed = logLinesQuery.safeParse(rawQuery);
  if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
  const query = parsed.data;
  if ((isOn(query.regex) || isOn(query.ignoreCase)) && query.grep === undefined) {
    throw new WharfError('validation_failed', `${isOn(query.regex) ? 'regex' : 'ignoreCase'}: needs grep (the text to search for)`);
  }
  const match = lineMatcher(query.grep, isOn(query.regex), isOn(query.ignoreCase));
  const attempts = chosenAttempts(task, query.attempt);
  const after = query.after === undefined ? undefined : { attempt: Number(query.after.split(':')[0]), n: Number(query.after.split(':')[1]) };
  const result: LineScanResult = await scanLines({
    attempts: attempts.map((a) => ({ id: a.id, number: a.number, path: logs.pathOf(task.id, a.id) })),
    after,
    stream: query.stream,
    match,
    limit: query.limit ?? 1000,
    budgetMs: SCAN_BUDGET_MS,
  });
  res.setHeader('Cache-Control', 'no-store');
  res.json({ lines: result.lines, next: result.next, scanned: result.scanned, partial: result.budgetExhausted });
}

/** GET /api/tasks/:id/logs/raw: the stored bytes of one attempt or all, as a file. */
export async function downloadRawLog(task: TaskAttempts, rawQuery: unknown, logs: LogStore, res: Response): Promise<void> {
  const parsed = rawLogQuery.safeParse(rawQuery);
  if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
  const attempts = chosenAttempts(task, parsed.data.attempt);
  const one = parsed.data.attempt !== undefined && parsed.data.attempt !== 'all';
  const name = `task-${task.id.slice(0, 8)}${one ? `-attempt-${attempts[0]!.number}` : ''}.log`;
  res.status(200);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  for (const attempt of attempts) {
    // the same separator as the text answer: with several attempts, each starts with one
    if (attempts.length > 1) res.write(`--- attempt ${attempt.number} on worker ${attempt.workerId} ---\n`);
    for await (const piece of rawBytes(logs.pathOf(task.id, attempt.id))) {
      if (closed) return;
      if (!res.write(piece)) {
        await new Promise<void>((resolve) => {
          res.once('drain', resolve);
          res.once('close', resolve);
        });
      }
    }
  }
  res.end();
}
