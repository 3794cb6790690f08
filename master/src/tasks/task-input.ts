// What a person may submit as a task, validated the same way for REST, the REPL and the UI.
// A refused field answers `validation_failed` with a message that names the field.
import { parseBytes, parseCpu } from '@wharf/proto';
import { z } from 'zod';
import { WharfError } from '../errors.js';
import type { Resources } from '../records/resources.js';
import type { NewTask } from '../records/task.js';

const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

const quantity = (parse: (v: string | number) => number | undefined, example: string) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const parsed = parse(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a quantity such as ${example} (got ${JSON.stringify(value)})` });
      return z.NEVER;
    }
    return parsed;
  });

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
    priority: z.number().int().min(0).max(100).default(50),
    maxRetries: z.number().int().min(0).max(100).default(0),
    timeoutSeconds: z.number().int().min(0).max(30 * 86400).default(0),
    labels: z
      .record(z.string().regex(LABEL_KEY, 'keys must be letters, digits, ".", "_", "-" or "/"'), z.string().max(256))
      .optional(),
  })
  .strict();

export const DEFAULT_RESOURCES: Resources = { cpu: 0.5, memory: 256 * 1024 * 1024, gpu: 0, disk: 0 };

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

export function parseTaskInput(body: unknown): NewTask {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WharfError('validation_failed', 'body: must be a JSON object');
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
  const resources: Resources = {
    cpu: input.resources?.cpu ?? DEFAULT_RESOURCES.cpu,
    memory: input.resources?.memory ?? DEFAULT_RESOURCES.memory,
    gpu: input.resources?.gpu ?? DEFAULT_RESOURCES.gpu,
    disk: input.resources?.disk ?? DEFAULT_RESOURCES.disk,
  };
  if (resources.memory > 0 && resources.memory < 6 * 1024 * 1024) {
    throw new WharfError('validation_failed', 'resources.memory: must be at least 6Mi (Docker refuses less)');
  }
  return {
    name: input.name ?? (image ? (image.split('/').pop() ?? image).split(/[:@]/)[0]! : (command[0] ?? 'task')),
    image,
    command,
    env: input.env ?? {},
    runtime: input.runtime,
    resources,
    priority: input.priority,
    maxRetries: input.maxRetries,
    timeoutSeconds: input.timeoutSeconds,
    labels: input.labels ?? {},
  };
}
