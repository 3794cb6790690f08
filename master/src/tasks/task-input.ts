// What a person may submit as a task, validated the same way for REST, the REPL and the UI.
// A refused field answers `validation_failed` with a message that names the field.
import { parseBytes, parseCpu } from '@wharf/proto';
import { parseDurationMs } from '../config/durations.js';
import { z } from 'zod';
import { WharfError } from '../errors.js';
import type { ResourceRequest } from '../records/resources.js';
import { CONSTRAINT_OPS, type ConstraintOp, type LabelConstraint } from '../records/queue.js';
import { PULL_POLICIES, RETRYABLE_ENDINGS, TASK_NETWORKS, type NewTask, type PullPolicy, type RetryableEnding, type RetryPolicyInput, type TaskNetwork } from '../records/task.js';

const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?$/;
export const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** "1000", "1000:1000", "app", "app:staff": a uid or user name, optionally with a gid or group. */
const USER = /^([0-9]{1,10}|[a-z_][a-z0-9_.-]{0,31})(:([0-9]{1,10}|[a-z_][a-z0-9_.-]{0,31}))?$/;

/** Linux capabilities (capabilities(7)) a task may ask to add, without the CAP_ prefix. */
export const LINUX_CAPABILITIES: readonly string[] = [
  'AUDIT_CONTROL', 'AUDIT_READ', 'AUDIT_WRITE', 'BLOCK_SUSPEND', 'BPF', 'CHECKPOINT_RESTORE', 'CHOWN', 'DAC_OVERRIDE',
  'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'IPC_LOCK', 'IPC_OWNER', 'KILL', 'LEASE', 'LINUX_IMMUTABLE', 'MAC_ADMIN',
  'MAC_OVERRIDE', 'MKNOD', 'NET_ADMIN', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_RAW', 'PERFMON', 'SETFCAP', 'SETGID',
  'SETPCAP', 'SETUID', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_CHROOT', 'SYS_MODULE', 'SYS_NICE', 'SYS_PACCT', 'SYS_PTRACE',
  'SYS_RAWIO', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'SYSLOG', 'WAKE_ALARM',
];

const capability = z.string().describe('a Linux capability such as NET_ADMIN (any case, CAP_ prefix optional)').transform((value, ctx) => {
  const name = value.trim().toUpperCase().replace(/^CAP_/, '');
  if (!LINUX_CAPABILITIES.includes(name)) {
    ctx.addIssue({ code: 'custom', message: `"${value.slice(0, 40)}" is not a Linux capability (such as NET_ADMIN or SYS_PTRACE)` });
    return z.NEVER;
  }
  return name;
});

/** A queue's name: what `POST /api/queues` accepts. */
export const QUEUE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const queueNameSchema = z.string().regex(QUEUE_NAME, 'must be 1-63 lower-case letters, digits or "-" (not first or last)');

/** Label constraints of a task or a queue: in/notIn need values, exists/notExists take none. */
export const constraintsSchema = z
  .array(
    z
      .object({
        key: z.string().regex(LABEL_KEY, 'must be a label key (letters, digits, ".", "_", "-" or "/")'),
        op: z.enum(CONSTRAINT_OPS as [ConstraintOp, ...ConstraintOp[]]),
        values: z.array(z.string().max(256)).min(1).max(100).optional(),
      })
      .strict()
      .superRefine((c, ctx) => {
        const wantsValues = c.op === 'in' || c.op === 'notIn';
        if (wantsValues && c.values === undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: `is required for op ${c.op}` });
        if (!wantsValues && c.values !== undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: `must be absent for op ${c.op}` });
      })
      .transform((c): LabelConstraint => (c.values === undefined ? { key: c.key, op: c.op } : { key: c.key, op: c.op, values: c.values })),
  )
  .max(32);

const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

export const quantity = (parse: (v: string | number) => number | undefined, example: string) =>
  z.union([z.string(), z.number()]).describe(`a quantity such as ${example}`).transform((value, ctx) => {
    const parsed = parse(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a quantity such as ${example} (got ${JSON.stringify(value)})` });
      return z.NEVER;
    }
    return parsed;
  });

const MAX_RETRIES = 100;
/** a week */
const MAX_BACKOFF_SECONDS = 7 * 86400;

export const taskInputSchema = z
  .object({
    image: z.string().trim().max(512).optional(),
    command: z
      .union([z.string().min(1, 'must not be empty').max(64 * 1024), z.array(z.string().max(64 * 1024)).max(1000)])
      .optional(),
    name: z.string().trim().min(1).max(200).optional(),
    env: z
      .record(z.string().regex(ENV_KEY, 'keys must be environment variable names (letters, digits, _)'), z.string().max(64 * 1024))
      .refine((env) => Object.keys(env).length <= 200, 'at most 200 variables')
      .meta({ maxProperties: 200 })
      .optional(),
    runtime: z.enum(['docker', 'kubernetes', 'exec', 'sim']).default('docker'),
    resources: z
      .object({
        cpu: quantity(parseCpu, '0.5, 2 or 500m').optional(),
        memory: quantity(parseBytes, '512Mi or 2Gi').optional(),
        gpu: z.number().int().min(0).max(64).optional(),
        disk: quantity(parseBytes, '10Gi').optional(),
      })
      .strict()
      .optional(),
    // absent: the queue's default priority
    priority: z.number().int().min(0).max(100).optional(),
    maxRetries: z.number().int().min(0).max(MAX_RETRIES).optional(),
    retryPolicy: z
      .object({
        maxRetries: z.number().int().min(0).max(MAX_RETRIES).optional(),
        backoffSeconds: z.number().min(0).max(MAX_BACKOFF_SECONDS).optional(),
        backoffMultiplier: z.number().min(1).max(10).optional(),
        maxBackoffSeconds: z.number().min(0).max(MAX_BACKOFF_SECONDS).optional(),
        retryOn: z
          .object({
            exitCodes: z.array(z.number().int().min(0).max(255)).max(256).optional(),
            outcomes: z.array(z.enum(RETRYABLE_ENDINGS as [RetryableEnding, ...RetryableEnding[]])).max(RETRYABLE_ENDINGS.length).optional(),
          })
          .strict()
          .refine((on) => (on.exitCodes?.length ?? 0) + (on.outcomes?.length ?? 0) > 0, 'give exitCodes or outcomes to retry on (or leave retryOn out to retry every failure)')
          .optional(),
      })
      .strict()
      .optional(),
    timeoutSeconds: z.number().int().min(0).max(30 * 86400).default(0),
    startDeadline: z.string().trim().min(1).max(64).optional(),
    deadline: z.string().trim().min(1).max(64).optional(),
    labels: z
      .record(z.string().regex(LABEL_KEY, 'keys must be letters, digits, ".", "_", "-" or "/"'), z.string().max(256))
      .optional(),
    network: z.enum(TASK_NETWORKS as [TaskNetwork, ...TaskNetwork[]]).optional(),
    user: z.string().trim().regex(USER, 'must be a uid, uid:gid, or a user name (with :group)').optional(),
    readOnlyRootFilesystem: z.boolean().optional(),
    capAdd: z.array(capability).max(LINUX_CAPABILITIES.length).optional(),
    pullPolicy: z.enum(PULL_POLICIES as [PullPolicy, ...PullPolicy[]]).optional(),
    queue: queueNameSchema.optional(),
    constraints: constraintsSchema.optional(),
    /** pin to this worker (admins only) */
    workerId: z.string().min(1).max(128).optional(),
    /** false: never evicted by priority preemption (default true) */
    preemptible: z.boolean().optional(),
  })
  .strict();

/** Docker refuses a memory limit below 6 MiB, whoever asks. */
export const DOCKER_MIN_MEMORY = 6 * 1024 * 1024;

/** Formats zod issues as "field.path: message; ..." */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') message = `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      if (issue.code === 'invalid_key') message = issue.issues[0]?.message ?? message;
      return path ? `${path}: ${message}` : message;
    })
    .join('; ');
}

export const MAX_BATCH = 1000;

/** `{tasks: [...]}`, up to MAX_BATCH, each validated like a single submission; all or nothing. */
export function parseTaskBatch(body: unknown): NewTask[] {
  const list = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { tasks?: unknown }).tasks : undefined;
  if (!Array.isArray(list)) throw new WharfError('validation_failed', 'tasks: must be an array of task submissions');
  if (list.length === 0) throw new WharfError('validation_failed', 'tasks: must not be empty');
  if (list.length > MAX_BATCH) throw new WharfError('validation_failed', `tasks: at most ${MAX_BATCH} per batch (got ${list.length})`);
  return list.map((item, index) => {
    try {
      return parseTaskInput(item);
    } catch (error: unknown) {
      if (error instanceof WharfError) throw new WharfError(error.code, `tasks[${index}].${error.message}`);
      throw error;
    }
  });
}

/** The longest a deadline may lie ahead: a year. */
const MAX_DEADLINE_AHEAD_MS = 366 * 86_400_000;

/**
 * A deadline as epoch ms: an ISO 8601 date-time with its zone ("2030-01-01T12:00:00Z") or a
 * duration from `now` ("+90s", "+10m", "+2h", "+1d"). Whether it has passed is the submission
 * system's check (on its clock).
 */
export function parseDeadline(field: string, value: string, now: number): number {
  if (value.startsWith('+')) {
    const ms = /[a-z]$/.test(value) ? parseDurationMs(value.slice(1)) : undefined;
    if (ms === undefined || ms <= 0 || ms > MAX_DEADLINE_AHEAD_MS) {
      throw new WharfError('validation_failed', `${field}: "${value.slice(0, 40)}" is not a duration from now such as +90s, +10m or +2h (at most a year)`);
    }
    return now + ms;
  }
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new WharfError('validation_failed', `${field}: "${value.slice(0, 40)}" is not an ISO 8601 date-time with its zone (2030-01-01T12:00:00Z) nor a duration from now (+10m)`);
  }
  if (at > now + MAX_DEADLINE_AHEAD_MS) throw new WharfError('validation_failed', `${field}: more than a year ahead`);
  return at;
}

/** `now`: what a relative deadline ("+10m") counts from. */
export function parseTaskInput(body: unknown, now = Date.now()): NewTask {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WharfError('validation_failed', 'body: must be a JSON object');
  }
  // the schema's record would drop this key without a word (JSON.parse makes it an own key)
  const env = (body as { env?: unknown }).env;
  if (typeof env === 'object' && env !== null && Object.hasOwn(env, '__proto__')) {
    throw new WharfError('validation_failed', 'env.__proto__: the name "__proto__" is not accepted');
  }
  const parsed = taskInputSchema.safeParse(body);
  if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
  const input = parsed.data;
  const image = input.image ?? '';
  if (input.runtime === 'docker' || input.runtime === 'kubernetes') {
    if (!image) throw new WharfError('validation_failed', `image: is required for the ${input.runtime} runtime`);
    if (!IMAGE.test(image)) throw new WharfError('validation_failed', `image: "${image}" is not a valid image reference`);
  }
  const command = typeof input.command === 'string' ? ['sh', '-c', input.command] : (input.command ?? []);
  if (input.runtime === 'exec' && command.length === 0) {
    throw new WharfError('validation_failed', 'command: is required for the exec runtime');
  }
  // absent amounts stay absent: the submission system fills in the configured defaults
  const resources: ResourceRequest = {};
  for (const key of ['cpu', 'memory', 'gpu', 'disk'] as const) {
    const value = input.resources?.[key];
    if (value !== undefined) resources[key] = value;
  }
  if (resources.memory !== undefined && resources.memory > 0 && resources.memory < DOCKER_MIN_MEMORY) {
    throw new WharfError('validation_failed', 'resources.memory: must be at least 6Mi (Docker refuses less)');
  }
  const policy = input.retryPolicy;
  if (policy?.maxRetries !== undefined && input.maxRetries !== undefined && policy.maxRetries !== input.maxRetries) {
    throw new WharfError('validation_failed', `retryPolicy.maxRetries: ${policy.maxRetries} differs from maxRetries ${input.maxRetries}; give one of them`);
  }
  if (policy?.backoffSeconds !== undefined && policy.maxBackoffSeconds !== undefined && policy.maxBackoffSeconds < policy.backoffSeconds) {
    throw new WharfError('validation_failed', `retryPolicy.maxBackoffSeconds: ${policy.maxBackoffSeconds} is below backoffSeconds ${policy.backoffSeconds}`);
  }
  const retryPolicy: RetryPolicyInput = {};
  for (const key of ['backoffSeconds', 'backoffMultiplier', 'maxBackoffSeconds'] as const) {
    if (policy?.[key] !== undefined) retryPolicy[key] = policy[key];
  }
  if (policy?.retryOn) {
    const { exitCodes, outcomes } = policy.retryOn;
    retryPolicy.retryOn = {
      ...(exitCodes && exitCodes.length > 0 ? { exitCodes: [...new Set(exitCodes)].sort((a, b) => a - b) } : {}),
      ...(outcomes && outcomes.length > 0 ? { outcomes: [...new Set(outcomes)] } : {}),
    };
  }
  const startDeadline = input.startDeadline === undefined ? undefined : parseDeadline('startDeadline', input.startDeadline, now);
  const deadline = input.deadline === undefined ? undefined : parseDeadline('deadline', input.deadline, now);
  if (startDeadline !== undefined && deadline !== undefined && deadline < startDeadline) {
    throw new WharfError('validation_failed', 'deadline: is before startDeadline (a task must start before it must end)');
  }
  const capAdd = input.capAdd && input.capAdd.length > 0 ? [...new Set(input.capAdd)].sort() : undefined;
  if (input.runtime === 'exec' || input.runtime === 'sim') {
    // a host process (or nothing at all) has no container to isolate: refused, not ignored
    const given = (['network', 'user', 'readOnlyRootFilesystem', 'capAdd', 'pullPolicy'] as const).find((field) => input[field] !== undefined);
    if (given) throw new WharfError('validation_failed', `${given}: applies to container tasks (docker, kubernetes), not to ${input.runtime} tasks`);
  }
  return {
    name: input.name ?? (image ? (image.split('/').pop() ?? image).split(/[:@]/)[0]! : (command[0] ?? 'task')),
    image,
    command,
    env: input.env ?? {},
    runtime: input.runtime,
    resources,
    ...(input.priority !== undefined ? { priority: input.priority } : {}),
    maxRetries: input.maxRetries ?? policy?.maxRetries ?? 0,
    ...(Object.keys(retryPolicy).length > 0 ? { retryPolicy } : {}),
    timeoutSeconds: input.timeoutSeconds,
    ...(startDeadline !== undefined ? { startDeadline } : {}),
    ...(deadline !== undefined ? { deadline } : {}),
    labels: input.labels ?? {},
    ...(input.network !== undefined && input.network !== 'default' ? { network: input.network } : {}),
    ...(input.user !== undefined ? { user: input.user } : {}),
    ...(input.readOnlyRootFilesystem ? { readOnlyRootFilesystem: true } : {}),
    ...(capAdd ? { capAdd } : {}),
    ...(input.pullPolicy !== undefined && input.pullPolicy !== 'IfNotPresent' ? { pullPolicy: input.pullPolicy } : {}),
    ...(input.queue !== undefined ? { queue: input.queue } : {}),
    ...(input.constraints !== undefined && input.constraints.length > 0 ? { constraints: input.constraints } : {}),
    ...(input.workerId !== undefined ? { workerId: input.workerId } : {}),
    ...(input.preemptible === false ? { preemptible: false } : {}),
  };
}
