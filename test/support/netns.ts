// A server "outside" for network tests: a TCP server in a network namespace of its own, joined to
// the host by a veth pair on a private /30, so a task reaches it through the host's routing (not
// loopback, not a Docker network) the way it reaches any server on the LAN or the internet.
// Machine-global: unique names, removed by close(). Needs root and iproute2; when either is
// missing, start() answers why, for the caller to print and skip.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';

export interface OutsideServer {
  /** the server's address (in its namespace) */
  host: string;
  port: number;
  close(): Promise<void>;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** Why this machine cannot make one, or undefined. */
export function outsideServerUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root, and this test runs as another user';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'the ip command (iproute2) is not installed';
  }
  return undefined;
}

/** A server answering `reply` on every connection, at an address only routing reaches. */
export async function startOutsideServer(reply: string): Promise<OutsideServer> {
  const id = randomBytes(3).toString('hex');
  const ns = `wharf-ns-${id}`;
  const hostSide = `wh${id}h`;
  const nsSide = `wh${id}n`;
  const subnet = `10.213.${randomInt(1, 250)}`;
  const port = 8090;
  let child: ChildProcess | undefined;
  const cleanup = async (): Promise<void> => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    for (const args of [['link', 'del', hostSide], ['netns', 'del', ns]]) {
      try {
        ip(...args);
      } catch {
        // gone already
      }
    }
  };
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide);
    ip('link', 'set', nsSide, 'netns', ns);
    ip('addr', 'add', `${subnet}.1/30`, 'dev', hostSide);
    ip('link', 'set', hostSide, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${subnet}.2/30`, 'dev', nsSide);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', nsSide, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    ip('netns', 'exec', ns, 'ip', 'route', 'add', 'default', 'via', `${subnet}.1`);
    const script = `require('node:net').createServer((s) => s.end(${JSON.stringify(`${reply}\n`)})).listen(${port}, '0.0.0.0', () => console.log('listening'))`;
    child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the server in the network namespace did not start within 10 s')), 10_000);
      child!.stdout?.on('data', (data: Buffer) => {
        if (data.toString().includes('listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child!.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the server in the network namespace exited with ${code}`));
      });
    });
  } catch (error: unknown) {
    await cleanup();
    throw error;
  }
  return { host: `${subnet}.2`, port, close: cleanup };
}
