import { describe, expect, it } from 'vitest';
import type { FileView } from '../api-types.js';
import { parseJobFile, planCopy, splitRemote } from './task-commands.js';

const file = (path: string): FileView => ({ taskId: 't', path, size: 1, sha256: 'x', createdAt: '' });

describe('wharf cp', () => {
  it('splits TASK:PATH and refuses a source without a task', () => {
    expect(splitRemote('3f2a:out/result.csv')).toEqual({ task: '3f2a', path: 'out/result.csv' });
    expect(splitRemote('3f2a:./models/')).toEqual({ task: '3f2a', path: 'models' });
    expect(splitRemote('3f2a:')).toEqual({ task: '3f2a', path: '' });
    expect(() => splitRemote('result.csv')).toThrow('the source is TASK:PATH');
  });

  it('copies one file to a path or into a directory, a folder\'s files below the target', () => {
    const list = [file('a.txt'), file('models/m1.bin'), file('models/deep/m2.bin'), file('modelsx.txt')];
    expect(planCopy(list, 'a.txt', '/tmp/out.txt', false).map((p) => p.target)).toEqual(['/tmp/out.txt']);
    expect(planCopy(list, 'a.txt', '/tmp/dir', true).map((p) => p.target)).toEqual(['/tmp/dir/a.txt']);
    expect(planCopy(list, 'a.txt', '/tmp/new/', false).map((p) => p.target)).toEqual(['/tmp/new/a.txt']);
    expect(planCopy(list, 'models', '/tmp/m', false).map((p) => p.target)).toEqual(['/tmp/m/m1.bin', '/tmp/m/deep/m2.bin']);
    expect(planCopy(list, '', '/tmp/all', false)).toHaveLength(4);
    expect(planCopy(list, 'nothing', '/tmp/x', false)).toEqual([]);
  });

  it('refuses a listed path that would leave the target directory', () => {
    expect(() => planCopy([file('../../etc/passwd')], '', '/tmp/all', false)).toThrow('would be written outside');
  });
});

describe('wharf submit -f', () => {
  it('reads one task, a list, or {tasks: [...]}, in YAML or JSON', () => {
    expect(parseJobFile('image: wharf/busybox\ncommand: echo hi\n', 'job.yaml')).toEqual({ single: true, tasks: [{ image: 'wharf/busybox', command: 'echo hi' }] });
    expect(parseJobFile('[{"image": "a"}, {"image": "b"}]', 'jobs.json').tasks).toHaveLength(2);
    expect(parseJobFile('tasks:\n  - image: a\n', 'jobs.yaml')).toEqual({ single: false, tasks: [{ image: 'a' }] });
    expect(() => parseJobFile('42', 'x.yaml')).toThrow('x.yaml: must hold a task');
    expect(() => parseJobFile('image: [', 'x.yaml')).toThrow(/x.yaml: not valid YAML or JSON/);
  });
});
