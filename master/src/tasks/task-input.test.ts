import { describe, expect, it } from 'vitest';
import { MAX_BATCH, parseTaskBatch, parseTaskInput } from './task-input.js';

describe('parseTaskInput', () => {
  it('normalises a full submission', () => {
    const task = parseTaskInput({
      image: 'wharf/busybox:latest',
      command: 'echo hi',
      env: { GREETING: 'hello' },
      resources: { cpu: '500m', memory: '512Mi', gpu: 1, disk: '1Gi' },
      priority: 90,
      maxRetries: 2,
      timeoutSeconds: 30,
      labels: { zone: 'a' },
    });
    expect(task).toEqual({
      name: 'busybox',
      image: 'wharf/busybox:latest',
      command: ['sh', '-c', 'echo hi'],
      env: { GREETING: 'hello' },
      runtime: 'docker',
      resources: { cpu: 0.5, memory: 512 * 1024 ** 2, gpu: 1, disk: 1024 ** 3 },
      priority: 90,
      maxRetries: 2,
      timeoutSeconds: 30,
      labels: { zone: 'a' },
    });
  });

  it('keeps an argv array as it is and fills defaults', () => {
    const task = parseTaskInput({ image: 'alpine', command: ['echo', 'a b'] });
    expect(task.command).toEqual(['echo', 'a b']);
    // absent: the submission gives it the queue's default priority
    expect(task.priority).toBeUndefined();
    // absent amounts stay absent: the submission system applies the configured defaults
    expect(task.resources).toEqual({});
  });

  it('takes the container settings, normalising capability names and leaving defaults out', () => {
    const task = parseTaskInput({
      image: 'a',
      network: 'none',
      user: '1000:1000',
      readOnlyRootFilesystem: true,
      capAdd: ['cap_net_admin', 'SYS_PTRACE', 'NET_ADMIN'],
      pullPolicy: 'Always',
    });
    expect(task).toMatchObject({ network: 'none', user: '1000:1000', readOnlyRootFilesystem: true, capAdd: ['NET_ADMIN', 'SYS_PTRACE'], pullPolicy: 'Always' });
    const plain = parseTaskInput({ image: 'a', network: 'default', readOnlyRootFilesystem: false, capAdd: [], pullPolicy: 'IfNotPresent' });
    for (const field of ['network', 'user', 'readOnlyRootFilesystem', 'capAdd', 'pullPolicy']) expect(plain).not.toHaveProperty(field);
  });

  it.each([
    [{}, /image: is required/],
    [{ image: 'UPPER/Case' }, /image: .* is not a valid image reference/],
    [{ image: 'a', priority: 101 }, /^priority: /],
    [{ image: 'a', resources: { memory: 'lots' } }, /resources\.memory: must be a quantity/],
    [{ image: 'a', resources: { cpu: -1 } }, /resources\.cpu: must be a quantity/],
    [{ image: 'a', env: { 'BAD-KEY': 'x' } }, /env\.BAD-KEY: keys must be/],
    [{ image: 'a', color: 'red' }, /unknown field "color"/],
    [{ image: 'a', runtime: 'vm' }, /^runtime: /],
    [{ runtime: 'exec' }, /command: is required for the exec runtime/],
    [{ image: 'a', network: 'bridge' }, /^network: /],
    [{ image: 'a', user: 'a b' }, /^user: must be a uid, uid:gid, or a user name/],
    [{ image: 'a', capAdd: ['NET_SNIFF'] }, /^capAdd\.0: "NET_SNIFF" is not a Linux capability/],
    [{ image: 'a', pullPolicy: 'Sometimes' }, /^pullPolicy: /],
    [{ image: 'a', readOnlyRootFilesystem: 'yes' }, /^readOnlyRootFilesystem: /],
    [{ runtime: 'exec', command: 'true', network: 'none' }, /^network: applies to container tasks \(docker, kubernetes\), not to exec tasks$/],
    [{ runtime: 'sim', image: 'sim', user: '1000' }, /^user: applies to container tasks/],
    [[1, 2], /body: must be a JSON object/],
  ])('refuses %j naming the field', (body, message) => {
    expect(() => parseTaskInput(body)).toThrow(message);
  });
});

describe('parseTaskBatch', () => {
  it('validates every submission like a single one', () => {
    const tasks = parseTaskBatch({ tasks: [{ image: 'a' }, { image: 'b', runtime: 'sim' }] });
    expect(tasks.map((t) => [t.image, t.runtime])).toEqual([
      ['a', 'docker'],
      ['b', 'sim'],
    ]);
  });
  it('names the index and the field of a bad submission', () => {
    expect(() => parseTaskBatch({ tasks: [{ image: 'a' }, { image: 'a', priority: 500 }] })).toThrow(/^tasks\[1\]\.priority: /);
  });
  it('refuses an empty, missing or oversized batch', () => {
    expect(() => parseTaskBatch({ tasks: [] })).toThrow(/must not be empty/);
    expect(() => parseTaskBatch({})).toThrow(/tasks: must be an array/);
    expect(() => parseTaskBatch({ tasks: Array.from({ length: MAX_BATCH + 1 }, () => ({ image: 'a' })) })).toThrow(/at most 1000/);
  });
});
