// The kubernetes settings of the worker config (worker/src/config/worker-config.ts).
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig, WorkerConfigError } from '../config/worker-config.js';

const BASE = ['--master', 'm.local:7070', '--token', 't'];
const K8S = [...BASE, '--runtimes', 'kubernetes'];

function configError(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    loadWorkerConfig(argv, env);
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(WorkerConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a WorkerConfigError');
}

describe('kubernetes worker settings', () => {
  it('has defaults and no kubernetes section for other runtimes', () => {
    expect(loadWorkerConfig(K8S, {}).kubernetes).toEqual({
      nodeSelector: {},
      tolerations: [],
      imagePullSecrets: [],
      pendingTimeoutMs: 300_000,
      helperImage: 'busybox:1.36',
    });
    expect(loadWorkerConfig(BASE, { KUBECONFIG: '/home/a/.kube/config' }).kubernetes).toBeUndefined();
  });

  it('reads every flag, repeating ones included', () => {
    const config = loadWorkerConfig(
      [
        ...K8S,
        '--k8s-kubeconfig', '/etc/kube.yaml',
        '--k8s-namespace', 'jobs',
        '--k8s-service-account', 'runner',
        '--k8s-node-selector', 'example.com/pool=gpu',
        '--k8s-node-selector', 'zone=a',
        '--k8s-toleration', 'gpu=true:NoSchedule',
        '--k8s-toleration', 'spot:NoExecute',
        '--k8s-toleration', 'dedicated',
        '--k8s-image-pull-secret', 'regcred',
        '--k8s-pending-timeout', '60',
        '--k8s-cache-host-path', '/var/cache/wharf/',
        '--k8s-helper-image', 'registry.local/busybox:1.36',
      ],
      {},
    );
    expect(config.kubernetes).toEqual({
      kubeconfigPath: '/etc/kube.yaml',
      namespace: 'jobs',
      serviceAccount: 'runner',
      nodeSelector: { 'example.com/pool': 'gpu', zone: 'a' },
      tolerations: [
        { key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
        { key: 'spot', operator: 'Exists', effect: 'NoExecute' },
        { key: 'dedicated', operator: 'Exists' },
      ],
      imagePullSecrets: ['regcred'],
      pendingTimeoutMs: 60_000,
      cacheHostPath: '/var/cache/wharf',
      helperImage: 'registry.local/busybox:1.36',
    });
  });

  it('reads lists from comma-separated environment variables', () => {
    const config = loadWorkerConfig(BASE, {
      WHARF_RUNTIMES: 'kubernetes',
      KUBECONFIG: '/k',
      WHARF_K8S_NODE_SELECTOR: 'a=1,b=2',
      WHARF_K8S_TOLERATIONS: 'x=y:NoSchedule,z',
      WHARF_K8S_IMAGE_PULL_SECRETS: 'one,two',
    });
    expect(config.kubernetes).toMatchObject({
      kubeconfigPath: '/k',
      nodeSelector: { a: '1', b: '2' },
      tolerations: [{ key: 'x', operator: 'Equal', value: 'y', effect: 'NoSchedule' }, { key: 'z', operator: 'Exists' }],
      imagePullSecrets: ['one', 'two'],
    });
  });

  it.each([
    [['--k8s-namespace', 'Not_Valid'], 'invalid --k8s-namespace or WHARF_K8S_NAMESPACE "Not_Valid": expected a Kubernetes name'],
    [['--k8s-toleration', 'gpu=true:Sometimes'], 'invalid --k8s-toleration or WHARF_K8S_TOLERATIONS "gpu=true:Sometimes": expected key=value:Effect'],
    [['--k8s-node-selector', 'novalue'], 'invalid --k8s-node-selector or WHARF_K8S_NODE_SELECTOR "novalue": expected a node label as key=value'],
    [['--k8s-pending-timeout', '0'], 'invalid --k8s-pending-timeout or WHARF_K8S_PENDING_TIMEOUT "0": expected a whole number from 1 to 86400'],
    [['--k8s-cache-host-path', 'cache'], 'invalid --k8s-cache-host-path or WHARF_K8S_CACHE_HOST_PATH "cache": expected an absolute folder'],
    [['--k8s-image-pull-secret', 'Bad Secret'], 'invalid --k8s-image-pull-secret or WHARF_K8S_IMAGE_PULL_SECRETS "Bad Secret"'],
  ])('refuses %j naming the flag and the variable', (extra, message) => {
    expect(configError([...K8S, ...extra])).toContain(message);
  });

  it('refuses kubernetes settings without the kubernetes runtime, and kubernetes next to another runtime', () => {
    expect(configError([...BASE, '--k8s-namespace', 'jobs'])).toBe(
      '--k8s-namespace or WHARF_K8S_NAMESPACE is set but --runtimes or WHARF_RUNTIMES does not include kubernetes',
    );
    expect(configError([...BASE, '--runtimes', 'docker,kubernetes'])).toContain('give it a worker of its own (--runtimes kubernetes)');
  });
});
