// The Submit form's state, its checks and the POST /api/tasks body it builds. The checks are
// the API's own rules (master/src/tasks/task-input.ts) so a person learns about a mistake at
// the field before sending; task-form.test.ts runs both on the same inputs to keep them equal.
import { parseBytes, parseCpu } from '../../../proto/src/units.ts';
import type { ContainerSettings, Task, TaskSubmission } from './types.ts';

export const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?$/;
export const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const MAX_TEXT = 64 * 1024;
/** what the API takes as a deadline (task-input.ts parseDeadline): +<duration> or an ISO date-time with its zone */
const YEAR_MS = 366 * 86_400_000;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** How far ahead a deadline the form accepted lies. */
function deadlineAheadMs(text: string): number {
  const relative = /^\+(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  return relative ? Number(relative[1]) * (UNIT_MS[relative[2]!] ?? 1) : Date.parse(text) - Date.now();
}
const DEADLINE = /^(\+\d+(\.\d+)?(ms|s|m|h|d)|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))$/;
const MIN_MEMORY = 6 * 1024 * 1024;

export interface KeyValue {
  key: string;
  value: string;
}

export interface TaskForm {
  name: string;
  image: string;
  runtime: 'docker' | 'exec';
  /** shell: one line run with sh -c; argv: one argument per line */
  commandMode: 'shell' | 'argv';
  command: string;
  env: KeyValue[];
  labels: KeyValue[];
  cpu: string;
  cpuUnit: 'cores' | 'millicores';
  memory: string;
  memoryUnit: 'Mi' | 'Gi';
  gpu: string;
  disk: string;
  diskUnit: 'Mi' | 'Gi';
  priority: string;
  maxRetries: string;
  /** the rest of the retry policy; empty = the master's defaults */
  backoffSeconds: string;
  backoffMultiplier: string;
  maxBackoffSeconds: string;
  /** exit codes that are retried, comma-separated; empty = every failure */
  retryOnExitCodes: string;
  timeoutSeconds: string;
  /** "+10m" or an ISO date-time with its zone; empty = none */
  startDeadline: string;
  deadline: string;
  /** the container settings of a task being resubmitted: not on the form, carried over unchanged */
  container?: ContainerSettings;
}

/** Field names as the API names them in its messages. */
export type TaskField =
  | 'name'
  | 'image'
  | 'runtime'
  | 'command'
  | 'env'
  | 'labels'
  | 'resources.cpu'
  | 'resources.memory'
  | 'resources.gpu'
  | 'resources.disk'
  | 'priority'
  | 'maxRetries'
  | 'retryPolicy'
  | 'timeoutSeconds'
  | 'startDeadline'
  | 'deadline';
export const TASK_FIELDS: readonly TaskField[] = [
  'name',
  'image',
  'runtime',
  'command',
  'env',
  'labels',
  'resources.cpu',
  'resources.memory',
  'resources.gpu',
  'resources.disk',
  'priority',
  'maxRetries',
  'retryPolicy',
  'timeoutSeconds',
  'startDeadline',
  'deadline',
];

export function emptyTaskForm(): TaskForm {
  return {
    name: '',
    image: '',
    runtime: 'docker',
    commandMode: 'shell',
    command: '',
    env: [],
    labels: [],
    cpu: '0.5',
    cpuUnit: 'cores',
    memory: '256',
    memoryUnit: 'Mi',
    gpu: '0',
    disk: '',
    diskUnit: 'Gi',
    priority: '50',
    maxRetries: '0',
    backoffSeconds: '',
    backoffMultiplier: '',
    maxBackoffSeconds: '',
    retryOnExitCodes: '',
    timeoutSeconds: '0',
    startDeadline: '',
    deadline: '',
  };
}

/** The form filled from an existing task (Resubmit keeps everything the task was sent with). */
export function formFromTask(task: Task): TaskForm {
  const shell = task.command.length === 3 && task.command[0] === 'sh' && task.command[1] === '-c';
  const mib = (bytes: number) => String(Math.round((bytes / 1024 ** 2) * 100) / 100);
  return {
    name: task.name,
    image: task.image,
    runtime: task.runtime === 'exec' ? 'exec' : 'docker',
    commandMode: shell || task.command.length === 0 ? 'shell' : 'argv',
    command: shell ? (task.command[2] ?? '') : task.command.join('\n'),
    env: Object.entries(task.env).map(([key, value]) => ({ key, value })),
    labels: Object.entries(task.labels).map(([key, value]) => ({ key, value })),
    cpu: String(task.resources.cpu),
    cpuUnit: 'cores',
    memory: mib(task.resources.memory),
    memoryUnit: 'Mi',
    gpu: String(task.resources.gpu),
    disk: task.resources.disk ? mib(task.resources.disk) : '',
    diskUnit: 'Mi',
    priority: String(task.priority),
    maxRetries: String(task.maxRetries),
    backoffSeconds: task.retryPolicy?.backoffSeconds === undefined ? '' : String(task.retryPolicy.backoffSeconds),
    backoffMultiplier: task.retryPolicy?.backoffMultiplier === undefined ? '' : String(task.retryPolicy.backoffMultiplier),
    maxBackoffSeconds: task.retryPolicy?.maxBackoffSeconds === undefined ? '' : String(task.retryPolicy.maxBackoffSeconds),
    retryOnExitCodes: (task.retryPolicy?.retryOn?.exitCodes ?? []).join(', '),
    timeoutSeconds: String(task.timeoutSeconds),
    // deadlines are moments: a resubmission asks for new ones
    startDeadline: '',
    deadline: '',
    container: containerOf(task),
  };
}

/** A task's retry policy as a submission names it (maxRetries is its own field). */
function retryPolicyOf(task: Task): NonNullable<TaskSubmission['retryPolicy']> {
  const { maxRetries: _count, ...rest } = task.retryPolicy ?? { maxRetries: task.maxRetries };
  return rest;
}

/** A task's container settings that differ from the defaults, as a submission names them. */
export function containerOf(task: Task): ContainerSettings {
  return {
    ...(task.network && task.network !== 'default' ? { network: task.network } : {}),
    ...(task.user ? { user: task.user } : {}),
    ...(task.readOnlyRootFilesystem ? { readOnlyRootFilesystem: true } : {}),
    ...(task.capAdd && task.capAdd.length > 0 ? { capAdd: [...task.capAdd] } : {}),
    ...(task.pullPolicy && task.pullPolicy !== 'IfNotPresent' ? { pullPolicy: task.pullPolicy } : {}),
  };
}

/** The submission a task was made from, for Resubmit without going through the form. */
export function submissionFromTask(task: Task): TaskSubmission {
  return {
    name: task.name,
    ...(task.image ? { image: task.image } : {}),
    ...(task.command.length > 0 ? { command: task.command } : {}),
    env: task.env,
    ...(task.runtime === 'exec' ? { runtime: 'exec' as const } : {}),
    resources: { ...task.resources },
    priority: task.priority,
    maxRetries: task.maxRetries,
    ...(task.retryPolicy ? { retryPolicy: retryPolicyOf(task) } : {}),
    timeoutSeconds: task.timeoutSeconds,
    labels: task.labels,
    ...containerOf(task),
  };
}

function wholeNumber(text: string, field: TaskField, min: number, max: number, errors: Partial<Record<TaskField, string>>): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  if (!/^-?\d+$/.test(trimmed)) {
    errors[field] = 'must be a whole number';
    // the body still carries what was typed, so it is the same input the API would judge
    return Number.isFinite(value) ? value : (trimmed as unknown as number);
  }
  if (value < min) errors[field] = `must be at least ${min}`;
  else if (value > max) errors[field] = `must be at most ${max}`;
  return value;
}

function pairs(rows: KeyValue[], field: 'env' | 'labels', errors: Partial<Record<TaskField, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  const rule = field === 'env' ? ENV_KEY : LABEL_KEY;
  const maxValue = field === 'env' ? MAX_TEXT : 256;
  for (const row of rows) {
    const key = row.key.trim();
    if (key === '' && row.value === '') continue;
    if (!rule.test(key)) {
      errors[field] =
        field === 'env'
          ? `"${key}": keys must be environment variable names (letters, digits, _)`
          : `"${key}": keys must be letters, digits, ".", "_", "-" or "/"`;
    }
    if (key in out) errors[field] = `"${key}" is given twice`;
    if (row.value.length > maxValue) errors[field] = `"${key}": value is longer than ${maxValue} characters`;
    out[key] = row.value;
  }
  if (field === 'env' && Object.keys(out).length > 200) errors.env = 'at most 200 variables';
  return out;
}

/** Checks the form and builds the request body; `errors` is empty when the API should accept it. */
/**
 * The amount typed with the unit chosen beside it: "512" and Mi make "512Mi". Anything that is not
 * a plain number goes as typed ("2Gi" stays itself; "lots" stays "lots"), so neither the form nor
 * the master's refusal glues the unit onto what was typed ("lotsMi").
 */
export function withUnit(text: string, unit: string): string {
  return /^\d+(\.\d+)?$/.test(text) ? `${text}${unit}` : text;
}

export function buildSubmission(form: TaskForm): { submission: TaskSubmission; errors: Partial<Record<TaskField, string>> } {
  const errors: Partial<Record<TaskField, string>> = {};
  const submission: TaskSubmission = {};

  const name = form.name.trim();
  if (name.length > 200) errors.name = 'must be at most 200 characters';
  if (name) submission.name = name;

  const image = form.image.trim();
  if (image.length > 512) errors.image = 'must be at most 512 characters';
  else if (form.runtime === 'docker' && !image) errors.image = 'is required for the docker runtime';
  else if (form.runtime === 'docker' && !IMAGE.test(image)) errors.image = `"${image}" is not a valid image reference`;
  if (image) submission.image = image;
  if (form.runtime === 'exec') submission.runtime = 'exec';

  if (form.commandMode === 'shell') {
    if (form.command.trim()) {
      if (form.command.length > MAX_TEXT) errors.command = `must be at most ${MAX_TEXT} characters`;
      submission.command = form.command;
    }
  } else {
    const argv = form.command.split('\n').map((line) => line.replace(/\r$/, ''));
    while (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
    if (argv.length > 1000) errors.command = 'at most 1000 arguments';
    if (argv.some((arg) => arg.length > MAX_TEXT)) errors.command = `each argument must be at most ${MAX_TEXT} characters`;
    if (argv.length > 0) submission.command = argv;
  }
  if (form.runtime === 'exec' && submission.command === undefined) errors.command = 'is required for the exec runtime';

  const env = pairs(form.env, 'env', errors);
  if (Object.keys(env).length > 0) submission.env = env;
  const labels = pairs(form.labels, 'labels', errors);
  if (Object.keys(labels).length > 0) submission.labels = labels;

  const resources: NonNullable<TaskSubmission['resources']> = {};
  const cpuText = form.cpu.trim();
  if (cpuText) {
    const cpu = form.cpuUnit === 'millicores' ? withUnit(cpuText, 'm') : cpuText;
    if (parseCpu(cpu) === undefined) errors['resources.cpu'] = `must be a quantity such as 0.5, 2 or 500m (got "${cpuText}")`;
    resources.cpu = form.cpuUnit === 'millicores' ? cpu : Number(cpuText);
    if (form.cpuUnit === 'cores' && !Number.isFinite(resources.cpu)) resources.cpu = cpuText;
  }
  const memoryText = form.memory.trim();
  if (memoryText) {
    const memory = withUnit(memoryText, form.memoryUnit);
    const bytes = parseBytes(memory);
    if (bytes === undefined) errors['resources.memory'] = `must be a number of ${form.memoryUnit}B such as 512, or a quantity such as 2Gi (got "${memoryText}")`;
    else if (bytes > 0 && bytes < MIN_MEMORY) errors['resources.memory'] = 'must be at least 6Mi (Docker refuses less)';
    resources.memory = memory;
  }
  const gpu = wholeNumber(form.gpu, 'resources.gpu', 0, 64, errors);
  if (gpu !== undefined) resources.gpu = gpu;
  const diskText = form.disk.trim();
  if (diskText) {
    const disk = withUnit(diskText, form.diskUnit);
    if (parseBytes(disk) === undefined) errors['resources.disk'] = `must be a number of ${form.diskUnit}B such as 10, or a quantity such as 10Gi (got "${diskText}")`;
    resources.disk = disk;
  }
  if (Object.keys(resources).length > 0) submission.resources = resources;

  const priority = wholeNumber(form.priority, 'priority', 0, 100, errors);
  if (priority !== undefined) submission.priority = priority;
  const maxRetries = wholeNumber(form.maxRetries, 'maxRetries', 0, 100, errors);
  if (maxRetries !== undefined) submission.maxRetries = maxRetries;
  const policy: NonNullable<TaskSubmission['retryPolicy']> = {};
  const seconds = (text: string, what: string): number | undefined => {
    const trimmed = text.trim();
    if (trimmed === '') return undefined;
    const value = Number(trimmed);
    if (!Number.isFinite(value) || value < 0 || value > 7 * 86400) errors.retryPolicy = `${what}: must be a number of seconds from 0 to a week`;
    return Number.isFinite(value) ? value : (trimmed as unknown as number);
  };
  const backoff = seconds(form.backoffSeconds, 'backoffSeconds');
  if (backoff !== undefined) policy.backoffSeconds = backoff;
  const maxBackoff = seconds(form.maxBackoffSeconds, 'maxBackoffSeconds');
  if (maxBackoff !== undefined) policy.maxBackoffSeconds = maxBackoff;
  if (backoff !== undefined && maxBackoff !== undefined && maxBackoff < backoff) errors.retryPolicy = `maxBackoffSeconds: ${maxBackoff} is below backoffSeconds ${backoff}`;
  const multiplierText = form.backoffMultiplier.trim();
  if (multiplierText !== '') {
    const multiplier = Number(multiplierText);
    if (!Number.isFinite(multiplier) || multiplier < 1 || multiplier > 10) errors.retryPolicy = 'backoffMultiplier: must be from 1 to 10';
    policy.backoffMultiplier = Number.isFinite(multiplier) ? multiplier : (multiplierText as unknown as number);
  }
  const codesText = form.retryOnExitCodes.trim();
  if (codesText !== '') {
    const codes = codesText.split(/[\s,]+/).filter(Boolean);
    if (codes.some((code) => !/^\d+$/.test(code) || Number(code) > 255)) errors.retryPolicy = 'retryOn.exitCodes: whole numbers from 0 to 255, separated by commas';
    policy.retryOn = { exitCodes: codes.map(Number) };
  }
  if (Object.keys(policy).length > 0) submission.retryPolicy = policy;
  const timeout = wholeNumber(form.timeoutSeconds, 'timeoutSeconds', 0, 30 * 86400, errors);
  if (timeout !== undefined) submission.timeoutSeconds = timeout;
  for (const field of ['startDeadline', 'deadline'] as const) {
    const text = form[field].trim();
    if (text === '') continue;
    if (!DEADLINE.test(text)) errors[field] = 'give a duration from now such as +10m or +2h, or a date-time with its zone such as 2030-01-01T12:00:00Z';
    else if (deadlineAheadMs(text) > YEAR_MS) errors[field] = 'more than a year ahead';
    submission[field] = text;
  }
  if (form.container) Object.assign(submission, form.container);

  return { submission, errors };
}

/** Maps an API field path ("env.BAD-KEY", "resources.memory", "tasks[0].image") to a form field. */
export function formFieldOf(path: string): TaskField | undefined {
  const clean = path.replace(/^tasks\[\d+\]\./, '');
  if (clean.startsWith('resources.')) {
    const field = clean.split('.').slice(0, 2).join('.') as TaskField;
    return TASK_FIELDS.includes(field) ? field : undefined;
  }
  const head = clean.split('.')[0] as TaskField;
  return TASK_FIELDS.includes(head) ? head : undefined;
}
