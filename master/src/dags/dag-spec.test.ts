import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WharfError } from '../errors.js';
import { DagGraph } from './dag-graph.js';
import { MAX_DAG_FILE_BYTES, parseDagFile, validateDag } from './dag-spec.js';

const HELIOS_YAML = `dagName: train-pipeline
useCache: true
tasks:
  - name: generate-data
    image: wharf/busybox
    command: ["sh", "-c", "mkdir -p /output && seq 1 100000 > /output/data.txt"]
    outputs: [data.txt]
  - name: train-model
    image: wharf/busybox
    command: ["sh", "-c", "wc -l /input/data.txt > /output/weights.txt"]
    depends_on: [generate-data]
    inputs: [{fromTask: generate-data, name: data.txt}]
    outputs: [weights.txt]
    retries: {count: 2}
`;

/** The validation message for a document, or a failure if it was accepted. */
function refusal(document: unknown): string {
  try {
    validateDag(document);
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(WharfError);
    expect((error as WharfError).code).toBe('validation_failed');
    expect((error as WharfError).httpStatus).toBe(400);
    return (error as WharfError).message;
  }
  throw new Error('the document was accepted');
}

const task = (name: string, extra: Record<string, unknown> = {}) => ({ name, image: 'wharf/busybox', command: 'true', ...extra });
const dag = (...tasks: unknown[]) => ({ dagName: 'd', tasks });

describe('parseDagFile', () => {
  it('reads the Helios example as it is', () => {
    const spec = parseDagFile(HELIOS_YAML, 'application/yaml');
    expect(spec.name).toBe('train-pipeline');
    expect(spec.useCache).toBe(true);
    expect(spec.tasks.map((t) => t.name)).toEqual(['generate-data', 'train-model']);
    const [generate, train] = spec.tasks;
    expect(generate).toEqual({
      name: 'generate-data',
      image: 'wharf/busybox',
      command: ['sh', '-c', 'mkdir -p /output && seq 1 100000 > /output/data.txt'],
      env: {},
      runtime: 'docker',
      // no amounts given: the submission applies the configured defaults
      resources: {},
      // no priority given: the submission applies the queue's default
      maxRetries: 0,
      timeoutSeconds: 0,
      labels: {},
      dependsOn: [],
      inputs: [],
      outputs: ['data.txt'],
    });
    expect(train).toMatchObject({
      name: 'train-model',
      dependsOn: ['generate-data'],
      inputs: [{ fromTask: 'generate-data', name: 'data.txt' }],
      outputs: ['weights.txt'],
      maxRetries: 2,
    });
  });

  it('reads the same DAG as JSON, by content type or by its first character', () => {
    const yamlSpec = parseDagFile(HELIOS_YAML);
    const asObject = {
      dagName: 'train-pipeline',
      useCache: true,
      tasks: [
        { name: 'generate-data', image: 'wharf/busybox', command: ['sh', '-c', 'mkdir -p /output && seq 1 100000 > /output/data.txt'], outputs: ['data.txt'] },
        {
          name: 'train-model',
          image: 'wharf/busybox',
          command: ['sh', '-c', 'wc -l /input/data.txt > /output/weights.txt'],
          depends_on: ['generate-data'],
          inputs: [{ fromTask: 'generate-data', name: 'data.txt' }],
          outputs: ['weights.txt'],
          retries: { count: 2 },
        },
      ],
    };
    expect(parseDagFile(JSON.stringify(asObject), 'application/json; charset=utf-8')).toEqual(yamlSpec);
    expect(parseDagFile(Buffer.from(JSON.stringify(asObject)))).toEqual(yamlSpec);
    expect(parseDagFile(asObject)).toEqual(yamlSpec);
  });

  it('accepts camelCase dependsOn and maxRetries and the per-task fields of a single task', () => {
    const spec = validateDag({
      name: 'cc',
      useCache: false,
      tasks: [
        task('a', { outputs: ['out/x.bin'] }),
        task('b', {
          dependsOn: ['a'],
          maxRetries: 3,
          inputs: [{ fromTask: 'a', name: 'out/./x.bin' }],
          env: { MODE: 'fast' },
          resources: { cpu: '250m', memory: '64Mi' },
          timeoutSeconds: 30,
          priority: 90,
          labels: { zone: 'a' },
        }),
      ],
    });
    expect(spec.useCache).toBe(false);
    expect(spec.name).toBe('cc');
    expect(spec.tasks[1]).toMatchObject({
      dependsOn: ['a'],
      maxRetries: 3,
      inputs: [{ fromTask: 'a', name: 'out/x.bin' }],
      env: { MODE: 'fast' },
      resources: { cpu: 0.25, memory: 64 * 1024 * 1024 },
      timeoutSeconds: 30,
      priority: 90,
      labels: { zone: 'a' },
    });
  });

  it('defaults useCache to true', () => {
    expect(validateDag(dag(task('a'))).useCache).toBe(true);
  });

  it('puts tasks in topological order and keeps the file order among ready ones', () => {
    const spec = validateDag(
      dag(task('join', { depends_on: ['left', 'right'] }), task('right', { depends_on: ['root'] }), task('root'), task('left', { depends_on: ['root'] })),
    );
    expect(spec.tasks.map((t) => t.name)).toEqual(['root', 'right', 'left', 'join']);
  });

  it('refuses text that is neither YAML nor JSON, and an empty body', () => {
    expect(() => parseDagFile('dagName: [unclosed', 'application/yaml')).toThrow(/^body: not valid YAML/);
    expect(() => parseDagFile('{"dagName": ', 'application/json')).toThrow(/^body: not valid JSON/);
    expect(() => parseDagFile('   ', 'text/yaml')).toThrow('body: is empty');
    expect(() => parseDagFile(undefined)).toThrow('body: must be a DAG file in YAML or JSON');
    expect(() => parseDagFile('- just\n- a list\n')).toThrow('body: a DAG file must be a mapping');
  });

  it('refuses duplicate YAML keys instead of keeping the last one', () => {
    expect(() => parseDagFile('dagName: a\ndagName: b\ntasks: []\n')).toThrow(/not valid YAML: .*[Mm]ap keys must be unique/);
  });

  it('refuses a file over the size limit with 413', () => {
    const big = `dagName: a\n# ${'x'.repeat(MAX_DAG_FILE_BYTES)}\n`;
    try {
      parseDagFile(big);
      throw new Error('accepted');
    } catch (error: unknown) {
      expect((error as WharfError).code).toBe('payload_too_large');
    }
  });
});

describe('validateDag refuses', () => {
  it('a missing or bad DAG name', () => {
    expect(refusal({ tasks: [task('a')] })).toBe('dagName: is required');
    expect(refusal({ dagName: 'has space', tasks: [task('a')] })).toMatch(/^dagName: "has space" must be 1 to 63 letters/);
    expect(refusal({ dagName: 'a', name: 'b', tasks: [task('a')] })).toBe('name: give dagName or name, not both');
  });

  it('an empty task list and unknown top-level fields', () => {
    expect(refusal({ dagName: 'a', tasks: [] })).toBe('tasks: must list at least one task');
    expect(refusal({ dagName: 'a', tasks: [task('a')], schedule: 'daily' })).toBe('unknown field "schedule"');
  });

  it('a bad task name', () => {
    expect(refusal(dag(task('../etc')))).toMatch(/^tasks\[0\]\.name: "\.\.\/etc" must be 1 to 63 letters, digits/);
    expect(refusal(dag(task('x'.repeat(64))))).toMatch(/^tasks\[0\]\.name: /);
    expect(refusal(dag({ image: 'wharf/busybox' }))).toMatch(/^tasks\[0\]\.name: /);
  });

  it('a duplicate task name', () => {
    expect(refusal(dag(task('a'), task('b'), task('a')))).toBe('tasks[2].name: duplicate task name "a" (also tasks[0])');
  });

  it('an unknown dependency, suggesting the near miss', () => {
    expect(refusal(dag(task('generate'), task('train'), task('eval', { depends_on: ['trian'] })))).toBe(
      'tasks[2].depends_on: unknown task "trian" (did you mean "train"?)',
    );
    expect(refusal(dag(task('a'), task('b', { dependsOn: ['zzzzzz'] })))).toBe('tasks[1].dependsOn: unknown task "zzzzzz"');
  });

  it('a dependency listed twice and both spellings at once', () => {
    expect(refusal(dag(task('a'), task('b', { depends_on: ['a', 'a'] })))).toBe('tasks[1].depends_on: "a" is listed twice');
    expect(refusal(dag(task('a'), task('b', { depends_on: ['a'], dependsOn: ['a'] })))).toBe(
      'tasks[1] ("b").depends_on: give depends_on or dependsOn, not both',
    );
    expect(refusal(dag(task('a', { retries: { count: 1 }, maxRetries: 1 })))).toBe('tasks[0] ("a").retries: give retries.count or maxRetries, not both');
  });

  it('a cycle, listing it', () => {
    expect(refusal(dag(task('a', { depends_on: ['b'] }), task('b', { depends_on: ['c'] }), task('c', { depends_on: ['a'] })))).toBe(
      'cycle: a -> b -> c -> a (each arrow points at a dependency)',
    );
    expect(refusal(dag(task('solo', { depends_on: ['solo'] })))).toBe('cycle: solo -> solo (each arrow points at a dependency)');
    // a cycle behind an acyclic entry point is still found and listed from where it closes
    expect(refusal(dag(task('entry', { depends_on: ['x'] }), task('x', { depends_on: ['y'] }), task('y', { depends_on: ['x'] })))).toBe(
      'cycle: x -> y -> x (each arrow points at a dependency)',
    );
  });

  it('an input whose task is unknown or not among the dependencies', () => {
    expect(refusal(dag(task('a', { outputs: ['d.txt'] }), task('b', { inputs: [{ fromTask: 'nope', name: 'd.txt' }] })))).toBe(
      'tasks[1].inputs[0]: unknown task "nope"',
    );
    expect(refusal(dag(task('a', { outputs: ['d.txt'] }), task('b', { inputs: [{ fromTask: 'a', name: 'd.txt' }] })))).toBe(
      'tasks[1].inputs[0]: task "a" is not among depends_on of "b"; add it there',
    );
  });

  it('an input naming an output its task does not declare', () => {
    expect(refusal(dag(task('a', { outputs: ['data.txt'] }), task('b', { depends_on: ['a'], inputs: [{ fromTask: 'a', name: 'd.txt' }] })))).toBe(
      'tasks[1].inputs[0]: task "a" declares no output "d.txt" (it declares "data.txt")',
    );
    expect(refusal(dag(task('a'), task('b', { depends_on: ['a'], inputs: [{ fromTask: 'a', name: 'd.txt' }] })))).toBe(
      'tasks[1].inputs[0]: task "a" declares no output "d.txt" (it declares no outputs)',
    );
  });

  it('two inputs of one task with the same name, even from different tasks', () => {
    const document = dag(
      task('a', { outputs: ['data.txt'] }),
      task('b', { outputs: ['data.txt'] }),
      task('c', { depends_on: ['a', 'b'], inputs: [{ fromTask: 'a', name: 'data.txt' }, { fromTask: 'b', name: 'data.txt' }] }),
    );
    expect(refusal(document)).toMatch(/^tasks\[2\]\.inputs\[1\]: input name "data\.txt" is already used by inputs\[0\]/);
  });

  it('output names that could leave /output or are listed twice', () => {
    expect(refusal(dag(task('a', { outputs: ['../secret'] })))).toBe('tasks[0].outputs[0]: "../secret" contains ".."');
    expect(refusal(dag(task('a', { outputs: ['/etc/passwd'] })))).toBe('tasks[0].outputs[0]: "/etc/passwd" is absolute');
    expect(refusal(dag(task('a', { outputs: [''] })))).toBe('tasks[0].outputs[0]: "" is empty');
    expect(refusal(dag(task('a', { outputs: ['a\\b'] })))).toBe('tasks[0].outputs[0]: "a\\b" contains a backslash');
    expect(refusal(dag(task('a', { outputs: ['x.txt', './x.txt'] })))).toBe('tasks[0].outputs[1]: "x.txt" is listed twice');
    expect(refusal(dag(task('a', { outputs: ['model', 'model/w.bin'] })))).toBe('tasks[0].outputs: "model" is a file, so "model/w.bin" cannot be inside it');
  });

  it('task fields by the single-task rules, naming the task', () => {
    expect(refusal(dag(task('a', { image: 'NOT VALID' })))).toBe('tasks[0].image: "NOT VALID" is not a valid image reference');
    expect(refusal(dag(task('a', { resources: { cpu: 'lots' } })))).toMatch(/^tasks\[0\]\.resources\.cpu: must be a quantity/);
    expect(refusal(dag(task('a', { retries: { count: -1 } })))).toMatch(/^tasks\[0\]\.retries\.count: /);
    expect(refusal(dag(task('a', { retries: { count: 1, delay: 5 } })))).toBe('tasks[0].retries: unknown field "delay"');
    expect(refusal(dag(task('a', { maxRetries: 1.5 })))).toMatch(/^tasks\[0\]\.maxRetries: /);
    expect(refusal(dag(task('a', { gpu: 1 })))).toBe('tasks[0]: unknown field "gpu"');
    expect(refusal(dag('just a string'))).toBe('tasks[0]: must be a mapping (name, image, command, ...)');
  });
});

describe('files written for other engines (Helios, Argo-style)', () => {
  const heliosFile = readFileSync(new URL('./fixtures/helios-pipeline.yaml', import.meta.url), 'utf8');

  it('accepts the Helios file, ignoring apiVersion, artifactRepository, serviceAccountName and type with a warning naming each', () => {
    const spec = parseDagFile(heliosFile, 'application/yaml');
    expect(spec.name).toBe('helios-train');
    expect(spec.tasks.map((t) => t.name)).toEqual(['fetch', 'train']);
    expect(spec.warnings.map((w) => w.path)).toEqual([
      'apiVersion',
      'artifactRepository',
      'tasks[0].type',
      'tasks[0].serviceAccountName',
      'tasks[1].type',
      'tasks[1].serviceAccountName',
    ]);
    for (const warning of spec.warnings) expect(warning.message).toMatch(/^ignored: Wharf has no use for "(apiVersion|artifactRepository|type|serviceAccountName)" \(/);
    // env as a list of {name, value} becomes the map a task has; a missing value is ""
    expect(spec.tasks[0]!.env).toEqual({ DATASET: 's3://helios/raw/2026-11', SHARDS: '4' });
    expect(spec.tasks[1]!.env).toEqual({ EPOCHS: '10', EMPTY: '' });
    expect(spec.tasks[1]!.maxRetries).toBe(1);
    // nothing of the foreign fields reaches the tasks
    expect(Object.keys(spec.tasks[0]!)).not.toContain('serviceAccountName');
    expect(Object.keys(spec.tasks[0]!)).not.toContain('type');
  });

  it('a Wharf file has no warnings', () => {
    expect(parseDagFile(HELIOS_YAML).warnings).toEqual([]);
  });

  it('still refuses a misspelt Wharf field, with its did-you-mean, and unknown fields not on the foreign list', () => {
    expect(refusal({ dagName: 'a', usecache: false, tasks: [task('a')] })).toBe('unknown field "usecache" (did you mean "useCache"?)');
    expect(refusal({ dagName: 'a', apiVersion: 'v1', tasks: [task('a', { dependOn: [] })] })).toBe('tasks[0]: unknown field "dependOn" (did you mean "dependsOn"?)');
    expect(refusal(dag(task('a', { imgae: 'x' })))).toBe('tasks[0]: unknown field "imgae" (did you mean "image"?)');
    expect(refusal(dag(task('a', { serviceAccount: 'x' })))).toBe('tasks[0]: unknown field "serviceAccount"');
    // a foreign task field at the top level (or the reverse) is not on that level's list
    expect(refusal({ dagName: 'a', serviceAccountName: 'x', tasks: [task('a')] })).toBe('unknown field "serviceAccountName"');
    expect(refusal(dag(task('a', { artifactRepository: {} })))).toBe('tasks[0]: unknown field "artifactRepository"');
  });

  it('env as a list: names checked like map keys, duplicates and bad entries refused naming the entry', () => {
    expect(refusal(dag(task('a', { env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }] })))).toBe('tasks[0].env[1].name: "A" is listed twice');
    expect(refusal(dag(task('a', { env: [{ name: 'A', value: 1 }] })))).toMatch(/^tasks\[0\]\.env\[0\]\.value: must be a string/);
    expect(refusal(dag(task('a', { env: [{ name: 'A', valueFrom: { secretKeyRef: {} } }] })))).toBe('tasks[0].env[0]: unknown field "valueFrom"');
    expect(refusal(dag(task('a', { env: ['A=1'] })))).toBe('tasks[0].env[0]: must be a mapping {name, value}');
    expect(refusal(dag(task('a', { env: [{ name: 'NOT-A-NAME', value: '1' }] })))).toBe('tasks[0].env[0].name: "NOT-A-NAME" must be an environment variable name (letters, digits, _)');
    // "__proto__" would be dropped silently by an object: refused, in both forms
    expect(refusal(dag(task('a', { env: [{ name: '__proto__', value: 'x' }] })))).toBe('tasks[0].env[0].name: the name "__proto__" is not accepted');
    expect(refusal(dag(task('a', { env: JSON.parse('{"__proto__": "x"}') as unknown })))).toMatch(/env.*the name "__proto__" is not accepted/);
    // the map form is unchanged
    expect(validateDag(dag(task('a', { env: { A: '1' } }))).tasks[0]!.env).toEqual({ A: '1' });
  });
});

describe('DagGraph', () => {
  const diamond = DagGraph.of([
    { name: 'a', dependsOn: [] },
    { name: 'b', dependsOn: ['a'] },
    { name: 'c', dependsOn: ['a'] },
    { name: 'd', dependsOn: ['b', 'c'] },
    { name: 'e', dependsOn: [] },
  ]);

  it('knows roots, direct and transitive dependents and a topological order', () => {
    expect(diamond.roots()).toEqual(['a', 'e']);
    expect(diamond.directDependentsOf('a')).toEqual(['b', 'c']);
    expect(diamond.dependentsOf('a')).toEqual(['b', 'c', 'd']);
    expect(diamond.dependentsOf('c')).toEqual(['d']);
    expect(diamond.dependentsOf('d')).toEqual([]);
    expect(diamond.dependenciesOf('d')).toEqual(['b', 'c']);
    expect(diamond.topologicalOrder()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(diamond.findCycle()).toBeUndefined();
  });

  it('refuses duplicate names and reports cycles', () => {
    expect(() => DagGraph.of([{ name: 'a', dependsOn: [] }, { name: 'a', dependsOn: [] }])).toThrow('duplicate task name "a"');
    const cyclic = DagGraph.of([{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }]);
    expect(cyclic.findCycle()).toEqual(['a', 'b', 'a']);
    expect(() => cyclic.topologicalOrder()).toThrow('cycle');
  });
});
