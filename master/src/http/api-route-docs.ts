// Every HTTP route the master serves, as the OpenAPI document (http/openapi.ts) shows it: one
// entry per method and path. Request schemas are the objects the handlers parse with, imported
// from where they live; response schemas are those of view-schemas.ts (checked against the
// views by view-schemas.test.ts). test/openapi.test.ts fails when Express serves a route that
// is not listed here, or this lists one Express does not serve: a new route needs an entry.
import { z } from 'zod';
import { WORKER_HISTORY_KINDS, type WorkerHistoryKind } from '../records/worker-history.js';
import { TASK_STATUSES, type TaskStatus } from '../records/task.js';
import { DAG_NAME_PATTERN, FOREIGN_DAG_FIELDS, FOREIGN_TASK_FIELDS, MAX_DAG_FILE_BYTES, MAX_DAG_TASKS, dagTaskSchema, documentSchema } from '../dags/dag-spec.js';
import { MAX_BATCH, QUEUE_NAME, taskInputSchema } from '../tasks/task-input.js';
import { newTokenSchema } from './cluster-routes.js';
import { logLinesQuery, rawLogQuery } from './log-routes.js';
import { listQuery as dagListQuery } from './dag-routes.js';
import { gangSchema, MAX_GANG_SIZE } from '../gangs/gang-input.js';
import { gangListQuery } from './gang-routes.js';
import { gcQuery, usageQuery } from './gc-routes.js';
import { listQuery as deadLetterListQuery, selectionSchema as deadLetterSelectionSchema } from './dead-letter-routes.js';
import { createQueueSchema, patchQueueSchema, userLimitSchema } from '../queues/queue-input.js';
import { putSchema as registryCredentialSchema, listQuery as registryCredentialListQuery } from './registry-credential-routes.js';
import { listQuery as taskListQuery, taskFilterQuery, loginSchema, logoutSchema, registerSchema } from './routes.js';
import { createSchema as apiTokenSchema, listQuery as apiTokenListQuery } from './token-routes.js';
import { auditQuery, inviteSchema, patchSchema as userPatchSchema } from './user-routes.js';
import {
  apiTokenViewSchema,
  auditEntryViewSchema,
  dagRunMetricsSchema,
  bulkSkippedSchema,
  dagSummaryViewSchema,
  gangSummaryViewSchema,
  gangViewSchema,
  deadLetterViewSchema,
  fitAnswerViewSchema,
  logLinesViewSchema,
  fileViewSchema,
  gcReportSchema,
  inviteViewSchema,
  joinTokenViewSchema,
  oneLineJoinViewSchema,
  queueRecordViewSchema,
  queueViewSchema,
  registryCredentialViewSchema,
  resourcesSchema,
  taskViewSchema,
  userLimitViewSchema,
  userUsageViewSchema,
  userViewSchema,
  workerHistorySchema,
  workerTelemetryViewSchema,
  workerViewSchema,
} from './view-schemas.js';

const count = z.number().int().min(0);

/** Who may call a route: anyone, a logged-in user (login or API token), an admin. */
export type RouteAuth = 'none' | 'user' | 'admin';

/** An answer: a JSON body described by `schema`, another content type, or only a description. */
export interface ResponseDoc {
  description: string;
  /** a JSON body; absent with no `contentType`: described in words only (the document says so) */
  schema?: z.ZodType | undefined;
  /** a body that is not JSON (text, bytes, PEM) */
  contentType?: string | undefined;
  headers?: Record<string, string> | undefined;
}

export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI style: /api/tasks/{id} */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string | undefined;
  auth: RouteAuth;
  /** path parameters; each must appear in `path` */
  params?: Record<string, z.ZodType> | undefined;
  /** query parameters: an object schema, one parameter per property */
  query?: z.ZodObject | undefined;
  /** the request body (JSON unless `contentTypes` says more) */
  body?: { schema: z.ZodType; contentTypes?: string[] | undefined; description?: string | undefined } | undefined;
  /** the success answers */
  responses: Record<number, ResponseDoc>;
  /** error answers besides 401 (user, admin) and 403 (admin), which are added: status → when */
  errors?: Partial<Record<400 | 401 | 403 | 404 | 409 | 410 | 413 | 429 | 503, string>> | undefined;
}

const id = z.string().min(1).max(128);
const workerId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);
const apiTokenId = z.string().regex(/^[A-Za-z0-9-]{1,64}$/);
const queueName = z.string().regex(QUEUE_NAME);
const userRef = z.string().min(1).max(254).describe('a user id or email');

/** `{key: schema}` as a JSON answer. */
const one = <K extends string>(key: K, schema: z.ZodType) => z.strictObject({ [key]: schema } as Record<K, z.ZodType>);
const many = <K extends string>(key: K, schema: z.ZodType) => one(key, z.array(schema));
const LOCATION = { Location: 'the new resource' };

/** Fields of other engines' files, accepted and ignored with a warning. */
const ignoredFields = (fields: Readonly<Record<string, string>>): Record<string, z.ZodOptional<z.ZodUnknown>> =>
  Object.fromEntries(Object.entries(fields).map(([key, why]) => [key, z.unknown().optional().describe(`ignored, with a warning (${why})`)]));

/** GET /api/workers/{id}/history */
const workerEventsSchema = z.strictObject({
  events: z.array(
    z.strictObject({
      at: z.string().describe('ISO 8601'),
      kind: z.enum(WORKER_HISTORY_KINDS as [WorkerHistoryKind, ...WorkerHistoryKind[]]),
      detail: z.string().nullable().describe('e.g. why it was declared lost'),
    }),
  ),
  recentTasks: z
    .array(
      z.strictObject({
        taskId: z.string(),
        name: z.string(),
        taskStatus: z.string(),
        attempt: z.number().int().min(1),
        attemptStatus: z.string(),
        createdAt: z.string(),
        startedAt: z.string().nullable(),
        finishedAt: z.string().nullable(),
      }),
    )
    .describe('the attempts placed on the worker, newest first; a user sees only their own tasks'),
});

/** A DAG file as POST /api/dags reads it (YAML or JSON): the document, each task a submission plus its place in the graph. */
export const dagFileSchema = documentSchema
  .extend({
    tasks: z
      .array(
        dagTaskSchema
          .extend(taskInputSchema.omit({ name: true, maxRetries: true }).shape)
          .extend({
            env: z
              .union([taskInputSchema.shape.env.unwrap(), z.array(z.strictObject({ name: z.string(), value: z.string().optional() }))])
              .optional()
              .describe('a map, or a list of {name, value} (Kubernetes style); a name given twice is refused'),
            ...ignoredFields(FOREIGN_TASK_FIELDS),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_DAG_TASKS),
    ...ignoredFields(FOREIGN_DAG_FIELDS),
  })
  .describe('a DAG file (docs/DAGS.md): dagName (or name) is required; depends_on/dependsOn and retries.count/maxRetries are alternative spellings, not both');

export const taskBatchSchema = z.strictObject({ tasks: z.array(taskInputSchema).min(1).max(MAX_BATCH) });

/** POST /api/gangs as documented: the members are task submissions (validated one by one, each refusal naming members[i]). */
const gangBodySchema = gangSchema.extend({ members: z.array(taskInputSchema).min(1).max(MAX_GANG_SIZE) });

export const API_ROUTE_DOCS: readonly RouteDoc[] = [
  // --- operations (outside /api)
  {
    method: 'get', path: '/health', operationId: 'health', tag: 'Operations', auth: 'none',
    summary: 'Liveness, the number of workers, and who leads (several masters)',
    responses: {
      200: {
        description: 'the master is up',
        schema: z.strictObject({
          status: z.literal('ok'),
          workers: z.strictObject({ total: z.number().int(), ready: z.number().int() }),
          role: z.enum(['leader', 'standby']),
          epoch: z.number().int().nullable(),
          leader: z.string().nullable(),
          leaderUrl: z.string().nullable(),
        }),
      },
    },
  },
  {
    method: 'get', path: '/metrics', operationId: 'metrics', tag: 'Operations', auth: 'none',
    summary: 'Prometheus metrics (text exposition format)',
    responses: { 200: { description: 'every metric of docs/API.md, "Metrics"', contentType: 'text/plain' } },
    errors: { 404: 'metrics are not enabled on this master' },
  },
  {
    method: 'get', path: '/telemetry', operationId: 'telemetry', tag: 'Operations', auth: 'user',
    summary: "Every worker's telemetry",
    responses: { 200: { description: 'each worker with the tasks placed on it', schema: many('workers', workerTelemetryViewSchema) } },
  },
  {
    method: 'get', path: '/api/openapi.json', operationId: 'openApiDocument', tag: 'Operations', auth: 'none',
    summary: 'This document (OpenAPI 3.1)',
    responses: { 200: { description: 'the OpenAPI document; not described by a schema here (it is the OpenAPI 3.1 schema)' } },
  },
  {
    method: 'get', path: '/api/docs', operationId: 'apiDocsPage', tag: 'Operations', auth: 'none',
    summary: 'Redirect to the browsable API reference of the dashboard (/docs)',
    responses: { 302: { description: 'to /docs, the dashboard page that renders this document', headers: { Location: '/docs' } } },
  },

  // --- auth
  {
    method: 'post', path: '/api/auth/register', operationId: 'register', tag: 'Auth', auth: 'none',
    summary: 'Create an account (WHARF_REGISTRATION: open, or with an invite)',
    body: { schema: registerSchema },
    responses: {
      201: { description: 'with a usable invite: the new user (the invite\'s address and role) and a login token', schema: z.strictObject({ user: userViewSchema, token: z.string() }) },
      202: {
        description: 'open registration without an invite: the same answer for a free and a taken address (log in next)',
        schema: z.strictObject({ status: z.literal('accepted'), message: z.string() }),
      },
    },
    errors: {
      400: 'a bad field (an invite\'s email that is not its address)',
      403: 'invite mode without a code, a code that cannot be used, or closed registration',
      429: 'past the per-address or master-wide limits (Retry-After)',
    },
  },
  {
    method: 'post', path: '/api/auth/login', operationId: 'login', tag: 'Auth', auth: 'none',
    summary: 'Log in',
    body: { schema: loginSchema },
    responses: { 200: { description: 'the user and a login token', schema: z.strictObject({ user: userViewSchema, token: z.string() }) } },
    errors: { 400: 'a bad field', 401: 'wrong email or password', 403: 'a disabled account', 429: 'too many logins from this address (Retry-After)' },
  },
  {
    method: 'get', path: '/api/auth/invites/{code}', operationId: 'lookUpInvite', tag: 'Auth', auth: 'none',
    summary: 'The address and role of an open invite (the register page shows them)',
    params: { code: z.string().min(1).max(200) },
    responses: {
      200: {
        description: 'the invite',
        schema: one('invite', z.strictObject({ email: z.string(), role: z.enum(['admin', 'user']), expiresAt: z.iso.datetime() })),
      },
    },
    errors: { 400: 'not an invite code', 403: 'a code that cannot be used (unknown, used, revoked or expired)', 429: 'past the per-address limit' },
  },
  {
    method: 'get', path: '/api/auth/config', operationId: 'authConfig', tag: 'Auth', auth: 'none',
    summary: 'Who may register, and how long a login session lasts',
    responses: {
      200: {
        description: 'the settings',
        schema: z.strictObject({ registration: z.enum(['open', 'invite', 'closed']), sessionMaxAgeSeconds: z.number().int().min(0) }),
      },
    },
  },
  {
    method: 'post', path: '/api/auth/refresh', operationId: 'refreshLogin', tag: 'Auth', auth: 'user',
    summary: 'A fresh login token of the same session',
    responses: { 200: { description: 'the user and a new login token', schema: z.strictObject({ user: userViewSchema, token: z.string() }) } },
    errors: { 400: 'an API token (only login tokens are refreshed)', 401: 'the session is older than WHARF_SESSION_MAX_AGE' },
  },
  {
    method: 'post', path: '/api/auth/logout', operationId: 'logout', tag: 'Auth', auth: 'user',
    summary: 'End this login session (everywhere: every session of the user)',
    body: { schema: logoutSchema },
    responses: { 204: { description: 'the session\'s tokens are refused from now on; its WebSockets and follow streams end' } },
    errors: { 400: 'an API token (revoke it instead), or a bad everywhere' },
  },
  {
    method: 'get', path: '/api/auth/me', operationId: 'me', tag: 'Auth', auth: 'user',
    summary: 'The user the token belongs to',
    responses: { 200: { description: 'the user', schema: one('user', userViewSchema) } },
  },

  // --- users and the audit trail (admins)
  {
    method: 'get', path: '/api/users', operationId: 'listUsers', tag: 'Users', auth: 'admin',
    summary: 'Every user, oldest first',
    responses: { 200: { description: 'the users', schema: many('users', userViewSchema) } },
  },
  {
    method: 'post', path: '/api/users/invites', operationId: 'createInvite', tag: 'Users', auth: 'admin',
    summary: 'Invite an address to register (its code is shown only here)',
    body: { schema: inviteSchema },
    responses: {
      201: {
        description: 'the invite, its code and the register link with it',
        schema: z.strictObject({ invite: inviteViewSchema, code: z.string(), link: z.string() }),
        headers: LOCATION,
      },
    },
    errors: { 400: 'a bad field', 409: 'an address that has an account, or past 1,000 open invites' },
  },
  {
    method: 'get', path: '/api/users/invites', operationId: 'listInvites', tag: 'Users', auth: 'admin',
    summary: 'Every invite, oldest first, never a code',
    responses: { 200: { description: 'the invites', schema: many('invites', inviteViewSchema) } },
  },
  {
    method: 'delete', path: '/api/users/invites/{id}', operationId: 'revokeInvite', tag: 'Users', auth: 'admin',
    summary: 'Revoke an invite',
    params: { id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/) },
    responses: { 200: { description: 'the revoked invite', schema: one('invite', inviteViewSchema) } },
    errors: { 400: 'not an invite id', 404: 'no such invite', 409: 'already used or revoked' },
  },
  {
    method: 'get', path: '/api/users/{id}', operationId: 'getUser', tag: 'Users', auth: 'admin',
    summary: 'One user',
    params: { id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/) },
    responses: { 200: { description: 'the user', schema: one('user', userViewSchema) } },
    errors: { 400: 'not a user id', 404: 'no such user' },
  },
  {
    method: 'patch', path: '/api/users/{id}', operationId: 'updateUser', tag: 'Users', auth: 'admin',
    summary: 'Change a user\'s role, disable or enable the account (its login sessions end), or set their storage quota',
    params: { id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/) },
    body: { schema: userPatchSchema },
    responses: { 200: { description: 'the user', schema: one('user', userViewSchema) } },
    errors: { 400: 'a bad field, or none of role, disabled and storageQuotaBytes', 404: 'no such user', 409: 'the last enabled admin' },
  },
  {
    method: 'delete', path: '/api/users/{id}', operationId: 'deleteUser', tag: 'Users', auth: 'admin',
    summary: 'Delete a user: unfinished tasks and DAG runs cancelled, API tokens revoked; tasks, logs, files and audit entries kept',
    params: { id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/) },
    responses: {
      200: {
        description: 'the removed user and what was cancelled and revoked',
        schema: z.strictObject({ user: userViewSchema, cancelled: z.strictObject({ tasks: z.number().int().min(0), dags: z.number().int().min(0) }), apiTokensRevoked: z.number().int().min(0) }),
      },
    },
    errors: { 400: 'not a user id', 404: 'no such user', 409: 'the last enabled admin' },
  },
  {
    method: 'get', path: '/api/audit', operationId: 'listAudit', tag: 'Users', auth: 'admin',
    summary: 'The audit trail, newest first',
    description: '`user`: a user id or an email; `since`/`until`: an ISO time or a duration back from now (30m, 24h, 7d).',
    query: auditQuery,
    responses: { 200: { description: 'a page; pass nextCursor back as cursor', schema: z.strictObject({ entries: z.array(auditEntryViewSchema), nextCursor: z.string().nullable() }) } },
    errors: { 400: 'a bad field (named)' },
  },

  // --- API tokens
  {
    method: 'post', path: '/api/tokens', operationId: 'createApiToken', tag: 'API tokens', auth: 'user',
    summary: 'Create an API token (its secret is shown only here)',
    body: { schema: apiTokenSchema },
    responses: { 201: { description: 'the token and its secret', schema: z.strictObject({ token: apiTokenViewSchema, secret: z.string() }), headers: LOCATION } },
    errors: { 400: 'a bad field', 409: 'a name you already use, or past 100 tokens' },
  },
  {
    method: 'get', path: '/api/tokens', operationId: 'listApiTokens', tag: 'API tokens', auth: 'user',
    summary: 'Your API tokens (every user\'s with all=true, admins only)',
    query: apiTokenListQuery,
    responses: { 200: { description: 'oldest first', schema: many('tokens', apiTokenViewSchema) } },
    errors: { 400: 'a bad all', 403: 'all=true from a non-admin' },
  },
  {
    method: 'delete', path: '/api/tokens/{id}', operationId: 'revokeApiToken', tag: 'API tokens', auth: 'user',
    summary: 'Revoke an API token',
    params: { id: apiTokenId },
    responses: { 200: { description: 'the revoked token', schema: one('token', apiTokenViewSchema) } },
    errors: { 400: 'not an API token id', 404: 'an unknown id or another user\'s token' },
  },

  // --- tasks
  {
    method: 'post', path: '/api/tasks', operationId: 'submitTask', tag: 'Tasks', auth: 'user',
    summary: 'Submit a task',
    body: { schema: taskInputSchema },
    responses: { 201: { description: 'the queued task', schema: one('task', taskViewSchema), headers: LOCATION } },
    errors: { 400: 'a bad field (the message names it)', 403: 'an admin-only setting from a non-admin (runtime exec, network host, capAdd, a user name or uid 0), or storage_quota_exceeded: the user keeps more bytes than their storage quota (the message names used and limit)' },
  },
  {
    method: 'post', path: '/api/tasks/fit', operationId: 'checkTaskFit', tag: 'Tasks', auth: 'user',
    summary: 'Will it fit? Whether a submission would be placed now, where, and why not on each other worker (nothing is stored)',
    description: "The body is a submission, checked as POST /api/tasks checks it. `fits` is the planner's own verdict on the task alone at the head of its queue (tasks queued before it may take the room first); each connected worker's reasons use the planner's rules: runtime, labels, the queue's worker selector and constraints, the task's constraints, a pin, capacity and free room, a reservation held for another task, free GPU ids, drain.",
    body: { schema: taskInputSchema },
    responses: { 200: { description: 'the answer', schema: fitAnswerViewSchema } },
    errors: { 400: 'a bad field (the message names it), or a queue that does not exist', 403: 'an admin-only setting from a non-admin' },
  },
  {
    method: 'post', path: '/api/tasks/batch', operationId: 'submitTasks', tag: 'Tasks', auth: 'user',
    summary: 'Submit up to 1,000 tasks, all or nothing',
    body: { schema: taskBatchSchema },
    responses: { 201: { description: 'the queued tasks, in order', schema: many('tasks', taskViewSchema) } },
    errors: { 400: 'a bad submission, named tasks[i].field; nothing is queued', 403: 'an admin-only setting from a non-admin, or storage_quota_exceeded' },
  },
  {
    method: 'get', path: '/api/tasks', operationId: 'listTasks', tag: 'Tasks', auth: 'user',
    summary: 'Your tasks (all for an admin), filtered and sorted, a page at a time',
    description:
      'Every filter given must hold. status: a comma-separated list; worker: an id or a name (the worker of the latest attempt); user: an id or an email (admins only; a user sees only their own tasks and naming another is 403); dag: a DAG run id; image: exactly; name: a case-insensitive part of the name; since/until: createdAt from/before, an ISO 8601 time or a duration back from now (30m, 24h, 7d); sort: -createdAt (default), createdAt, -finishedAt, finishedAt, -duration, duration (unfinished tasks count as 0). The cursor belongs to its sort and filters; a page stays stable while tasks are added. total counts every matching task (exact).',
    query: taskListQuery,
    responses: {
      200: {
        description: 'a page; pass nextCursor back as cursor',
        schema: z.strictObject({ tasks: z.array(taskViewSchema), nextCursor: z.string().nullable(), total: count.describe('how many tasks match, on every page') }),
      },
    },
    errors: { 400: 'a bad filter, sort, limit or cursor, or an unknown parameter (the message names it)', 403: 'user names another user and the caller is not an admin' },
  },
  {
    method: 'get', path: '/api/tasks/counts', operationId: 'countTasks', tag: 'Tasks', auth: 'user',
    summary: 'How many of your tasks (all for an admin) match the filters, per status',
    description: 'The filters of GET /api/tasks (no sort, limit or cursor). Counts are exact.',
    query: taskFilterQuery,
    responses: {
      200: {
        description: 'every status with its count, and their sum',
        schema: z.strictObject({ counts: z.strictObject(Object.fromEntries(TASK_STATUSES.map((s) => [s, count])) as Record<TaskStatus, typeof count>), total: count }),
      },
    },
    errors: { 400: 'a bad filter or an unknown parameter (the message names it)', 403: 'user names another user and the caller is not an admin' },
  },
  {
    method: 'get', path: '/api/tasks/{id}', operationId: 'getTask', tag: 'Tasks', auth: 'user',
    summary: 'A task with its attempts, files and events',
    params: { id },
    responses: { 200: { description: 'the task', schema: one('task', taskViewSchema) } },
    errors: { 404: 'no such task, or another user\'s' },
  },
  {
    method: 'delete', path: '/api/tasks/{id}', operationId: 'cancelTask', tag: 'Tasks', auth: 'user',
    summary: 'Cancel a task',
    params: { id },
    responses: { 202: { description: 'the task, cancelled or cancelling', schema: one('task', taskViewSchema) } },
    errors: { 404: 'no such task, or another user\'s', 409: 'the task has already finished' },
  },
  {
    method: 'get', path: '/api/tasks/{id}/logs', operationId: 'getTaskLogs', tag: 'Tasks', auth: 'user',
    summary: "A task's stdout and stderr: the text (optionally followed until it ends), or with a search parameter its lines as JSON",
    description:
      'Without grep, regex, ignoreCase, stream, attempt, after, limit or format: the text (text/plain). With any of them: a page of lines (JSON), each numbered within its attempt; a scan stops after limit lines or 2 s of reading and answers `next`, where the next page starts. grep is plain text unless regex=1 (RE2: linear time).',
    params: { id },
    query: logLinesQuery.extend({ follow: z.enum(['true', '1']).optional().describe('keep streaming the text until the task is terminal (not with the line parameters)') }),
    responses: {
      200: { description: 'the log text (with several attempts each starts with "--- attempt N on worker W ---"), or a page of lines', contentType: 'text/plain', schema: logLinesViewSchema },
    },
    errors: { 400: 'a bad line parameter (named): a pattern RE2 cannot take or longer than 500 characters, an attempt the task does not have', 404: 'no such task, or another user\'s', 410: 'retention removed the task\'s logs and files (WHARF_RETAIN_FILES); the message says when' },
  },
  {
    method: 'get', path: '/api/tasks/{id}/logs/raw', operationId: 'downloadTaskLog', tag: 'Tasks', auth: 'user',
    summary: "Download a task's stored log as a file: one attempt, or all with a separator line before each",
    params: { id },
    query: rawLogQuery,
    responses: { 200: { description: 'the stored bytes (stdout, stderr and the master\'s notes, in order)', contentType: 'text/plain', headers: { 'Content-Disposition': 'attachment; filename="task-<id8>[-attempt-N].log"' } } },
    errors: { 400: 'an attempt the task does not have', 404: 'no such task, or another user\'s', 410: 'retention removed the task\'s logs and files (WHARF_RETAIN_FILES); the message says when' },
  },

  // --- dead letters
  {
    method: 'get', path: '/api/dead-letters', operationId: 'listDeadLetters', tag: 'Dead letters', auth: 'user',
    summary: 'Your tasks that failed through their retry policy (all for an admin), newest dead letter first',
    query: deadLetterListQuery,
    responses: { 200: { description: 'a page with each task\'s attempts and last error; pass nextCursor back as cursor', schema: z.strictObject({ deadLetters: z.array(deadLetterViewSchema), nextCursor: z.string().nullable() }) } },
    errors: { 400: 'a bad image, name, limit or cursor' },
  },
  {
    method: 'post', path: '/api/dead-letters/requeue', operationId: 'requeueDeadLetters', tag: 'Dead letters', auth: 'user',
    summary: 'Re-queue dead letters in bulk, by ids or by a filter ({filter: {}}: every one you may see)',
    body: { schema: deadLetterSelectionSchema },
    responses: { 200: { description: 'what was re-queued and what was skipped; more: the filter matched more than 1,000, call again', schema: z.strictObject({ requeued: z.array(z.string()), skipped: bulkSkippedSchema, more: z.boolean() }) } },
    errors: { 400: 'neither taskIds nor filter, an empty or too long taskIds, or a bad filter' },
  },
  {
    method: 'post', path: '/api/dead-letters/dismiss', operationId: 'dismissDeadLetters', tag: 'Dead letters', auth: 'user',
    summary: 'Dismiss dead letters in bulk (they stay failed), by ids or by a filter',
    body: { schema: deadLetterSelectionSchema },
    responses: { 200: { description: 'what was dismissed and what was skipped; more: the filter matched more than 1,000, call again', schema: z.strictObject({ dismissed: z.array(z.string()), skipped: bulkSkippedSchema, more: z.boolean() }) } },
    errors: { 400: 'neither taskIds nor filter, an empty or too long taskIds, or a bad filter' },
  },
  {
    method: 'post', path: '/api/dead-letters/{taskId}/requeue', operationId: 'requeueDeadLetter', tag: 'Dead letters', auth: 'user',
    summary: 'Re-queue a dead letter as the same task, its retries reset',
    params: { taskId: z.string().min(1).max(64) },
    responses: { 200: { description: 'the task, queued again', schema: one('task', taskViewSchema) } },
    errors: { 400: 'not a task id', 404: 'no such task, or another user\'s', 409: 'the task is not a dead letter' },
  },
  {
    method: 'delete', path: '/api/dead-letters/{taskId}', operationId: 'dismissDeadLetter', tag: 'Dead letters', auth: 'user',
    summary: 'Dismiss a dead letter: it stays failed and leaves the list',
    params: { taskId: z.string().min(1).max(64) },
    responses: { 200: { description: 'the task', schema: one('task', taskViewSchema) } },
    errors: { 400: 'not a task id', 404: 'no such task, or another user\'s', 409: 'the task is not a dead letter' },
  },

  // --- queues and user limits
  {
    method: 'get', path: '/api/queues', operationId: 'listQueues', tag: 'Queues', auth: 'user',
    summary: 'Every queue with its usage against its caps, by name',
    responses: { 200: { description: 'the queues (a non-admin sees only their own line of users)', schema: many('queues', queueViewSchema) } },
  },
  {
    method: 'post', path: '/api/queues', operationId: 'createQueue', tag: 'Queues', auth: 'admin',
    summary: 'Create a queue',
    body: { schema: createQueueSchema },
    responses: { 201: { description: 'the queue', schema: one('queue', queueViewSchema), headers: LOCATION } },
    errors: { 400: 'a bad field', 409: 'the name is taken' },
  },
  {
    method: 'get', path: '/api/queues/{name}', operationId: 'getQueue', tag: 'Queues', auth: 'user',
    summary: 'One queue with each user\'s tasks, dominant share and weight',
    params: { name: queueName },
    responses: { 200: { description: 'the queue', schema: one('queue', queueViewSchema) } },
    errors: { 400: 'not a queue name', 404: 'no such queue' },
  },
  {
    method: 'patch', path: '/api/queues/{name}', operationId: 'updateQueue', tag: 'Queues', auth: 'admin',
    summary: 'Change a queue (null removes a cap or the description)',
    params: { name: queueName },
    body: { schema: patchQueueSchema },
    responses: { 200: { description: 'the queue', schema: one('queue', queueViewSchema) } },
    errors: { 400: 'a bad field', 404: 'no such queue' },
  },
  {
    method: 'delete', path: '/api/queues/{name}', operationId: 'deleteQueue', tag: 'Queues', auth: 'admin',
    summary: 'Delete a queue',
    params: { name: queueName },
    responses: { 200: { description: 'the deleted queue', schema: one('queue', queueRecordViewSchema) } },
    errors: { 400: 'not a queue name', 404: 'no such queue', 409: 'default, or a queue that holds queued or placed tasks' },
  },
  {
    method: 'put', path: '/api/queues/{name}/users/{user}', operationId: 'putQueueUserLimit', tag: 'Queues', auth: 'admin',
    summary: 'A user\'s caps and fair-share weight in one queue, replacing what was set',
    params: { name: queueName, user: userRef },
    body: { schema: userLimitSchema },
    responses: { 200: { description: 'the limit', schema: one('limit', userLimitViewSchema) } },
    errors: { 400: 'a bad field', 404: 'no such queue or user' },
  },
  {
    method: 'delete', path: '/api/queues/{name}/users/{user}', operationId: 'deleteQueueUserLimit', tag: 'Queues', auth: 'admin',
    summary: 'Remove a user\'s limits in one queue',
    params: { name: queueName, user: userRef },
    responses: { 204: { description: 'removed' } },
    errors: { 400: 'not a queue name or user', 404: 'none was set, or no such user' },
  },
  {
    method: 'get', path: '/api/user-limits', operationId: 'listUserLimits', tag: 'Queues', auth: 'admin',
    summary: 'Every user limit, by user then queue',
    responses: { 200: { description: 'the limits', schema: many('limits', userLimitViewSchema) } },
  },
  {
    method: 'put', path: '/api/user-limits/{user}', operationId: 'putUserLimit', tag: 'Queues', auth: 'admin',
    summary: 'A user\'s caps across all queues (and their weight where no queue sets one), replacing what was set',
    params: { user: userRef },
    body: { schema: userLimitSchema },
    responses: { 200: { description: 'the limit', schema: one('limit', userLimitViewSchema) } },
    errors: { 400: 'a bad field', 404: 'no such user' },
  },
  {
    method: 'delete', path: '/api/user-limits/{user}', operationId: 'deleteUserLimit', tag: 'Queues', auth: 'admin',
    summary: 'Remove a user\'s limits across all queues',
    params: { user: userRef },
    responses: { 204: { description: 'removed' } },
    errors: { 400: 'not a user', 404: 'none was set, or no such user' },
  },

  // --- registry credentials
  {
    method: 'post', path: '/api/registry-credentials', operationId: 'putRegistryCredential', tag: 'Registry credentials', auth: 'user',
    summary: 'Store your credentials for a container registry (replacing earlier ones for it)',
    body: { schema: registryCredentialSchema },
    responses: { 201: { description: 'the credential, never the password', schema: one('credential', registryCredentialViewSchema), headers: LOCATION } },
    errors: { 400: 'a bad field', 409: 'past 100 registries' },
  },
  {
    method: 'get', path: '/api/registry-credentials', operationId: 'listRegistryCredentials', tag: 'Registry credentials', auth: 'user',
    summary: 'Your registry credentials (everyone\'s with all=true, admins only)',
    query: registryCredentialListQuery,
    responses: { 200: { description: 'oldest first', schema: many('credentials', registryCredentialViewSchema) } },
    errors: { 400: 'a bad all', 403: 'all=true from a non-admin' },
  },
  {
    method: 'delete', path: '/api/registry-credentials/{id}', operationId: 'deleteRegistryCredential', tag: 'Registry credentials', auth: 'user',
    summary: 'Delete a registry credential',
    params: { id: apiTokenId },
    responses: { 200: { description: 'the deleted credential', schema: one('credential', registryCredentialViewSchema) } },
    errors: { 400: 'not a registry credential id', 404: 'an unknown id or another user\'s' },
  },

  // --- workers
  {
    method: 'get', path: '/api/workers', operationId: 'listWorkers', tag: 'Workers', auth: 'user',
    summary: 'Every worker',
    responses: { 200: { description: 'the workers', schema: many('workers', workerViewSchema) } },
  },
  {
    method: 'get', path: '/api/workers/{id}', operationId: 'getWorker', tag: 'Workers', auth: 'user',
    summary: 'One worker',
    params: { id },
    responses: { 200: { description: 'the worker', schema: one('worker', workerViewSchema) } },
    errors: { 404: 'no such worker' },
  },
  {
    method: 'get', path: '/api/workers/{id}/metrics', operationId: 'getWorkerMetrics', tag: 'Workers', auth: 'user',
    summary: "A worker's telemetry history for charts, oldest first",
    params: { id },
    query: z.object({ since: z.string().max(64).optional().describe('ISO 8601 time: only samples after it') }),
    responses: { 200: { description: 'the history', schema: workerHistorySchema } },
    errors: { 400: 'a since that is not a time', 404: 'no such worker' },
  },
  {
    method: 'get', path: '/api/workers/{id}/history', operationId: 'getWorkerHistory', tag: 'Workers', auth: 'user',
    summary: 'What happened to a worker (joined, drained, lost, removed, …) and its recent tasks, newest first',
    params: { id },
    query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50).describe('at most this many events and this many attempts') }),
    responses: { 200: { description: 'the history', schema: workerEventsSchema } },
    errors: { 400: 'a bad limit', 404: 'a worker neither known nor in the history' },
  },
  {
    method: 'post', path: '/api/workers/{id}/drain', operationId: 'drainWorker', tag: 'Workers', auth: 'admin',
    summary: 'Place no new tasks on a worker; running ones finish',
    params: { id },
    responses: { 202: { description: 'the worker', schema: one('worker', workerViewSchema) } },
    errors: { 404: 'no such worker' },
  },
  {
    method: 'post', path: '/api/workers/{id}/activate', operationId: 'activateWorker', tag: 'Workers', auth: 'admin',
    summary: 'Undo a drain',
    params: { id },
    responses: { 202: { description: 'the worker', schema: one('worker', workerViewSchema) } },
    errors: { 404: 'no such worker' },
  },
  {
    method: 'delete', path: '/api/workers/{id}', operationId: 'removeWorker', tag: 'Workers', auth: 'admin',
    summary: 'Remove a worker: its certificates are revoked and its attempts re-queued once it must have stopped them',
    params: { id: workerId },
    responses: { 200: { description: 'the removed worker', schema: one('worker', z.strictObject({ id: z.string(), name: z.string(), removed: z.literal(true) })) } },
    errors: { 400: 'not a worker id', 404: 'no such worker' },
  },

  // --- cluster and joining
  {
    method: 'get', path: '/api/cluster/stats', operationId: 'clusterStats', tag: 'Cluster', auth: 'admin',
    summary: 'Heartbeat handling times and worker and task counts',
    responses: {
      200: {
        description: 'load figures',
        schema: z.strictObject({
          heartbeats: z.strictObject({ count: z.number().int(), p50Ms: z.number(), p99Ms: z.number(), maxMs: z.number() }),
          workers: z.record(z.string(), z.number().int()).describe('total, ready, draining, lost'),
          tasks: z.record(z.string(), z.number().int()).describe('queued, assigned, running'),
        }),
      },
    },
  },
  {
    method: 'get', path: '/api/cluster/ca.crt', operationId: 'clusterCa', tag: 'Joining workers', auth: 'none',
    summary: 'The serving CA certificate (for curl --cacert and a worker\'s --ca-file)',
    responses: { 200: { description: 'PEM; header X-Wharf-Ca-Hash', contentType: 'application/x-pem-file', headers: { 'X-Wharf-Ca-Hash': 'sha256:… of the CA' } } },
  },
  {
    method: 'get', path: '/api/cluster/join', operationId: 'joinLine', tag: 'Joining workers', auth: 'admin',
    summary: 'What a worker dials, the CA hash it pins and the join line',
    responses: {
      200: {
        description: 'the join line with a --token-file placeholder, and the one-line join (null when this master does not serve it)',
        schema: z.strictObject({ grpcAddress: z.string(), caHash: z.string(), command: z.string(), oneLine: oneLineJoinViewSchema.nullable() }),
      },
    },
  },
  {
    method: 'post', path: '/api/join-tokens', operationId: 'createJoinToken', tag: 'Joining workers', auth: 'admin',
    summary: 'Create a join token (its secret is shown only here)',
    body: { schema: newTokenSchema },
    responses: {
      201: {
        description: 'the token, the full secret, the join line and the one-line join with this secret (null when the master has no worker bundle)',
        schema: z.strictObject({ token: joinTokenViewSchema, secret: z.string(), command: z.string(), oneLineCommand: z.string().nullable() }),
        headers: LOCATION,
      },
    },
    errors: { 400: 'a bad value or an unknown field' },
  },
  {
    method: 'get', path: '/api/join-tokens', operationId: 'listJoinTokens', tag: 'Joining workers', auth: 'admin',
    summary: 'Every join token, oldest first, never a secret',
    responses: { 200: { description: 'the tokens', schema: many('tokens', joinTokenViewSchema) } },
  },
  {
    method: 'delete', path: '/api/join-tokens/{id}', operationId: 'revokeJoinToken', tag: 'Joining workers', auth: 'admin',
    summary: 'Revoke a join token',
    params: { id: z.string().regex(/^[a-z0-9_]{3,40}$/) },
    responses: { 200: { description: 'the revoked token', schema: one('token', joinTokenViewSchema) } },
    errors: { 400: 'not a join token id', 404: 'no such token' },
  },

  {
    method: 'get', path: '/join.sh', operationId: 'joinScript', tag: 'Joining workers', auth: 'none',
    summary: 'The one-line join script, filled in for the address the client reached',
    responses: {
      200: {
        description: 'the script (docs/OPERATIONS.md, "One-line join")',
        contentType: 'text/x-shellscript',
        headers: { 'X-Wharf-Bundle-Sha256': 'the sha256 of the worker bundle the script downloads' },
      },
    },
    errors: { 503: 'the master has no worker bundle (npm run build on the master)' },
  },
  {
    method: 'get', path: '/join/wharf-worker.mjs', operationId: 'joinBundle', tag: 'Joining workers', auth: 'none',
    summary: 'The worker and its dependencies in one file',
    responses: {
      200: { description: 'the bundle; join.sh refuses bytes whose sha256 is not the one it announces', contentType: 'text/javascript', headers: { 'X-Wharf-Bundle-Sha256': 'hex sha256 of the bytes' } },
    },
    errors: { 503: 'not built' },
  },

  // --- files
  {
    method: 'get', path: '/api/files', operationId: 'listFiles', tag: 'Files', auth: 'user',
    summary: 'Your output files (all for an admin)',
    responses: { 200: { description: 'the files', schema: many('files', fileViewSchema) } },
  },
  {
    method: 'get', path: '/api/files/{taskId}', operationId: 'listTaskFiles', tag: 'Files', auth: 'user',
    summary: "One task's output files",
    params: { taskId: id },
    responses: { 200: { description: 'the files', schema: many('files', fileViewSchema) } },
    errors: { 404: 'no such task, or another user\'s', 410: 'retention removed the task\'s logs and files' },
  },
  {
    method: 'get', path: '/api/files/{taskId}/download/{path}', operationId: 'downloadFile', tag: 'Files', auth: 'user',
    summary: 'The bytes of one output file',
    description: '`path` is the file\'s path under /output and may contain slashes (`a/b.txt`), sent as they are.',
    params: { taskId: id, path: z.string().min(1) },
    responses: { 200: { description: 'the bytes; header X-Wharf-Sha256', contentType: 'application/octet-stream', headers: { 'X-Wharf-Sha256': 'the sha256 the master computed' } } },
    errors: { 400: 'a traversal path', 404: 'no such task or file', 410: 'retention removed the task\'s logs and files' },
  },

  // --- retention and storage
  {
    method: 'post', path: '/api/admin/gc', operationId: 'runGc', tag: 'Retention', auth: 'admin',
    summary: 'Run the garbage collector now (retention by age and count; docs/OPERATIONS.md)',
    query: gcQuery,
    responses: { 200: { description: 'what the run removed (with dryRun=true: what it would remove; nothing is removed) and the bytes freed', schema: gcReportSchema } },
    errors: { 400: 'dryRun not true or false' },
  },
  {
    method: 'get', path: '/api/usage', operationId: 'getUsage', tag: 'Retention', auth: 'user',
    summary: 'Bytes of logs, outputs and artifacts per user, with each quota (yours; everyone\'s for an admin)',
    query: usageQuery,
    responses: { 200: { description: 'one entry per user; measured at most 30 s ago', schema: z.strictObject({ users: z.array(userUsageViewSchema), measuredAt: z.string() }) } },
    errors: { 400: 'a bad user', 404: 'no such user, or (for a user) another one' },
  },

  // --- DAGs
  {
    method: 'post', path: '/api/dags', operationId: 'submitDag', tag: 'DAGs', auth: 'user',
    summary: 'Submit a DAG run',
    body: {
      schema: dagFileSchema,
      contentTypes: ['application/json', 'application/yaml', 'text/yaml', 'text/plain'],
      description: `a DAG file, YAML or JSON, at most ${MAX_DAG_FILE_BYTES} bytes`,
    },
    responses: {
      201: {
        description: 'the run, and a warning for each field of another engine\'s file that was ignored (apiVersion, artifactRepository, a task\'s serviceAccountName or type, …)',
        schema: z.strictObject({ dag: dagSummaryViewSchema, warnings: z.array(z.strictObject({ path: z.string(), message: z.string() })) }),
        headers: LOCATION,
      },
    },
    errors: { 400: 'a bad file (cycle: a -> b -> a, tasks[2].depends_on: unknown task …, unknown field "imgae" (did you mean "image"?))', 403: 'an exec task from a non-admin, or storage_quota_exceeded', 413: 'a file over 1 MiB' },
  },
  {
    method: 'post', path: '/api/dags/{id}/retry', operationId: 'retryDag', tag: 'DAGs', auth: 'user',
    summary: 'Retry an ended run from its failed tasks: a new run reusing the tasks that succeeded',
    params: { id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/) },
    responses: { 201: { description: 'the new run (origin {kind: retry}); reused tasks have reusedFrom', schema: one('dag', dagSummaryViewSchema), headers: LOCATION } },
    errors: { 403: 'an exec task from a non-admin, or storage_quota_exceeded', 404: 'no such run, or another user\'s', 409: 'the run is still running, or it succeeded (nothing to retry)' },
  },
  {
    method: 'post', path: '/api/dags/{id}/rerun', operationId: 'rerunDag', tag: 'DAGs', auth: 'user',
    summary: 'Run an ended run\'s file anew, as a new run',
    params: { id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/) },
    responses: { 201: { description: 'the new run (origin {kind: rerun})', schema: one('dag', dagSummaryViewSchema), headers: LOCATION } },
    errors: { 403: 'an exec task from a non-admin, or storage_quota_exceeded', 404: 'no such run, or another user\'s', 409: 'the run is still running' },
  },
  {
    method: 'get', path: '/api/dags', operationId: 'listDags', tag: 'DAGs', auth: 'user',
    summary: 'Your DAG runs (all for an admin), newest first',
    query: dagListQuery,
    responses: { 200: { description: 'the runs', schema: many('dags', dagSummaryViewSchema) } },
    errors: { 400: 'a bad limit or name' },
  },
  {
    method: 'get', path: '/api/dags/{id}', operationId: 'getDag', tag: 'DAGs', auth: 'user',
    summary: 'A DAG run with its tasks, attempts and inputs',
    params: { id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/) },
    responses: {
      200: { description: '{dag}: the run with each task\'s status, taskId, reason, dependsOn, outputs, artifacts, workerId, attempts and inputs (docs/API.md, "DAGs"); described in words only, not by a schema' },
    },
    errors: { 404: 'no such run, or another user\'s' },
  },
  {
    method: 'delete', path: '/api/dags/{id}', operationId: 'cancelDag', tag: 'DAGs', auth: 'user',
    summary: 'Cancel a DAG run',
    params: { id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/) },
    responses: { 202: { description: 'the run', schema: one('dag', dagSummaryViewSchema) } },
    errors: { 404: 'no such run, or another user\'s', 409: 'the run has already ended' },
  },
  {
    method: 'get', path: '/api/dags/{name}/metrics', operationId: 'dagMetrics', tag: 'DAGs', auth: 'user',
    summary: 'Per-run figures of one DAG (cache hits, durations), newest first',
    params: { name: z.string().regex(DAG_NAME_PATTERN) },
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(20) }),
    responses: { 200: { description: 'the runs (docs/DAGS.md)', schema: many('runs', dagRunMetricsSchema) } },
    errors: { 400: 'a bad name or limit' },
  },
  // --- gangs
  {
    method: 'post', path: '/api/gangs', operationId: 'submitGang', tag: 'Gangs', auth: 'user',
    summary: 'Submit a gang: member tasks placed all-or-nothing across workers',
    body: { schema: gangBodySchema, description: 'members in rank order, each a task submission; size (optional) must equal the number of members' },
    responses: { 201: { description: 'the gang with its members', schema: one('gang', gangViewSchema), headers: LOCATION } },
    errors: { 400: 'a bad gang or member (members[2].image: …)', 403: 'an admin-only member setting', 409: 'no free gang ports, or a queue full' },
  },
  {
    method: 'get', path: '/api/gangs', operationId: 'listGangs', tag: 'Gangs', auth: 'user',
    summary: 'Your gangs (all for an admin), newest first',
    query: gangListQuery,
    responses: { 200: { description: 'the gangs', schema: many('gangs', gangSummaryViewSchema) } },
    errors: { 400: 'a bad limit or status' },
  },
  {
    method: 'get', path: '/api/gangs/{id}', operationId: 'getGang', tag: 'Gangs', auth: 'user',
    summary: 'A gang with its members (rank, task, status, worker, reason)',
    params: { id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/) },
    responses: { 200: { description: 'the gang', schema: one('gang', gangViewSchema) } },
    errors: { 404: 'no such gang, or another user\'s' },
  },
  {
    method: 'delete', path: '/api/gangs/{id}', operationId: 'cancelGang', tag: 'Gangs', auth: 'user',
    summary: 'Cancel a gang: every member that still lives is cancelled',
    params: { id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/) },
    responses: { 202: { description: 'the gang', schema: one('gang', gangViewSchema) } },
    errors: { 404: 'no such gang, or another user\'s', 409: 'the gang has already ended' },
  },
];

/** Schemas worth a name of their own in components/schemas (the rest are named after their route). */
export const NAMED_SCHEMAS: ReadonlyArray<readonly [string, z.ZodType]> = [
  ['Task', taskViewSchema],
  ['DeadLetter', deadLetterViewSchema],
  ['Queue', queueViewSchema],
  ['UserLimit', userLimitViewSchema],
  ['Worker', workerViewSchema],
  ['WorkerTelemetry', workerTelemetryViewSchema],
  ['User', userViewSchema],
  ['Invite', inviteViewSchema],
  ['AuditEntry', auditEntryViewSchema],
  ['File', fileViewSchema],
  ['Dag', dagSummaryViewSchema],
  ['Gang', gangViewSchema],
  ['GangSummary', gangSummaryViewSchema],
  ['DagRunMetrics', dagRunMetricsSchema],
  ['ApiToken', apiTokenViewSchema],
  ['JoinToken', joinTokenViewSchema],
  ['RegistryCredential', registryCredentialViewSchema],
  ['Resources', resourcesSchema],
];

/** Request schemas worth a name of their own. */
export const NAMED_INPUT_SCHEMAS: ReadonlyArray<readonly [string, z.ZodType]> = [
  ['TaskSubmission', taskInputSchema],
  ['DagFile', dagFileSchema],
];
