// One change at a time: `run(fn)` starts `fn` once every change queued before it has finished
// (succeeded or failed) and answers what `fn` answers. The task systems share one, and so does
// the DAG service, so no two of their changes interleave.
export class SerialExecutor {
  private chain: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.chain.then(fn, fn);
    this.chain = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every change queued so far has finished. */
  async idle(): Promise<void> {
    await this.run(async () => undefined);
  }
}
