import { describe, expect, it } from 'vitest';
import { buildTaskPod, cpuQuantity, effectiveOfPod, labelValueOf, podNameOf, PodSpecError, type PodSpecSettings } from './kubernetes-pod-spec.js';
import { DEFAULT_ISOLATION, type AttemptSpec } from './task-runtime.js';

const settings: PodSpecSettings = {
  workerId: 'worker-1',
  namespace: 'jobs',
  nodeSelector: {},
  tolerations: [],
  imagePullSecrets: [],
  helperImage: 'busybox:1.36',
  pendingTimeoutSeconds: 300,
};

function spec(extra: Partial<AttemptSpec> = {}, isolation: Partial<AttemptSpec['isolation']> = {}): AttemptSpec {
  return {
    taskId: '6f1c1d2e-0000-4000-8000-000000000001',
    attemptId: '6f1c1d2e-0000-4000-8000-0000000000a1',
    attemptNumber: 1,
    name: 'job',
    image: 'python:3.12',
    command: [],
    env: {},
    runtime: 'kubernetes',
    resources: { cpu: 0, memory: 0, gpu: 0, disk: 0 },
    timeoutSeconds: 0,
    userId: 'u',
    ...extra,
    isolation: { ...DEFAULT_ISOLATION, ...isolation },
  };
}

const SHA = 'b'.repeat(64);

describe('buildTaskPod', () => {
  it('builds one pod per attempt: labels, annotations, restartPolicy Never, task + outputs sidecar', () => {
    const pod = buildTaskPod({ spec: spec(), outputDir: '/data/attempts/a1/output' }, settings);
    expect(pod.metadata).toEqual({
      name: 'wharf-6f1c1d2e-0000-4000-8000-0000000000a1',
      namespace: 'jobs',
      labels: {
        'app.kubernetes.io/managed-by': 'wharf',
        'wharf.task': '6f1c1d2e-0000-4000-8000-000000000001',
        'wharf.attempt': '6f1c1d2e-0000-4000-8000-0000000000a1',
        'wharf.worker': 'worker-1',
      },
      annotations: {
        'wharf.io/task-id': '6f1c1d2e-0000-4000-8000-000000000001',
        'wharf.io/attempt-id': '6f1c1d2e-0000-4000-8000-0000000000a1',
        'wharf.io/timeout-seconds': '0',
        'wharf.io/output-dir': '/data/attempts/a1/output',
      },
    });
    const podSpec = pod.spec!;
    expect(podSpec.restartPolicy).toBe('Never');
    expect(podSpec.automountServiceAccountToken).toBe(false);
    expect(podSpec.activeDeadlineSeconds).toBeUndefined();
    expect(podSpec.initContainers).toBeUndefined();
    expect(podSpec.containers.map((c) => c.name)).toEqual(['task', 'wharf-outputs']);
    expect(podSpec.volumes).toEqual([{ name: 'output', emptyDir: {} }]);
    const [task, sidecar] = podSpec.containers;
    // no command and no args: the image's own ENTRYPOINT and CMD run
    expect(task?.command).toBeUndefined();
    expect(task?.args).toBeUndefined();
    expect(task?.resources).toBeUndefined();
    expect(task?.volumeMounts).toEqual([{ name: 'output', mountPath: '/output' }]);
    expect(sidecar?.image).toBe('busybox:1.36');
    expect(sidecar?.volumeMounts).toEqual([{ name: 'output', mountPath: '/output', readOnly: true }]);
  });

  it('puts the task command in args, keeping the image entrypoint, and passes env after the wharf variables', () => {
    const pod = buildTaskPod(
      { spec: spec({ command: ['python', '-c', 'print(1)'], env: { MODE: 'fast', WHARF_OUTPUT_DIR: '/elsewhere' } }), outputDir: '/o' },
      settings,
    );
    const task = pod.spec!.containers[0]!;
    expect(task.command).toBeUndefined();
    expect(task.args).toEqual(['python', '-c', 'print(1)']);
    expect(task.env).toEqual([
      { name: 'WHARF_TASK_ID', value: '6f1c1d2e-0000-4000-8000-000000000001' },
      { name: 'WHARF_ATTEMPT_ID', value: '6f1c1d2e-0000-4000-8000-0000000000a1' },
      { name: 'WHARF_OUTPUT_DIR', value: '/elsewhere' },
      { name: 'MODE', value: 'fast' },
    ]);
  });

  it.each([
    [{ cpu: 0.25, memory: 0, gpu: 0, disk: 0 }, { cpu: '250m' }],
    [{ cpu: 2, memory: 512 * 2 ** 20, gpu: 0, disk: 0 }, { cpu: '2000m', memory: '536870912' }],
    [{ cpu: 0, memory: 0, gpu: 1, disk: 10 * 2 ** 30 }, { 'ephemeral-storage': '10737418240', 'nvidia.com/gpu': '1' }],
    [{ cpu: 0.0001, memory: 1, gpu: 4, disk: 0 }, { cpu: '1m', memory: '1', 'nvidia.com/gpu': '4' }],
  ])('maps resources %o to equal requests and limits', (resources, amounts) => {
    const task = buildTaskPod({ spec: spec({ resources }), outputDir: '/o' }, settings).spec!.containers[0]!;
    expect(task.resources).toEqual({ requests: amounts, limits: amounts });
  });

  it('sets the first deadline to timeout + pending limit + grace', () => {
    const pod = buildTaskPod({ spec: spec({ timeoutSeconds: 600 }), outputDir: '/o' }, settings);
    expect(pod.spec!.activeDeadlineSeconds).toBe(600 + 300 + 30);
    expect(pod.metadata!.annotations!['wharf.io/timeout-seconds']).toBe('600');
  });

  it('applies service account, node selector, tolerations and image pull secrets from the worker flags', () => {
    const pod = buildTaskPod(
      { spec: spec(), outputDir: '/o' },
      {
        ...settings,
        serviceAccount: 'wharf-tasks',
        nodeSelector: { 'example.com/pool': 'gpu' },
        tolerations: [
          { key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
          { key: 'spot', operator: 'Exists' },
        ],
        imagePullSecrets: ['regcred'],
      },
    );
    expect(pod.spec).toMatchObject({
      serviceAccountName: 'wharf-tasks',
      automountServiceAccountToken: true,
      nodeSelector: { 'example.com/pool': 'gpu' },
      tolerations: [
        { key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
        { key: 'spot', operator: 'Exists' },
      ],
      imagePullSecrets: [{ name: 'regcred' }],
    });
  });

  it('stages inputs with an init container into /input, mounted read-only into the task', () => {
    const inputs = [
      { name: 'data.csv', sha256: SHA, size: 12, url: 'http://master:8080/api/artifacts/x' },
      { name: 'model.bin', sha256: 'c'.repeat(64), size: 99, url: 'https://files.example/m' },
    ];
    const pod = buildTaskPod({ spec: spec(), outputDir: '/o', inputs }, settings);
    const init = pod.spec!.initContainers![0]!;
    expect(init.name).toBe('wharf-inputs');
    expect(init.image).toBe('busybox:1.36');
    expect(init.command?.slice(0, 2)).toEqual(['sh', '-c']);
    expect(init.env).toEqual([
      { name: 'WHARF_INPUTS', value: `${SHA} 12 data.csv http://master:8080/api/artifacts/x\n${'c'.repeat(64)} 99 model.bin https://files.example/m` },
    ]);
    expect(init.volumeMounts).toEqual([{ name: 'input', mountPath: '/input' }]);
    expect(pod.spec!.volumes).toEqual([
      { name: 'output', emptyDir: {} },
      { name: 'input', emptyDir: {} },
    ]);
    const task = pod.spec!.containers[0]!;
    expect(task.volumeMounts).toContainEqual({ name: 'input', mountPath: '/input', readOnly: true });
    expect(task.env).toContainEqual({ name: 'WHARF_INPUT_DIR', value: '/input' });
  });

  it('mounts the node cache as a hostPath into the init container only when one is configured', () => {
    const inputs = [{ name: 'data.csv', sha256: SHA, size: 12, url: 'http://m/x' }];
    const pod = buildTaskPod({ spec: spec(), outputDir: '/o', inputs }, { ...settings, cacheHostPath: '/var/cache/wharf' });
    expect(pod.spec!.volumes).toContainEqual({ name: 'cache', hostPath: { path: '/var/cache/wharf', type: 'DirectoryOrCreate' } });
    expect(pod.spec!.initContainers![0]!.volumeMounts).toContainEqual({ name: 'cache', mountPath: '/cache' });
    expect(pod.spec!.containers.flatMap((c) => c.volumeMounts ?? []).some((m) => m.name === 'cache')).toBe(false);
    // without inputs there is nothing to cache
    expect(buildTaskPod({ spec: spec(), outputDir: '/o' }, { ...settings, cacheHostPath: '/var/cache/wharf' }).spec!.volumes).toHaveLength(1);
  });

  it.each([
    [{ name: '../etc', sha256: SHA, size: 1, url: 'http://m/x' }, 'cannot name a file in /input'],
    [{ name: 'a b', sha256: SHA, size: 1, url: 'http://m/x' }, 'cannot name a file in /input'],
    [{ name: 'ok', sha256: 'XYZ', size: 1, url: 'http://m/x' }, 'sha256 must be 64 lower-case hex digits'],
    [{ name: 'ok', sha256: SHA, size: -1, url: 'http://m/x' }, 'size must be a whole number'],
    [{ name: 'ok', sha256: SHA, size: 1, url: 'file:///etc/passwd' }, 'must be http(s)'],
    [{ name: 'ok', sha256: SHA, size: 1, url: 'http://m/x y' }, 'must be http(s) without spaces'],
  ])('refuses an input that cannot be staged safely: %o', (input, message) => {
    expect(() => buildTaskPod({ spec: spec(), outputDir: '/o', inputs: [input] }, settings)).toThrow(PodSpecError);
    expect(() => buildTaskPod({ spec: spec(), outputDir: '/o', inputs: [input] }, settings)).toThrow(message);
  });
});

describe('task pods are hardened like Docker tasks', () => {
  const taskOf = (pod: ReturnType<typeof buildTaskPod>) => pod.spec!.containers.find((c) => c.name === 'task')!;

  it('drops every capability but the minimal set, forbids privilege escalation and pulls if not present', () => {
    const task = taskOf(buildTaskPod({ spec: spec(), outputDir: '/o' }, settings));
    expect(task.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'NET_BIND_SERVICE', 'SETGID', 'SETUID'] },
    });
    expect(task.imagePullPolicy).toBe('IfNotPresent');
  });

  it('maps user, readOnlyRootFilesystem (with an emptyDir /tmp), capAdd, pullPolicy and network host', () => {
    const pod = buildTaskPod(
      {
        spec: spec({ resources: { cpu: 1, memory: 64 * 2 ** 20, gpu: 0, disk: 10 * 2 ** 20 } }, { user: '1000:2000', readOnlyRootFilesystem: true, capAdd: ['NET_ADMIN'], pullPolicy: 'Always', network: 'host' }),
        outputDir: '/o',
      },
      settings,
    );
    const task = taskOf(pod);
    expect(task.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 2000, readOnlyRootFilesystem: true, capabilities: { add: expect.arrayContaining(['NET_ADMIN']) } });
    expect(task.imagePullPolicy).toBe('Always');
    expect(task.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(pod.spec!.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: String(10 * 2 ** 20) } });
    expect(pod.spec!.hostNetwork).toBe(true);
    expect(effectiveOfPod(spec({}, { user: '1000', capAdd: ['NET_ADMIN'] }))).toMatchObject({ user: '1000', network: 'pod', noNewPrivileges: true, capabilities: expect.arrayContaining(['NET_ADMIN']) });
  });

  it.each([
    [{ user: 'app' }, /user "app": the kubernetes runtime needs a numeric uid/],
    [{ network: 'none' }, /network "none" is not available on the kubernetes runtime/],
    [{ network: 'run', networkGroup: 'dag-1' }, /network "run" is not available on the kubernetes runtime/],
    [{ pullPolicy: 'Sometimes' }, /pullPolicy "Sometimes" is not known/],
  ])('refuses %j, saying why', (isolation, message) => {
    expect(() => buildTaskPod({ spec: spec({}, isolation), outputDir: '/o' }, settings)).toThrow(message);
  });
});

describe('names', () => {
  it('keeps a UUID attempt id as the pod name and label value', () => {
    expect(podNameOf('6f1c1d2e-0000-4000-8000-0000000000a1')).toBe('wharf-6f1c1d2e-0000-4000-8000-0000000000a1');
    expect(labelValueOf('6f1c1d2e-0000-4000-8000-0000000000a1')).toBe('6f1c1d2e-0000-4000-8000-0000000000a1');
  });

  it('turns any other id into a valid, distinct DNS name of at most 63 characters', () => {
    const a = podNameOf('Attempt_One.' + 'x'.repeat(80));
    const b = podNameOf('attempt_one.' + 'x'.repeat(80));
    for (const name of [a, b, podNameOf('UPPER'), podNameOf('a__b')]) {
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(name.length).toBeLessThanOrEqual(63);
    }
    expect(a).not.toBe(b);
    expect(labelValueOf('has space')).toMatch(/^h-[0-9a-f]{40}$/);
  });

  it('rounds cores up to whole millicores', () => {
    expect(cpuQuantity(1.5)).toBe('1500m');
    expect(cpuQuantity(0.0001)).toBe('1m');
  });
});
