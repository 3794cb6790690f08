// A DAG file (YAML or JSON) → a validated, normalised DagSpec.
//
// Each task is validated by parseTaskInput (tasks/task-input.ts), the same rules as a single
// task submission, so image, command, env, resources, priority, labels, timeoutSeconds and
// runtime can never mean something different inside a DAG. On top of that a DAG task has
// dependsOn, inputs [{fromTask, name}] and outputs [name]. The Helios spelling is accepted as
// it is (`depends_on`, `retries: {count}`) next to the camelCase one (`dependsOn`,
// `maxRetries`); giving both spellings of one field is refused rather than guessed.
//
// Every refusal is WharfError('validation_failed') whose message names the place and the
// problem, e.g. `tasks[2].depends_on: unknown task "trian"` or `cycle: a -> b -> c -> a`.
//
// Files written for other engines (the Helios project's own, Argo-style: `apiVersion`,
// `artifactRepository`, per-task `serviceAccountName` and `type`, `env` as a list of
// `{name, value}`) are accepted: the fields of a fixed list that Wharf has no use for
// (FOREIGN_DAG_FIELDS, FOREIGN_TASK_FIELDS) are dropped with a warning naming each one; any
// other unknown field is still refused, with a did-you-mean when a Wharf field is close.
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { WharfError } from '../errors.js';
import { normaliseOutputPath } from '../files/output-paths.js';
import type { DagSpec, DagTaskSpec } from '../records/dag.js';
import type { NewTask } from '../records/task.js';
import { describeIssues, ENV_KEY, parseTaskInput, taskInputSchema } from '../tasks/task-input.js';
import { DagGraph } from './dag-graph.js';

/** Task and DAG names: letters, digits, "-", "_", "." — starting with a letter or digit. */
export const DAG_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const NAME_RULE = 'must be 1 to 63 letters, digits, "-", "_" or "." starting with a letter or digit';

export const MAX_DAG_TASKS = 1000;
export const MAX_TASK_INPUTS = 100;
export const MAX_TASK_OUTPUTS = 100;
/** The largest DAG file accepted, in bytes of text. */
export const MAX_DAG_FILE_BYTES = 1024 * 1024;

const nameSchema = z.string().regex(DAG_NAME_PATTERN, NAME_RULE);

/** Something the parser let through but wants the author to know (a dropped field). */
export interface DagWarning {
  /** where in the file, e.g. `apiVersion` or `tasks[1].serviceAccountName` */
  path: string;
  message: string;
}

/**
 * Top-level fields of other engines' DAG files that Wharf ignores (with a warning), and why.
 * Any other unknown field is refused.
 */
export const FOREIGN_DAG_FIELDS: Readonly<Record<string, string>> = {
  apiVersion: 'Wharf reads one format and has no API versions of it',
  kind: 'a Wharf DAG file is always a DAG',
  metadata: 'the run is named by dagName (or name)',
  artifactRepository: 'Wharf keeps artifacts in its own store (the master\'s disk, or S3 when WHARF_S3_ENDPOINT is set)',
  description: 'Wharf does not store a description',
};

/** Per-task fields of other engines' DAG files that Wharf ignores (with a warning), and why. */
export const FOREIGN_TASK_FIELDS: Readonly<Record<string, string>> = {
  serviceAccountName: 'tasks run with the worker\'s own credentials',
  type: 'the runtime is chosen by `runtime` (docker, kubernetes, exec)',
  description: 'Wharf does not store a description',
};

export const documentSchema = z
  .object({
    dagName: z.string().optional(),
    name: z.string().optional(),
    useCache: z.boolean().default(true),
    tasks: z.array(z.unknown()).min(1, 'must list at least one task').max(MAX_DAG_TASKS, `at most ${MAX_DAG_TASKS} tasks`),
  })
  .strict();

const inputSchema = z.object({ fromTask: z.string(), name: z.string() }).strict();

export const dagTaskSchema = z
  .object({
    name: z.string(),
    depends_on: z.array(z.string()).max(MAX_DAG_TASKS).optional(),
    dependsOn: z.array(z.string()).max(MAX_DAG_TASKS).optional(),
    inputs: z.array(inputSchema).max(MAX_TASK_INPUTS, `at most ${MAX_TASK_INPUTS} inputs`).optional(),
    outputs: z.array(z.string()).max(MAX_TASK_OUTPUTS, `at most ${MAX_TASK_OUTPUTS} outputs`).optional(),
    retries: z.object({ count: z.number().int().min(0).max(100) }).strict().optional(),
    maxRetries: z.number().optional(),
  })
  // everything else (image, command, env, ...) is left for parseTaskInput, which is strict
  .loose();

const DAG_FIELDS: readonly string[] = Object.keys(documentSchema.shape);
const TASK_FIELDS: readonly string[] = [...new Set([...Object.keys(dagTaskSchema.shape), ...Object.keys(taskInputSchema.shape)])];

const envEntrySchema = z
  .object({ name: z.string(), value: z.string({ error: 'must be a string (quote numbers: "1")' }).optional() })
  .strict();

const fail = (message: string): never => {
  throw new WharfError('validation_failed', message);
};

/**
 * Turns a request body into a DagSpec. `body` is the raw text (string or Buffer) or an
 * already-parsed JSON value (what express.json() gives). The format follows the content
 * type (`application/json`; `application/yaml`, `application/x-yaml`, `text/yaml`); with
 * any other or no content type, text that starts with `{` is read as JSON and anything else
 * as YAML.
 */
export function parseDagFile(body: unknown, contentType?: string): DagSpec {
  return validateDag(readDocument(body, contentType));
}

/**
 * Drops the known foreign fields of `record` (adding a warning for each) and refuses any other
 * field not in `known`, suggesting the closest Wharf field. Returns a copy.
 */
function screenFields(
  record: Record<string, unknown>,
  known: readonly string[],
  foreign: Readonly<Record<string, string>>,
  where: string,
  warnings: DagWarning[],
): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    const path = where === '' ? key : `${where}.${key}`;
    if (known.includes(key)) kept[key] = value;
    else if (Object.hasOwn(foreign, key)) warnings.push({ path, message: `ignored: Wharf has no use for "${key}" (${foreign[key]})` });
    else fail(`${where === '' ? '' : `${where}: `}unknown field "${clip(key)}"${suggest(key, known)}`);
  }
  return kept;
}

/** `env` as a map (Wharf) or as a list of {name, value} (Kubernetes, Argo) → a map. */
function envMap(env: unknown, where: string): unknown {
  if (!Array.isArray(env)) return env;
  // a Map, then fromEntries: a name such as "__proto__" stays an own key like any other
  const map = new Map<string, string>();
  env.forEach((item: unknown, i) => {
    const at = `${where}.env[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return fail(`${at}: must be a mapping {name, value}`);
    const parsed = envEntrySchema.safeParse(item);
    if (!parsed.success) return fail(prefix(at, describeIssues(parsed.error)));
    const { name, value } = parsed.data;
    if (!ENV_KEY.test(name)) return fail(`${at}.name: "${clip(name)}" must be an environment variable name (letters, digits, _)`);
    if (name === '__proto__') return fail(`${at}.name: the name "__proto__" is not accepted`);
    if (map.has(name)) return fail(`${at}.name: "${clip(name)}" is listed twice`);
    map.set(name, value ?? '');
  });
  return Object.fromEntries(map);
}

/** Text or a parsed value → a plain value, refusing unreadable, oversized or empty files. */
export function readDocument(body: unknown, contentType?: string): unknown {
  let text: string;
  if (typeof body === 'string') text = body;
  else if (Buffer.isBuffer(body)) text = body.toString('utf8');
  else if (body === undefined || body === null) return fail('body: must be a DAG file in YAML or JSON');
  else return body;
  if (Buffer.byteLength(text, 'utf8') > MAX_DAG_FILE_BYTES) {
    throw new WharfError('payload_too_large', `body: a DAG file may be at most ${MAX_DAG_FILE_BYTES} bytes`);
  }
  if (text.trim() === '') return fail('body: is empty; send a DAG file in YAML or JSON');
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const asJson = type.endsWith('json') || (!/ya?ml/.test(type) && text.trimStart().startsWith('{'));
  if (asJson) {
    try {
      return JSON.parse(text) as unknown;
    } catch (error: unknown) {
      return fail(`body: not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  try {
    // core schema (no custom tags), duplicate keys refused, alias expansion bounded
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100, prettyErrors: true }) as unknown;
  } catch (error: unknown) {
    const message = error instanceof YAMLParseError ? error.message.split('\n')[0]! : String(error);
    return fail(`body: not valid YAML: ${message}`);
  }
}

/** Validates a parsed DAG document (see docs/DAGS.md for the format). */
export function validateDag(document: unknown): DagSpec {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return fail('body: a DAG file must be a mapping with dagName and tasks');
  }
  const warnings: DagWarning[] = [];
  const parsed = documentSchema.safeParse(screenFields(document as Record<string, unknown>, DAG_FIELDS, FOREIGN_DAG_FIELDS, '', warnings));
  if (!parsed.success) return fail(describeIssues(parsed.error));
  const doc = parsed.data;
  if (doc.dagName !== undefined && doc.name !== undefined) fail('name: give dagName or name, not both');
  const dagName = doc.dagName ?? doc.name;
  if (dagName === undefined) return fail('dagName: is required');
  if (!DAG_NAME_PATTERN.test(dagName)) fail(`dagName: "${clip(dagName)}" ${NAME_RULE}`);

  const parsedTasks = doc.tasks.map((raw, index) => parseDagTask(raw, `tasks[${index}]`, warnings));
  const tasks = parsedTasks.map((p) => p.task);

  // names: unique
  const indexOf = new Map<string, number>();
  tasks.forEach((task, index) => {
    if (indexOf.has(task.name)) fail(`tasks[${index}].name: duplicate task name "${task.name}" (also tasks[${indexOf.get(task.name)}])`);
    indexOf.set(task.name, index);
  });

  // dependencies: known, not repeated, not itself
  tasks.forEach((task, index) => {
    const seen = new Set<string>();
    for (const dep of task.dependsOn) {
      const field = `tasks[${index}].${parsedTasks[index]!.dependsOnField}`;
      if (!indexOf.has(dep)) fail(`${field}: unknown task "${clip(dep)}"${suggest(dep, [...indexOf.keys()])}`);
      if (seen.has(dep)) fail(`${field}: "${dep}" is listed twice`);
      seen.add(dep);
    }
  });

  const graph = DagGraph.of(tasks);
  const cycle = graph.findCycle();
  if (cycle) fail(`cycle: ${cycle.join(' -> ')} (each arrow points at a dependency)`);

  // inputs: from a direct dependency, naming one of its declared outputs, one file per name
  tasks.forEach((task, index) => {
    const names = new Map<string, number>();
    task.inputs.forEach((input, i) => {
      const where = `tasks[${index}].inputs[${i}]`;
      const producerIndex = indexOf.get(input.fromTask);
      if (producerIndex === undefined) return fail(`${where}: unknown task "${clip(input.fromTask)}"${suggest(input.fromTask, [...indexOf.keys()])}`);
      if (input.fromTask === task.name) return fail(`${where}: a task cannot take its own output as input`);
      const producer = tasks[producerIndex]!;
      if (!task.dependsOn.includes(input.fromTask)) {
        return fail(`${where}: task "${input.fromTask}" is not among depends_on of "${task.name}"; add it there`);
      }
      if (!producer.outputs.includes(input.name)) {
        const declared = producer.outputs.length > 0 ? ` (it declares ${producer.outputs.map((o) => `"${o}"`).join(', ')})` : ' (it declares no outputs)';
        return fail(`${where}: task "${input.fromTask}" declares no output "${clip(input.name)}"${declared}`);
      }
      const earlier = names.get(input.name);
      if (earlier !== undefined) {
        return fail(`${where}: input name "${input.name}" is already used by inputs[${earlier}]; each input is staged at /input/<name>, so names must differ`);
      }
      names.set(input.name, i);
    });
    assertNoFileDirClash(task.inputs.map((input) => input.name), `tasks[${index}].inputs`);
  });

  const byName = new Map(tasks.map((t) => [t.name, t]));
  return {
    name: dagName,
    useCache: doc.useCache,
    tasks: graph.topologicalOrder().map((name) => byName.get(name)!),
    warnings,
  };
}

function parseDagTask(raw: unknown, where: string, warnings: DagWarning[]): { task: DagTaskSpec; dependsOnField: 'depends_on' | 'dependsOn' } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(`${where}: must be a mapping (name, image, command, ...)`);
  const screened = screenFields(raw as Record<string, unknown>, TASK_FIELDS, FOREIGN_TASK_FIELDS, where, warnings);
  if (screened.env !== undefined) screened.env = envMap(screened.env, where);
  const parsed = dagTaskSchema.safeParse(screened);
  if (!parsed.success) return fail(prefix(where, describeIssues(parsed.error)));
  const { name, depends_on, dependsOn, inputs, outputs, retries, maxRetries, ...taskFields } = parsed.data;
  if (!DAG_NAME_PATTERN.test(name)) fail(`${where}.name: "${clip(name)}" ${NAME_RULE}`);
  const at = `${where} ("${name}")`;
  if (depends_on !== undefined && dependsOn !== undefined) fail(`${at}.depends_on: give depends_on or dependsOn, not both`);
  if (retries !== undefined && maxRetries !== undefined) fail(`${at}.retries: give retries.count or maxRetries, not both`);

  let fields: NewTask;
  try {
    fields = parseTaskInput({ ...taskFields, name, ...(retries !== undefined ? { maxRetries: retries.count } : {}), ...(maxRetries !== undefined ? { maxRetries } : {}) });
  } catch (error: unknown) {
    if (error instanceof WharfError) throw new WharfError(error.code, prefix(where, error.message));
    throw error;
  }

  const normalisedOutputs: string[] = [];
  (outputs ?? []).forEach((output, i) => {
    const normalised = outputName(output, `${where}.outputs[${i}]`);
    if (normalisedOutputs.includes(normalised)) fail(`${where}.outputs[${i}]: "${normalised}" is listed twice`);
    normalisedOutputs.push(normalised);
  });
  assertNoFileDirClash(normalisedOutputs, `${where}.outputs`);

  const task: DagTaskSpec = {
    ...fields,
    dependsOn: depends_on ?? dependsOn ?? [],
    inputs: (inputs ?? []).map((input, i) => {
      if (!DAG_NAME_PATTERN.test(input.fromTask)) fail(`${where}.inputs[${i}].fromTask: "${clip(input.fromTask)}" ${NAME_RULE}`);
      return { fromTask: input.fromTask, name: outputName(input.name, `${where}.inputs[${i}].name`) };
    }),
    outputs: normalisedOutputs,
  };
  return { task, dependsOnField: dependsOn !== undefined ? 'dependsOn' : 'depends_on' };
}

/**
 * An output (and input) name is a relative file path under /output (or /input): sub-folders
 * are allowed ("model/weights.bin"), "a/./b" is normalised to "a/b", and absolute paths, "..",
 * backslashes, NUL and empty names are refused — the same rule as uploaded output files.
 */
export function outputName(value: string, where: string): string {
  try {
    return normaliseOutputPath(value);
  } catch (error: unknown) {
    if (error instanceof WharfError) throw new WharfError('validation_failed', `${where}: ${error.message.replace(/^path: /, '')}`);
    throw error;
  }
}

/** "a" and "a/b" cannot both be files: one would have to be a folder. */
function assertNoFileDirClash(names: readonly string[], where: string): void {
  for (const name of names) {
    const clash = names.find((other) => other.startsWith(`${name}/`));
    if (clash !== undefined) fail(`${where}: "${name}" is a file, so "${clash}" cannot be inside it`);
  }
}

/** Prefixes every "field: message" issue of a joined message with the task's place. */
function prefix(where: string, message: string): string {
  return message
    .split('; ')
    .map((part) => (/^[A-Za-z_][\w.[\]]*: /.test(part) ? `${where}.${part}` : `${where}: ${part}`))
    .join('; ');
}

function clip(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}…` : value;
}

/** ` (did you mean "train"?)` when one known name is one or two edits away. */
function suggest(name: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 100 || b.length > 100) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost));
    }
    previous = current;
  }
  return previous[b.length]!;
}
