// What an admin may send to create or change a queue and to set a user's limits, validated the
// same way for REST and the REPL. A refused field answers `validation_failed` naming the field.
import { parseBytes, parseCpu } from '@wharf/proto';
import { z } from 'zod';
import { PLACEMENT_STRATEGIES, PREEMPTION_POLICIES, type PlacementStrategy, type PreemptionPolicy } from '../records/queue.js';
import { constraintsSchema, quantity, queueNameSchema } from '../tasks/task-input.js';

const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?$/;
const count = z.number().int().min(0).max(1_000_000);
const cpu = quantity(parseCpu, '8, 0.5 or 500m');
const bytes = quantity(parseBytes, '64Gi');
const gpus = z.number().int().min(0).max(100_000);

const queueFields = {
  description: z.string().trim().max(500),
  maxConcurrency: count,
  maxTasks: count,
  maxCpu: cpu,
  maxMemory: bytes,
  maxGpus: gpus,
  defaultPriority: z.number().int().min(0).max(100),
  preemptionPolicy: z.enum(PREEMPTION_POLICIES as [PreemptionPolicy, ...PreemptionPolicy[]]),
  strategy: z.enum(PLACEMENT_STRATEGIES as [PlacementStrategy, ...PlacementStrategy[]]),
  workerSelector: z
    .record(z.string().regex(LABEL_KEY, 'keys must be letters, digits, ".", "_", "-" or "/"'), z.string().max(256))
    .refine((labels) => Object.keys(labels).length <= 32, 'at most 32 labels'),
  constraints: constraintsSchema,
};

/** POST /api/queues */
export const createQueueSchema = z
  .object({
    name: queueNameSchema,
    description: queueFields.description.optional(),
    maxConcurrency: queueFields.maxConcurrency.optional(),
    maxTasks: queueFields.maxTasks.optional(),
    maxCpu: queueFields.maxCpu.optional(),
    maxMemory: queueFields.maxMemory.optional(),
    maxGpus: queueFields.maxGpus.optional(),
    defaultPriority: queueFields.defaultPriority.default(50),
    preemptionPolicy: queueFields.preemptionPolicy.default('Never'),
    strategy: queueFields.strategy.default('round-robin'),
    workerSelector: queueFields.workerSelector.default({}),
    constraints: queueFields.constraints.default([]),
  })
  .strict();
export type CreateQueueInput = z.infer<typeof createQueueSchema>;

/** PATCH /api/queues/:name: the fields to change; null removes a cap or the description. */
export const patchQueueSchema = z
  .object({
    description: queueFields.description.nullable().optional(),
    maxConcurrency: queueFields.maxConcurrency.nullable().optional(),
    maxTasks: queueFields.maxTasks.nullable().optional(),
    maxCpu: queueFields.maxCpu.nullable().optional(),
    maxMemory: queueFields.maxMemory.nullable().optional(),
    maxGpus: queueFields.maxGpus.nullable().optional(),
    defaultPriority: queueFields.defaultPriority.optional(),
    preemptionPolicy: queueFields.preemptionPolicy.optional(),
    strategy: queueFields.strategy.optional(),
    workerSelector: queueFields.workerSelector.optional(),
    constraints: queueFields.constraints.optional(),
  })
  .strict();
export type PatchQueueInput = z.infer<typeof patchQueueSchema>;

/** PUT /api/user-limits/:user and PUT /api/queues/:name/users/:user */
export const userLimitSchema = z
  .object({
    maxRunning: count.optional(),
    maxCpu: cpu.optional(),
    maxMemory: bytes.optional(),
    maxGpus: gpus.optional(),
    weight: z.number().positive().max(1000).optional(),
  })
  .strict();
export type UserLimitInput = z.infer<typeof userLimitSchema>;
