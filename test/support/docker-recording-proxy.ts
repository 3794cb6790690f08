// A recording stand-in for the Docker API, for tests that must see what a worker asks the engine
// for but cannot let the engine act on it (a GPU device request on a machine without the NVIDIA
// runtime: the engine creates the container and refuses to start it). It listens on a unix
// socket of its own (the worker's --docker-socket) and forwards every request to the real engine
// unchanged, keeping the body of each container create request it passed on.
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';

/** A container create request as it went to the engine (the body Docker's API documents). */
export interface RecordedCreate {
  path: string;
  body: {
    Image?: string;
    Labels?: Record<string, string>;
    HostConfig?: { DeviceRequests?: { Driver?: string; Count?: number; DeviceIDs?: string[]; Capabilities?: string[][] }[] };
  };
}

const CREATE = /^\/(v[0-9.]+\/)?containers\/create(\?|$)/;

export class RecordingDockerProxy {
  readonly creates: RecordedCreate[] = [];

  private constructor(
    readonly socketPath: string,
    private readonly server: http.Server,
  ) {}

  static async start(dir: string, engineSocket = '/var/run/docker.sock'): Promise<RecordingDockerProxy> {
    const socketPath = join(dir, 'docker-proxy.sock');
    let proxy: RecordingDockerProxy | undefined;
    const server = http.createServer((req, res) => {
      const upstream = http.request({ socketPath: engineSocket, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', (error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `proxy: ${error.message}` }));
      });
      res.on('close', () => upstream.destroy());
      if (req.method === 'POST' && CREATE.test(req.url ?? '')) {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          proxy?.creates.push({ path: req.url ?? '', body: JSON.parse(body.toString('utf8')) as RecordedCreate['body'] });
          upstream.end(body);
        });
        return;
      }
      req.pipe(upstream);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    proxy = new RecordingDockerProxy(socketPath, server);
    return proxy;
  }

  /** The create requests of one task's containers (by the wharf.task label). */
  createsOf(taskId: string): RecordedCreate[] {
    return this.creates.filter((c) => c.body.Labels?.['wharf.task'] === taskId);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }
}
