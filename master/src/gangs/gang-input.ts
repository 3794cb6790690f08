// What a person submits to POST /api/gangs, validated: every member like a POST /api/tasks body
// (tasks/task-input.ts), a refusal naming the member and the field (`members[2].image: …`).
import { z } from 'zod';
import { WharfError } from '../errors.js';
import { GANG_POLICIES, type GangPolicy } from '../records/gang.js';
import type { NewTask } from '../records/task.js';
import { describeIssues, parseTaskInput } from '../tasks/task-input.js';

/** The most members a gang may have. */
export const MAX_GANG_SIZE = 256;
/** Restarts the restartGang policy takes when the submission names none. */
export const DEFAULT_GANG_MAX_RESTARTS = 3;

export interface NewGang {
  name: string;
  policy: GangPolicy;
  /** 0 = wait for placement for ever */
  timeoutSeconds: number;
  maxRestarts: number;
  /** in rank order */
  members: NewTask[];
}

export const gangSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    size: z.number().int().min(1).max(MAX_GANG_SIZE).optional(),
    members: z.array(z.unknown()).min(1, 'must name at least one member').max(MAX_GANG_SIZE, `at most ${MAX_GANG_SIZE} members`),
    gangTimeoutSeconds: z.number().int().min(0).max(366 * 86_400).optional(),
    policy: z.enum(GANG_POLICIES as [GangPolicy, ...GangPolicy[]]).optional(),
    maxRestarts: z.number().int().min(0).max(100).optional(),
  })
  .strict();

export function parseGangInput(body: unknown, now = Date.now()): NewGang {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new WharfError('validation_failed', 'body: must be a JSON object');
  const parsed = gangSchema.safeParse(body);
  if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
  const input = parsed.data;
  if (input.size !== undefined && input.size !== input.members.length) {
    throw new WharfError('validation_failed', `size: ${input.size} differs from the ${input.members.length} members given (size is the number of members; it may be left out)`);
  }
  const members = input.members.map((item, index) => {
    let task: NewTask;
    try {
      task = parseTaskInput(item, now);
    } catch (error: unknown) {
      if (error instanceof WharfError) throw new WharfError(error.code, `members[${index}].${error.message}`);
      throw error;
    }
    if (task.maxRetries > 0) {
      throw new WharfError('validation_failed', `members[${index}].maxRetries: a gang member is never retried alone; give the gang's maxRestarts (policy restartGang)`);
    }
    if (task.network === 'run') throw new WharfError('validation_failed', `members[${index}].network: "run" is the network of a DAG run; gang members reach each other through WHARF_GANG_PEERS`);
    return task;
  });
  const queue = members[0]!.queue;
  members.forEach((task, index) => {
    if (task.queue !== queue) {
      throw new WharfError('validation_failed', `members[${index}].queue: every member waits in the gang's queue "${queue ?? 'default'}" (members[0]'s), not "${task.queue ?? 'default'}"`);
    }
  });
  const name = input.name ?? `${members[0]!.name}-gang`;
  return {
    name,
    policy: input.policy ?? 'restartGang',
    timeoutSeconds: input.gangTimeoutSeconds ?? 0,
    maxRestarts: input.maxRestarts ?? DEFAULT_GANG_MAX_RESTARTS,
    members: members.map((task, rank) => ({ ...task, name: members.length > 1 && task.name === members[0]!.name ? `${task.name}-${rank}` : task.name })),
  };
}
