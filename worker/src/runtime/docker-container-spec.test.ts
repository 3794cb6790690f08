import { describe, expect, it } from 'vitest';
import { buildContainerSpec, groupNetworkName, hostAlias, type ContainerSpecSettings } from './docker-container-spec.js';
import { DEFAULT_ISOLATION, MINIMAL_CAPABILITIES, type AttemptSpec } from './task-runtime.js';

const Mi = 1024 * 1024;
const settings: ContainerSpecSettings = { workerId: 'w-1', pidsLimit: 256, taskNetwork: 'wharf-tasks' };
const paths = { root: '/data/attempts/a1', output: '/data/attempts/a1/output', work: '/data/attempts/a1/work' };

function spec(extra: Partial<AttemptSpec> = {}, isolation: Partial<AttemptSpec['isolation']> = {}): AttemptSpec {
  return {
    taskId: 't1',
    attemptId: 'a1',
    attemptNumber: 1,
    name: 'job',
    image: 'wharf/busybox:latest',
    command: ['sh', '-c', 'echo hi'],
    env: { MODE: 'fast' },
    runtime: 'docker',
    resources: { cpu: 0.5, memory: 32 * Mi, gpu: 0, disk: 0 },
    timeoutSeconds: 0,
    userId: 'u1',
    ...extra,
    isolation: { ...DEFAULT_ISOLATION, ...isolation },
  };
}

describe('buildContainerSpec', () => {
  it('hardens a plain task: limits, every capability dropped but a minimal set, no-new-privileges, the tasks network, a bounded engine log', () => {
    const built = buildContainerSpec(spec(), paths, settings, { startedAtMs: 5 });
    expect(built.create.HostConfig).toEqual({
      PidsLimit: 256,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['ALL'],
      CapAdd: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'NET_BIND_SERVICE', 'SETGID', 'SETUID'],
      Binds: ['/data/attempts/a1/output:/output'],
      NetworkMode: 'wharf-tasks',
      LogConfig: { Type: 'json-file', Config: { 'max-size': '256m', 'max-file': '2' } },
      NanoCpus: 500_000_000,
      Memory: 32 * Mi,
      MemorySwap: 32 * Mi,
    });
    for (const dropped of ['NET_RAW', 'MKNOD', 'SYS_CHROOT', 'SETFCAP', 'AUDIT_WRITE', 'SETPCAP']) expect(MINIMAL_CAPABILITIES).not.toContain(dropped);
    expect(built.create.User).toBeUndefined();
    expect(built.create.Labels).toMatchObject({ 'wharf.task': 't1', 'wharf.attempt': 'a1', 'wharf.worker': 'w-1', 'wharf.started-at': '5' });
    expect(built.create.Labels).not.toHaveProperty('wharf.disk');
    expect(built.effective).toEqual({
      cpu: 0.5,
      memory: 32 * Mi,
      disk: 0,
      pidsLimit: 256,
      user: '',
      readOnlyRootFilesystem: false,
      noNewPrivileges: true,
      capabilities: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'NET_BIND_SERVICE', 'SETGID', 'SETUID'],
      network: 'wharf-tasks',
      pullPolicy: 'IfNotPresent',
    });
  });

  it('adds the capabilities an admin asked for, and runs as the task user or else the worker default', () => {
    const added = buildContainerSpec(spec({}, { capAdd: ['NET_ADMIN', 'CAP_SYS_PTRACE', 'CHOWN'] }), paths, settings, { startedAtMs: 0 });
    expect(added.create.HostConfig?.CapAdd).toEqual(['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'NET_ADMIN', 'NET_BIND_SERVICE', 'SETGID', 'SETUID', 'SYS_PTRACE']);
    const withDefault = { ...settings, defaultUser: '65534:65534' };
    expect(buildContainerSpec(spec(), paths, withDefault, { startedAtMs: 0 }).create.User).toBe('65534:65534');
    const own = buildContainerSpec(spec({}, { user: '1000:1000' }), paths, withDefault, { startedAtMs: 0 });
    expect(own.create.User).toBe('1000:1000');
    expect(own.effective.user).toBe('1000:1000');
  });

  it('makes the root filesystem read-only with a writable /tmp (at most the disk limit) and keeps /output and /input mounted', () => {
    const built = buildContainerSpec(spec({ resources: { cpu: 1, memory: 64 * Mi, gpu: 0, disk: 10 * Mi } }, { readOnlyRootFilesystem: true }), paths, settings, {
      startedAtMs: 0,
      inputDir: '/data/attempts/a1/input',
    });
    expect(built.create.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,nosuid,nodev,mode=1777,size=${10 * Mi}` },
      Binds: ['/data/attempts/a1/output:/output', '/data/attempts/a1/input:/input:ro'],
    });
    expect(built.create.Labels).toMatchObject({ 'wharf.disk': String(10 * Mi) });
    expect(built.effective).toMatchObject({ readOnlyRootFilesystem: true, disk: 10 * Mi });
  });

  it('joins no network, the host network or its run network as asked', () => {
    expect(buildContainerSpec(spec({}, { network: 'none' }), paths, settings, { startedAtMs: 0 }).network).toEqual({ kind: 'builtin', name: 'none' });
    expect(buildContainerSpec(spec({}, { network: 'host' }), paths, settings, { startedAtMs: 0 }).create.HostConfig?.NetworkMode).toBe('host');
    const run = buildContainerSpec(spec({}, { network: 'run', networkGroup: 'dag-42' }), paths, settings, { startedAtMs: 0 });
    expect(run.network).toEqual({ kind: 'group', name: 'wharf-run-dag-42', group: 'dag-42' });
    expect(run.effective.network).toBe('wharf-run-dag-42');
    // the run's other tasks find it by its name in the DAG
    expect(run.create.NetworkingConfig).toEqual({ EndpointsConfig: { 'wharf-run-dag-42': { Aliases: ['job'] } } });
    expect(hostAlias('Train Model_2')).toBe('train-model-2');
    expect(hostAlias('___')).toBeUndefined();
    expect(groupNetworkName('a/b c')).toBe('wharf-run-a_b_c');
  });

  it('publishes a gang member\'s port on the host as the same number, and nothing for other tasks or network none', () => {
    const member = buildContainerSpec(spec({ gangPort: 29501 }), paths, settings, { startedAtMs: 5 });
    expect(member.create.ExposedPorts).toEqual({ '29501/tcp': {} });
    expect(member.create.HostConfig?.PortBindings).toEqual({ '29501/tcp': [{ HostPort: '29501' }] });
    expect(buildContainerSpec(spec(), paths, settings, { startedAtMs: 5 }).create.HostConfig?.PortBindings).toBeUndefined();
    expect(buildContainerSpec(spec({ gangPort: 29501 }, { network: 'none' }), paths, settings, { startedAtMs: 5 }).create.ExposedPorts).toBeUndefined();
  });

  it('refuses a network it does not know, and a run network without its run', () => {
    expect(() => buildContainerSpec(spec({}, { network: 'overlay' }), paths, settings, { startedAtMs: 0 })).toThrow(/network "overlay" is not known to this worker/);
    expect(() => buildContainerSpec(spec({}, { network: 'run' }), paths, settings, { startedAtMs: 0 })).toThrow(/needs the DAG run/);
  });

  it('asks the engine for the GPU device ids the master assigned, or for a count when the worker offers none', () => {
    const byId = buildContainerSpec(spec({ resources: { cpu: 1, memory: 64 * Mi, gpu: 2, gpuIds: ['1', '3'], disk: 0 } }), paths, settings, { startedAtMs: 0 });
    expect(byId.create.HostConfig?.DeviceRequests).toEqual([{ Driver: 'nvidia', DeviceIDs: ['1', '3'], Capabilities: [['gpu']] }]);
    const byCount = buildContainerSpec(spec({ resources: { cpu: 1, memory: 64 * Mi, gpu: 1, disk: 0 } }), paths, settings, { startedAtMs: 0 });
    expect(byCount.create.HostConfig?.DeviceRequests).toEqual([{ Driver: 'nvidia', Count: 1, Capabilities: [['gpu']] }]);
    const none = buildContainerSpec(spec({}), paths, settings, { startedAtMs: 0 });
    expect(none.create.HostConfig).not.toHaveProperty('DeviceRequests');
  });

  it('sets no cpu or memory limit for an admin task that asked for none', () => {
    const built = buildContainerSpec(spec({ resources: { cpu: 0, memory: 0, gpu: 0, disk: 0 } }), paths, settings, { startedAtMs: 0 });
    expect(built.create.HostConfig).not.toHaveProperty('NanoCpus');
    expect(built.create.HostConfig).not.toHaveProperty('Memory');
  });
});
