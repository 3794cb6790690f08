// A TCP relay between workers and the master that a test can cut, for partitions without
// network namespaces. While cut, no byte crosses in either direction and every connection
// stays open, as when a link goes down and packets are dropped rather than refused; what was
// written meanwhile is delivered in order once the link is back, as TCP retransmission would.
// (test/partition-netns.test.ts cuts a real link instead.)
import { connect, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  toUpstream: Buffer[];
  toClient: Buffer[];
  /** one side closed while the link was cut: the other learns it once the link is back */
  closing: boolean;
}

export class PartitionProxy {
  private cutNow = false;
  private readonly pairs = new Set<Pair>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on 127.0.0.1 (port 0) and relays to the target. */
  static async start(target: { host: string; port: number }): Promise<PartitionProxy> {
    let proxy: PartitionProxy | undefined;
    const server = createServer((client) => proxy?.relay(client, target));
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
    proxy = new PartitionProxy(server, port);
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get isCut(): boolean {
    return this.cutNow;
  }

  /** The link goes down: nothing crosses until heal(). */
  cut(): void {
    this.cutNow = true;
  }

  /** The link is back: what waited is delivered, in order. */
  heal(): void {
    this.cutNow = false;
    for (const pair of [...this.pairs]) {
      for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk);
      for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
      if (pair.closing) this.drop(pair);
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private drop(pair: Pair): void {
    this.pairs.delete(pair);
    pair.client.destroySoon();
    pair.upstream.destroySoon();
  }

  private relay(client: Socket, target: { host: string; port: number }): void {
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [], closing: false };
    this.pairs.add(pair);
    client.on('data', (chunk: Buffer) => (this.cutNow ? pair.toUpstream.push(chunk) : upstream.write(chunk)));
    upstream.on('data', (chunk: Buffer) => (this.cutNow ? pair.toClient.push(chunk) : client.write(chunk)));
    const end = (): void => {
      if (this.cutNow) pair.closing = true;
      else this.drop(pair);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  }
}
