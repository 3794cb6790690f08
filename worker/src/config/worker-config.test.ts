import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig, tokenOnCommandLine, WorkerConfigError } from './worker-config.js';

const REQUIRED = ['--master', 'master.local:7070', '--token', 'secret'];

function configError(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    loadWorkerConfig(argv, env);
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(WorkerConfigError);
    return (error as WorkerConfigError).message;
  }
  throw new Error('expected a WorkerConfigError');
}

describe('loadWorkerConfig', () => {
  it('fills every default when only the master and the token are given', () => {
    const config = loadWorkerConfig(REQUIRED, { HOME: '/home/ann' });
    expect(config).toEqual({
      masterAddress: 'master.local:7070',
      joinToken: 'secret',
      name: os.hostname(),
      dataDir: path.resolve('/home/ann/.wharf/worker'),
      runtimes: ['docker'],
      capacityCaps: {},
      labels: {},
      heartbeatIntervalMs: 5000,
      cancelGraceSeconds: 10,
      logBatchMs: 50,
      logBatchBytes: 65536,
      reconnectBaseMs: 250,
      reconnectMaxMs: 10000,
      pidsLimit: 1024,
      logLevel: 'info',
    });
  });

  it('reads every setting from flags', () => {
    const config = loadWorkerConfig(
      [
        ...REQUIRED,
        '--name', 'gpu-box',
        '--runtimes', 'docker,exec',
        '--cpu', '500m',
        '--memory', '4Gi',
        '--gpu', '1',
        '--disk=20G',
        '--label', 'zone=eu',
        '--label', 'tier=fast',
        '--data-dir', '/var/lib/wharf',
        '--heartbeat-ms', '1000',
        '--log-level', 'debug',
        '--docker-socket', '/run/docker.sock',
      ],
      {},
    );
    expect(config).toMatchObject({
      name: 'gpu-box',
      runtimes: ['docker', 'exec'],
      capacityCaps: { cpu: 0.5, memory: 4 * 1024 ** 3, gpu: 1, disk: 20e9 },
      labels: { zone: 'eu', tier: 'fast' },
      dataDir: '/var/lib/wharf',
      heartbeatIntervalMs: 1000,
      logLevel: 'debug',
      dockerSocketPath: '/run/docker.sock',
    });
  });

  it('reads settings from the environment', () => {
    const config = loadWorkerConfig([], {
      WHARF_MASTER: '10.0.0.5:7070',
      WHARF_JOIN_TOKEN: 'env-token',
      WHARF_WORKER_NAME: 'w1',
      WHARF_RUNTIMES: 'exec',
      WHARF_CPU: '2',
      WHARF_MEMORY: '512Mi',
      WHARF_GPU: '0',
      WHARF_DISK: '1Ti',
      WHARF_LABELS: 'a=1, b=two',
      WHARF_DATA_DIR: '/data/w1',
      WHARF_LOG_LEVEL: 'warn',
      DOCKER_HOST: 'unix:///custom/docker.sock',
    });
    expect(config).toMatchObject({
      masterAddress: '10.0.0.5:7070',
      joinToken: 'env-token',
      name: 'w1',
      runtimes: ['exec'],
      capacityCaps: { cpu: 2, memory: 512 * 1024 ** 2, gpu: 0, disk: 1024 ** 4 },
      labels: { a: '1', b: 'two' },
      dataDir: '/data/w1',
      logLevel: 'warn',
      dockerSocketPath: '/custom/docker.sock',
    });
  });

  it('lets flags win over the environment', () => {
    const config = loadWorkerConfig([...REQUIRED, '--name', 'from-flag'], {
      WHARF_MASTER: 'other:1',
      WHARF_WORKER_NAME: 'from-env',
    });
    expect(config.masterAddress).toBe('master.local:7070');
    expect(config.name).toBe('from-flag');
  });

  it('takes the address gang peers reach it at by --advertise-address or WHARF_ADVERTISE_ADDRESS, and refuses one with a port', () => {
    expect(loadWorkerConfig([...REQUIRED, '--advertise-address', '10.0.0.7'], {}).advertiseAddress).toBe('10.0.0.7');
    expect(loadWorkerConfig(REQUIRED, { WHARF_ADVERTISE_ADDRESS: 'node-3.example' }).advertiseAddress).toBe('node-3.example');
    expect(loadWorkerConfig(REQUIRED, {}).advertiseAddress).toBeUndefined();
    expect(configError([...REQUIRED, '--advertise-address', 'node-3:8080'])).toMatch(/invalid --advertise-address or WHARF_ADVERTISE_ADDRESS "node-3:8080"/);
  });

  it('takes the GPU device ids by --gpus, --gpu-ids or WHARF_GPU_IDS, and "none"', () => {
    expect(loadWorkerConfig([...REQUIRED, '--gpus', '0,1'], {}).gpuIds).toEqual(['0', '1']);
    expect(loadWorkerConfig([...REQUIRED, '--gpu-ids', 'GPU-8f3c, GPU-11aa'], {}).gpuIds).toEqual(['GPU-8f3c', 'GPU-11aa']);
    expect(loadWorkerConfig(REQUIRED, { WHARF_GPU_IDS: '2' }).gpuIds).toEqual(['2']);
    expect(loadWorkerConfig([...REQUIRED, '--gpus', 'none'], {}).gpuIds).toEqual([]);
    expect(loadWorkerConfig(REQUIRED, {}).gpuIds).toBeUndefined();
    expect(configError([...REQUIRED, '--gpus', '0,0'])).toMatch(/invalid --gpus or WHARF_GPU_IDS "0,0": expected distinct device indices/);
    expect(configError([...REQUIRED, '--gpus', '0,;rm'])).toMatch(/invalid --gpus or WHARF_GPU_IDS/);
  });

  it('leaves a tcp DOCKER_HOST to dockerode', () => {
    expect(loadWorkerConfig(REQUIRED, { DOCKER_HOST: 'tcp://10.0.0.1:2375' }).dockerSocketPath).toBeUndefined();
  });

  it('names the flag and the variable when the master is missing; the token is only needed to join', () => {
    expect(configError(['--token', 't'])).toBe('the master address is missing: set --master or WHARF_MASTER to HOST:PORT');
    expect(loadWorkerConfig(['--master', 'm:1'], {}).joinToken).toBeUndefined();
  });

  it('reads the join token from --token-file (never needing it on the command line), and the CA pin', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-token-'));
    const file = path.join(dir, 'token');
    writeFileSync(file, 'wharf_abc123.0123456789abcdef0123456789abcdef\n', { mode: 0o600 });
    const hash = `sha256:${'ab'.repeat(32)}`;
    const config = loadWorkerConfig(['--master', 'm:1', '--token-file', file, '--ca-hash', hash.toUpperCase().replace('SHA256', 'sha256')], {});
    expect(config.joinToken).toBe('wharf_abc123.0123456789abcdef0123456789abcdef');
    expect(config.caHash).toBe(hash);
    expect(loadWorkerConfig(['--master', 'm:1'], { WHARF_JOIN_TOKEN_FILE: file }).joinToken).toBe('wharf_abc123.0123456789abcdef0123456789abcdef');
    expect(configError(['--master', 'm:1', '--token-file', path.join(dir, 'missing')])).toMatch(/^cannot read the join token from --token-file/);
    expect(configError(['--master', 'm:1', '--token-file', file, '--token', 't'])).toBe('give the join token once: --token-file or --token, not both');
    expect(configError(['--master', 'm:1', '--ca-hash', 'abc'])).toContain('expected sha256:<64 hex digits>');
    expect(configError(['--master', 'm:1', '--ca-hash', hash, '--insecure-skip-ca-verification'])).toMatch(/^give one of --ca-hash/);
    expect(loadWorkerConfig(['--master', 'm:1', '--insecure-skip-ca-verification'], {}).insecureSkipCaVerification).toBe(true);
    expect(tokenOnCommandLine(['--master', 'm:1', '--token=x'])).toBe(true);
    expect(tokenOnCommandLine(['--master', 'm:1', '--token-file', file])).toBe(false);
  });

  it('refuses a master address without a port', () => {
    expect(configError(['--master', 'master.local', '--token', 't'])).toContain('invalid --master or WHARF_MASTER "master.local"');
    expect(configError(['--master', 'm:70000', '--token', 't'])).toContain('expected HOST:PORT');
  });

  it('takes several masters as a comma list (flag or WHARF_MASTER), each HOST:PORT', () => {
    expect(loadWorkerConfig(['--master', 'm1:50051, m2:50051,[fd00::3]:50051'], {}).masterAddress).toBe('m1:50051,m2:50051,[fd00::3]:50051');
    expect(loadWorkerConfig([], { WHARF_MASTER: '10.0.0.1:50051,10.0.0.2:50051' }).masterAddress).toBe('10.0.0.1:50051,10.0.0.2:50051');
    expect(configError(['--master', 'm1:50051,m2', '--token', 't'])).toContain('expected HOST:PORT or a comma list of them');
    expect(configError(['--master', 'm1:50051,', '--token', 't'])).toContain('expected HOST:PORT or a comma list of them');
  });

  it('refuses a bad size and says how to write one', () => {
    expect(configError([...REQUIRED, '--memory', '4Gx'])).toBe(
      'invalid --memory or WHARF_MEMORY "4Gx": not a size (use e.g. 512Mi, 4Gi, 20G)',
    );
    expect(configError(REQUIRED.concat('--disk', 'lots'))).toContain('--disk or WHARF_DISK');
    expect(configError([], { WHARF_MASTER: 'm:1', WHARF_JOIN_TOKEN: 't', WHARF_CPU: 'two' })).toContain('--cpu or WHARF_CPU');
  });

  it('reads the tasks network and the default user, and refuses Docker\'s own networks and bad users', () => {
    const config = loadWorkerConfig([...REQUIRED, '--task-network', 'team-tasks', '--default-user', '65534:65534'], {});
    expect(config).toMatchObject({ taskNetwork: 'team-tasks', defaultUser: '65534:65534' });
    expect(loadWorkerConfig(REQUIRED, { WHARF_DEFAULT_USER: 'nobody' }).defaultUser).toBe('nobody');
    expect(configError([...REQUIRED, '--task-network', 'bridge'])).toMatch(/--task-network or WHARF_TASK_NETWORK "bridge": expected a Docker network name of your own/);
    expect(configError([...REQUIRED, '--default-user', 'a b'])).toMatch(/--default-user or WHARF_DEFAULT_USER "a b": expected uid, uid:gid or a user name/);
  });

  it('refuses unknown flags, repeated flags and flags without a value', () => {
    expect(configError([...REQUIRED, '--colour', 'blue'])).toMatch(/^unknown flag --colour \(known flags: --master/);
    expect(configError([...REQUIRED, '--name', 'a', '--name', 'b'])).toBe('flag --name is given twice');
    expect(configError([...REQUIRED, '--name'])).toBe('flag --name needs a value');
    expect(configError([...REQUIRED, 'stray'])).toContain('unexpected argument "stray"');
  });

  it('refuses unknown runtimes, bad labels, numbers and log levels', () => {
    expect(configError([...REQUIRED, '--runtimes', 'docker,podman'])).toContain('unknown runtime "podman"');
    expect(configError([...REQUIRED, '--label', 'novalue'])).toContain('expected key=value');
    expect(configError([...REQUIRED, '--heartbeat-ms', 'soon'])).toContain('--heartbeat-ms or WHARF_HEARTBEAT_MS');
    expect(configError([...REQUIRED, '--gpu', '1.5'])).toContain('--gpu or WHARF_GPU');
    expect(configError([...REQUIRED, '--log-level', 'loud'])).toContain('--log-level or WHARF_LOG_LEVEL');
  });

  it('reads --stop-after as a duration, and leaves it to the master\'s heartbeat TTL when unset', () => {
    expect(loadWorkerConfig([...REQUIRED, '--stop-after', '15s'], {}).stopAfterMs).toBe(15_000);
    expect(loadWorkerConfig(REQUIRED, { WHARF_STOP_AFTER: '1.5m' }).stopAfterMs).toBe(90_000);
    expect(loadWorkerConfig(REQUIRED, {}).stopAfterMs).toBeUndefined();
    expect(configError([...REQUIRED, '--stop-after', 'soon'])).toBe(
      'invalid --stop-after or WHARF_STOP_AFTER "soon": expected a duration from 100ms to 1d, e.g. 15s or 2m',
    );
    expect(configError([...REQUIRED, '--stop-after', '10ms'])).toContain('--stop-after or WHARF_STOP_AFTER');
  });

  it('reports every bad setting in one line', () => {
    const message = configError(['--memory', 'x', '--cpu', 'two']);
    expect(message).not.toContain('\n');
    expect(message.split('; ')).toHaveLength(3);
  });
});
