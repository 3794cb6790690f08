// Follows one pod through the API's watch (`?watch=true&fieldSelector=metadata.name=<pod>`),
// keeping its latest version. When the watch closes (servers end watches after a while, a
// connection drops) it reads the pod again and re-opens the watch from that resourceVersion,
// and it re-reads the pod every `resyncMs` in any case, so a lost event delays it, never
// hangs it.
import { ApiException, type CoreV1Api, type KubeConfig, type V1Pod, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface PodTrackerOptions {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  namespace: string;
  name: string;
  logger: Logger;
  resyncMs: number;
  /** The pod as last read (from create or list), if known. */
  initial?: V1Pod;
}

/** The last version of the pod seen (its final one once it is gone), if any. */
export type PodSnapshot = V1Pod | undefined;

export class PodTracker {
  private latest: PodSnapshot;
  private gone = false;
  private closed = false;
  private watchAbort: AbortController | undefined;
  private readonly listeners = new Set<() => void>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private rewatchTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PodTrackerOptions) {
    this.latest = options.initial;
    void this.resync();
    this.resyncTimer = setInterval(() => void this.refresh(), options.resyncMs);
    this.resyncTimer.unref();
  }

  /** The last version of the pod seen; still set after it is gone (its final state). */
  get pod(): PodSnapshot {
    return this.latest;
  }

  get isGone(): boolean {
    return this.gone;
  }

  /**
   * Resolves with the first non-undefined value of `check`, evaluated now and after every
   * change. Rejects with `signal.reason` when the signal aborts first, or with a timeout error.
   */
  until<T>(check: (pod: PodSnapshot, gone: boolean) => T | undefined, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        this.listeners.delete(evaluate);
        options.signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
      };
      const evaluate = (): void => {
        let value: T | undefined;
        try {
          value = check(this.pod, this.gone);
        } catch (error: unknown) {
          finish();
          reject(error);
          return;
        }
        if (value !== undefined) {
          finish();
          resolve(value);
        }
      };
      const onAbort = (): void => {
        finish();
        reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
      };
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          finish();
          reject(new PodWaitTimeout());
        }, options.timeoutMs);
      }
      this.listeners.add(evaluate);
      evaluate();
    });
  }

  /** Reads the pod once more now (used after a delete, or when a caller doubts the watch). */
  async refresh(): Promise<void> {
    if (this.closed || this.gone) return;
    try {
      const pod = await this.options.core.readNamespacedPod({ name: this.options.name, namespace: this.options.namespace });
      this.update(pod);
    } catch (error: unknown) {
      if (error instanceof ApiException && error.code === 404) this.markGone();
      else this.options.logger.debug({ err: error, pod: this.options.name }, 'cannot read the pod; will try again');
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.rewatchTimer);
    this.watchAbort?.abort();
    this.listeners.clear();
  }

  private update(pod: V1Pod): void {
    if (this.gone) return;
    const known = Number(this.latest?.metadata?.resourceVersion ?? '0');
    const incoming = Number(pod.metadata?.resourceVersion ?? '0');
    // resourceVersions are opaque strings; numeric ones (every real server) must not go back
    if (Number.isFinite(known) && Number.isFinite(incoming) && incoming < known) return;
    this.latest = pod;
    this.notify();
  }

  private markGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.watchAbort?.abort();
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private async resync(): Promise<void> {
    await this.refresh();
    if (this.closed || this.gone) return;
    await this.watch();
  }

  private async watch(): Promise<void> {
    const { kubeConfig, namespace, name } = this.options;
    const query: Record<string, string> = { fieldSelector: `metadata.name=${name}` };
    const resourceVersion = this.latest?.metadata?.resourceVersion;
    if (resourceVersion) query['resourceVersion'] = resourceVersion;
    let ended = false;
    const onDone = (error: unknown): void => {
      if (ended) return;
      ended = true;
      if (this.closed || this.gone) return;
      if (error) this.options.logger.debug({ err: error, pod: name }, 'the pod watch ended; reading the pod again');
      this.rewatchTimer = setTimeout(() => void this.resync(), error ? 1000 : 100);
      this.rewatchTimer.unref();
    };
    try {
      this.watchAbort = await new Watch(kubeConfig).watch(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        query,
        (type: string, object: unknown) => {
          if (type === 'ERROR') {
            onDone(new Error(`watch error: ${JSON.stringify(object)}`)); // e.g. 410 Gone: start again from a fresh read
            this.watchAbort?.abort();
            return;
          }
          const pod = object as V1Pod;
          if (pod.metadata?.name !== name) return;
          if (type === 'DELETED') {
            this.update(pod);
            this.markGone();
          } else if (type === 'ADDED' || type === 'MODIFIED') this.update(pod);
        },
        onDone,
      );
      if (this.closed || this.gone) this.watchAbort.abort();
    } catch (error: unknown) {
      onDone(error);
    }
  }
}

export class PodWaitTimeout extends Error {
  override readonly name = 'PodWaitTimeout';
  constructor() {
    super('timed out waiting for the pod');
  }
}
