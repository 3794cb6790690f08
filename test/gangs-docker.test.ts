// A gang on a real Docker worker: each member's gang port is published on the worker host, so
// rank 1 reaches rank 0 at MASTER_ADDR:MASTER_PORT (the worker's advertise address and rank 0's
// port) from inside its container, the way a PyTorch DDP job's processes meet.
import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';

const cleanups: (() => Promise<void>)[] = [];
let admin: ApiClient;

/** An address of this host that its containers reach (not loopback, not a Docker bridge). */
function hostAddress(): string | undefined {
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    if (name.startsWith('docker') || name.startsWith('br-') || name.startsWith('veth')) continue;
    const v4 = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) return v4.address;
  }
  return undefined;
}
const address = hostAddress();

beforeAll(async () => {
  execFileSync('docker', ['image', 'inspect', TEST_IMAGE], { stdio: 'ignore' });
  if (!address) return;
  const master = await startTestMaster();
  cleanups.push(() => master.stop());
  const worker = await startTestWorker(master, { name: 'gang-docker', runtimes: ['docker'], capacityCaps: { cpu: 2 }, advertiseAddress: address });
  cleanups.push(() => worker.stop());
  admin = await ApiClient.admin(master.httpUrl);
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await removeTempDirs();
});

describe('a gang on a real Docker worker', () => {
  it('publishes rank 0\'s port on the host: rank 1 talks to it at MASTER_ADDR:MASTER_PORT', async (context) => {
    if (!address) {
      console.warn('skipped: this host has no non-loopback IPv4 address its containers could reach');
      context.skip();
    }
    const resources = { cpu: 0.5, memory: '32Mi' };
    const server = { image: TEST_IMAGE, resources, command: 'nc -l -p "$WHARF_GANG_PORT" -e sh -c \'read line; echo "$line" > /output/got; echo "ok from $RANK"\'' };
    const client = {
      image: TEST_IMAGE,
      resources,
      command: 'for i in $(seq 1 100); do echo "hello from $RANK" | nc "$MASTER_ADDR" "$MASTER_PORT" > /output/reply && [ -s /output/reply ] && exit 0; sleep 0.2; done; exit 1',
    };
    const submitted = await admin.request<{ gang: { id: string; port: number } }>('POST', '/api/gangs', { members: [server, client], gangTimeoutSeconds: 60, policy: 'failGang' });
    expect(submitted.status, submitted.text).toBe(201);
    const { id, port } = submitted.body.gang;
    const done = await waitFor('the gang to end', async () => {
      const { body } = await admin.request<{ gang: { status: string; reason: string | null; members: { taskId: string; status: string }[] } }>('GET', `/api/gangs/${id}`);
      return ['succeeded', 'failed'].includes(body.gang.status) ? body.gang : undefined;
    }, 60_000);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    const [rank0, rank1] = done.members;
    expect((await admin.bytes(`/api/files/${rank0!.taskId}/download/got`)).data.toString('utf8')).toBe('hello from 1\n');
    expect((await admin.bytes(`/api/files/${rank1!.taskId}/download/reply`)).data.toString('utf8')).toBe('ok from 0\n');
    expect(port).toBeGreaterThanOrEqual(29500);
  });
});
