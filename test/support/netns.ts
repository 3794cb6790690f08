// Network namespaces for tests that need a second "machine": a namespace joined to the host by
// a veth pair on a /30 of its own, so a process inside reaches the host only over a non-loopback
// address. Needs root and `ip netns` (iproute2); netnsUnavailable() says why not, for a skip
// line. Names carry the test process's pid, so a later run removes what a crashed one left.
// startOutsideServer(): a server "outside" for network tests, in such a namespace, that a task
// reaches through the host's routing (not loopback, not a Docker network) the way it reaches any
// server on the LAN or the internet.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why this machine cannot make network namespaces, or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'it needs root to create network namespaces';
  try {
    ip('netns', 'list');
  } catch (error: unknown) {
    return `\`ip netns\` (iproute2) does not work here: ${error instanceof Error ? error.message : String(error)}`;
  }
  return undefined;
}

/** Removes namespaces named `<prefix><pid>-…` whose test process is gone (a crashed run). */
export function removeNetnsLeftovers(prefix: string): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const match = new RegExp(`^${prefix}(\\d+)-`).exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) {
      try {
        ip('netns', 'delete', name); // its veth end goes with it, and so does the pair
      } catch {
        // already gone
      }
    }
  }
}

/** A /30 in 10.213.0.0/16 that no interface of the host uses. */
export function freeSubnet(): { host: string; ns: string } {
  const used = ip('-4', '-o', 'addr', 'show');
  for (let tries = 0; tries < 100; tries += 1) {
    const third = Math.floor(Math.random() * 256);
    const fourth = Math.floor(Math.random() * 64) * 4;
    if (used.includes(`10.213.${third}.`)) continue;
    return { host: `10.213.${third}.${fourth + 1}`, ns: `10.213.${third}.${fourth + 2}` };
  }
  throw new Error('no free /30 in 10.213.0.0/16');
}

/** A namespace behind a veth pair: the host end is `hostAddress`, the namespace's `nsAddress`. */
export interface VethNamespace {
  name: string;
  hostInterface: string;
  hostAddress: string;
  nsAddress: string;
  /** `ip netns exec <name>` and the command: for spawn('ip', …) */
  execArgs(command: string, ...args: string[]): string[];
  /** deletes the namespace and the pair */
  remove(): void;
}

/** Makes a namespace `<prefix><pid>-<random>` with a veth pair up on a free /30. */
export function createVethNamespace(prefix: string): VethNamespace {
  removeNetnsLeftovers(prefix);
  const name = `${prefix}${process.pid}-${Math.random().toString(16).slice(2, 6)}`;
  const hostInterface = `wjh${Math.random().toString(16).slice(2, 8)}`;
  const nsInterface = `wjn${hostInterface.slice(3)}`;
  const subnet = freeSubnet();
  ip('netns', 'add', name);
  try {
    ip('link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', nsInterface);
    ip('link', 'set', nsInterface, 'netns', name);
    ip('addr', 'add', `${subnet.host}/30`, 'dev', hostInterface);
    ip('link', 'set', hostInterface, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${subnet.ns}/30`, 'dev', nsInterface);
    ip('netns', 'exec', name, 'ip', 'link', 'set', nsInterface, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (error: unknown) {
    removeQuietly(name, hostInterface);
    throw error;
  }
  return {
    name,
    hostInterface,
    hostAddress: subnet.host,
    nsAddress: subnet.ns,
    execArgs: (command, ...args) => ['netns', 'exec', name, command, ...args],
    remove: () => removeQuietly(name, hostInterface),
  };
}

function removeQuietly(name: string, hostInterface: string): void {
  try {
    ip('netns', 'delete', name);
  } catch {
    // gone
  }
  try {
    ip('link', 'delete', hostInterface);
  } catch {
    // went with the namespace
  }
}

export interface OutsideServer {
  /** the server's address (in its namespace) */
  host: string;
  port: number;
  close(): Promise<void>;
}

/** A server answering `reply` on every connection, at an address only routing reaches. */
export async function startOutsideServer(reply: string): Promise<OutsideServer> {
  const port = 8090;
  const ns = createVethNamespace('wharf-out');
  let child: ChildProcess | undefined;
  const cleanup = async (): Promise<void> => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    ns.remove();
  };
  try {
    ip(...ns.execArgs('ip', 'route', 'add', 'default', 'via', ns.hostAddress));
    const script = `require('node:net').createServer((s) => s.end(${JSON.stringify(`${reply}\n`)})).listen(${port}, '0.0.0.0', () => console.log('listening'))`;
    child = spawn('ip', ns.execArgs(process.execPath, '-e', script), { stdio: ['ignore', 'pipe', 'inherit'] });
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
  return { host: ns.nsAddress, port, close: cleanup };
}
