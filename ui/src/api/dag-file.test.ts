import { describe, expect, it } from 'vitest';
import { EXAMPLE_DAG, errorLines, graphColumns, readUseCache, setUseCache } from './dag-file.ts';

describe('the useCache key of a DAG file', () => {
  it('reads true, false, absent and a value the API will refuse', () => {
    expect(readUseCache(EXAMPLE_DAG)).toBe(true);
    expect(readUseCache('dagName: a\nuseCache: false # off for now\ntasks: []')).toBe(false);
    expect(readUseCache('dagName: a\ntasks:\n  - name: x\n    useCache: false\n')).toBeUndefined();
    expect(readUseCache('useCache: maybe')).toBeNull();
    expect(readUseCache('{"dagName": "a", "useCache": false}')).toBe(false);
  });

  it('rewrites an existing line in place and keeps its comment', () => {
    expect(setUseCache(EXAMPLE_DAG, false)).toBe(EXAMPLE_DAG.replace('useCache: true', 'useCache: false'));
    expect(setUseCache('dagName: a\nuseCache: true # why\ntasks: []', false)).toBe('dagName: a\nuseCache: false # why\ntasks: []');
  });

  it('adds the key after the name, or at the top after comments, when the file has none', () => {
    expect(setUseCache('dagName: a\ntasks: []\n', false)).toBe('dagName: a\nuseCache: false\ntasks: []\n');
    expect(setUseCache('# my dag\n---\ntasks: []\ndagName: a\n', true)).toBe('# my dag\n---\ntasks: []\ndagName: a\nuseCache: true\n');
    expect(setUseCache('# my dag\ntasks: []\n', false)).toBe('# my dag\nuseCache: false\ntasks: []\n');
    // a task's own field of that name is not the top-level key
    expect(setUseCache('dagName: a\ntasks:\n  - name: x\n    useCache: true\n', false)).toBe('dagName: a\nuseCache: false\ntasks:\n  - name: x\n    useCache: true\n');
  });

  it('sets the key of a JSON file, and leaves unreadable JSON alone', () => {
    expect(JSON.parse(setUseCache('{"dagName": "a", "tasks": []}', false) ?? '')).toEqual({ dagName: 'a', tasks: [], useCache: false });
    expect(setUseCache('{"dagName": ', false)).toBeUndefined();
  });
});

describe('the lines an API refusal points at', () => {
  const file = `dagName: d
tasks:
  - name: a
    image: wharf/busybox:latest
    depends_on: [c]
  - name: b
    image: wharf/busybox:latest
    depends_on: [a]
  - name: c
    image: "NOT VALID"
    depends_on: [b]
`;

  it('every task of a cycle', () => {
    expect(errorLines('cycle: a -> c -> b -> a (each arrow points at a dependency)', file)).toEqual([3, 6, 9]);
  });

  it('the field of tasks[i] when it is in that task, else the task’s first line', () => {
    expect(errorLines('tasks[2].image: "NOT VALID" is not a valid image reference', file)).toEqual([10]);
    expect(errorLines('tasks[1] ("b").depends_on: give depends_on or dependsOn, not both', file)).toEqual([8]);
    expect(errorLines('tasks[1].inputs[0]: unknown task "nope"', file)).toEqual([6]);
  });

  it('the YAML parser’s own line, and a top-level field', () => {
    expect(errorLines('body: not valid YAML: Nested mappings are not allowed in compact mappings at line 4, column 12:', file)).toEqual([4]);
    expect(errorLines('dagName: "../x" must be 1 to 63 letters', file)).toEqual([1]);
    expect(errorLines('body: unknown field "schedule"', 'dagName: d\nschedule: daily\ntasks: []')).toEqual([2]);
  });

  it('nothing when the message names no place in the file', () => {
    expect(errorLines('exec tasks need an admin', file)).toEqual([]);
  });
});

describe('the columns of the run graph', () => {
  it('puts each task one column right of its deepest dependency, in file order', () => {
    const columns = graphColumns([
      { name: 'fetch', dependsOn: [] },
      { name: 'lint', dependsOn: [] },
      { name: 'build', dependsOn: ['fetch'] },
      { name: 'test', dependsOn: ['build', 'fetch'] },
      { name: 'ship', dependsOn: ['test', 'lint'] },
    ]);
    expect(columns.map((c) => c.map((t) => t.name))).toEqual([['fetch', 'lint'], ['build'], ['test'], ['ship']]);
  });
});
