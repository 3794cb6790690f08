// The DAG editor's text helpers: the example file, reading and setting the top-level
// `useCache` key without a YAML library (the dashboard does not ship one: the master parses and
// validates the file), finding the lines an API message is about, and the graph's columns.

/** The example DAG (docs/DAGS.md) on the test image. */
export const EXAMPLE_DAG = `dagName: train-pipeline
useCache: true
tasks:
  - name: generate-data
    image: wharf/busybox:latest
    command: ["sh", "-c", "mkdir -p /output && seq 1 100000 > /output/data.txt"]
    outputs: [data.txt]
  - name: train-model
    image: wharf/busybox:latest
    command: ["sh", "-c", "wc -l /input/data.txt > /output/weights.txt"]
    depends_on: [generate-data]
    inputs: [{fromTask: generate-data, name: data.txt}]
    outputs: [weights.txt]
    retries: {count: 2}
`;

const isJsonText = (text: string) => text.trimStart().startsWith('{');
const USE_CACHE_LINE = /^useCache[ \t]*:[ \t]*([^#\n]*?)[ \t]*(#.*)?$/m;

/**
 * The file's top-level useCache: true or false, undefined when the key is absent (the API's
 * default is true), null when it is there with another value (the API will refuse it).
 */
export function readUseCache(text: string): boolean | undefined | null {
  if (isJsonText(text)) {
    try {
      const value = (JSON.parse(text) as Record<string, unknown>).useCache;
      return value === undefined ? undefined : typeof value === 'boolean' ? value : null;
    } catch {
      return null;
    }
  }
  const match = USE_CACHE_LINE.exec(text);
  if (!match) return undefined;
  const value = (match[1] ?? '').replace(/^["']|["']$/g, '');
  return value === 'true' ? true : value === 'false' ? false : null;
}

/**
 * The same text with its top-level `useCache` set: an existing `useCache:` line (at column 0)
 * is rewritten in place, else one is added after the `dagName:`/`name:` line (or at the top).
 * A JSON file is parsed, changed and written back. Text that cannot be read as JSON comes back
 * unchanged (undefined) so the caller can say so.
 */
export function setUseCache(text: string, useCache: boolean): string | undefined {
  if (isJsonText(text)) {
    try {
      const document = JSON.parse(text) as unknown;
      if (typeof document !== 'object' || document === null || Array.isArray(document)) return undefined;
      return `${JSON.stringify({ ...document, useCache }, null, 2)}\n`;
    } catch {
      return undefined;
    }
  }
  const line = `useCache: ${useCache}`;
  if (USE_CACHE_LINE.test(text)) return text.replace(USE_CACHE_LINE, (_whole, _value, comment: string | undefined) => (comment ? `${line} ${comment}` : line));
  const lines = text.split('\n');
  const nameAt = lines.findIndex((l) => /^(dagName|name)[ \t]*:/.test(l));
  if (nameAt >= 0) {
    lines.splice(nameAt + 1, 0, line);
    return lines.join('\n');
  }
  // after leading comments and a document start marker
  let at = 0;
  while (at < lines.length && /^(#.*|---\s*|\s*)$/.test(lines[at] ?? '')) at += 1;
  lines.splice(at, 0, line);
  return lines.join('\n');
}

/** 1-based line numbers of the entries of the top-level `tasks:` list (YAML block style). */
function taskLines(lines: string[]): { start: number; end: number }[] {
  const tasksAt = lines.findIndex((l) => /^tasks[ \t]*:[ \t]*(#.*)?$/.test(l));
  if (tasksAt < 0) return [];
  const entries: { start: number; end: number }[] = [];
  let dashIndent: number | undefined;
  for (let i = tasksAt + 1; i < lines.length; i += 1) {
    const l = lines[i] ?? '';
    if (/^\S/.test(l) && !l.startsWith('#')) break; // the next top-level key
    const dash = /^(\s*)- /.exec(l) ?? /^(\s*)-$/.exec(l);
    if (dash && (dashIndent === undefined || dash[1]!.length === dashIndent)) {
      dashIndent = dash[1]!.length;
      const previous = entries[entries.length - 1];
      if (previous) previous.end = i;
      entries.push({ start: i + 1, end: lines.length });
    }
  }
  return entries;
}

/** The 1-based line where the task with this name is declared (`name: x` or `"name": "x"`). */
function lineOfTaskName(lines: string[], name: string): number | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^\\s*(- )?\\s*["']?name["']?\\s*:\\s*["']?${escaped}["']?\\s*[,}#]?`);
  const index = lines.findIndex((l) => pattern.test(l));
  return index >= 0 ? index + 1 : undefined;
}

/**
 * The lines of the file a refusal from POST /api/dags is about (1-based, sorted): the YAML
 * parser's `at line N`, every task of a `cycle: a -> b -> a`, the task of `tasks[i]…` (the line
 * of the field it names when that field is in the task's block), and a top-level field.
 */
export function errorLines(message: string, text: string): number[] {
  const lines = text.split('\n');
  const found = new Set<number>();
  for (const match of message.matchAll(/\bat line (\d+)/g)) found.add(Number(match[1]));
  const cycle = /cycle: ([^()]+?)(?: \(|$)/.exec(message);
  if (cycle?.[1]) {
    for (const name of cycle[1].split(' -> ')) {
      const line = lineOfTaskName(lines, name.trim());
      if (line) found.add(line);
    }
  }
  const entries = isJsonText(text) ? [] : taskLines(lines);
  // `tasks[2].image`, `tasks[1] ("b").depends_on`, or zod's `tasks.2: …`
  for (const match of message.matchAll(/tasks(?:\[(\d+)\]|\.(\d+))(?: \("([^"]*)"\))?((?:\.[A-Za-z_]\w*)?)/g)) {
    const entry = entries[Number(match[1] ?? match[2])];
    const named = match[3] ? lineOfTaskName(lines, match[3]) : undefined;
    if (!entry) {
      if (named) found.add(named);
      continue;
    }
    const field = match[4]?.slice(1);
    let line = entry.start;
    if (field) {
      const pattern = new RegExp(`^\\s*(- )?\\s*${field}\\s*:`);
      for (let i = entry.start - 1; i < entry.end; i += 1) {
        if (pattern.test(lines[i] ?? '')) {
          line = i + 1;
          break;
        }
      }
    }
    found.add(line);
  }
  if (found.size === 0) {
    // a top-level field: `dagName: …`, `unknown field "schedule"`
    const top = /^(dagName|name|useCache|tasks): /.exec(message)?.[1] ?? /unknown field "([^"]+)"/.exec(message)?.[1];
    if (top) {
      const index = lines.findIndex((l) => new RegExp(`^["']?${top}["']?\\s*:`).test(l));
      if (index >= 0) found.add(index + 1);
    }
  }
  return [...found].filter((n) => n >= 1 && n <= lines.length).sort((a, b) => a - b);
}

/**
 * Columns of the run graph: a task's depth is 0 without dependencies, else one more than its
 * deepest dependency. Tasks keep their order inside a column. A dependency that is not in the
 * list (or a cycle, which the API never accepts) counts as depth 0.
 */
export function graphColumns<T extends { name: string; dependsOn: string[] }>(tasks: readonly T[]): T[][] {
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (task: T): number => {
    const known = depth.get(task.name);
    if (known !== undefined) return known;
    if (visiting.has(task.name)) return 0;
    visiting.add(task.name);
    let d = 0;
    for (const name of task.dependsOn) {
      const dependency = byName.get(name);
      if (dependency) d = Math.max(d, depthOf(dependency) + 1);
    }
    visiting.delete(task.name);
    depth.set(task.name, d);
    return d;
  };
  const columns: T[][] = [];
  for (const task of tasks) {
    const d = depthOf(task);
    while (columns.length <= d) columns.push([]);
    columns[d]!.push(task);
  }
  return columns;
}
