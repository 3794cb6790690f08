// Gangs end to end over REST on a real master (SQLite in a temp data dir) with three real exec
// workers of one cpu each over gRPC on loopback: a gang of 3 is placed across all three at once
// and each member writes its rank and its peers (WHARF_GANG_RANK, WHARF_GANG_PEERS) to an output
// file; a gang of 4 cannot fit, waits with a reason, and times out to failed with no member ever
// started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, waitFor } from './support/cluster.js';
import { openSocket, type TestSocket } from './support/ws-client.js';

interface GangMember {
  rank: number;
  taskId: string;
  status: string;
  workerId: string | null;
  reason: string | null;
  attemptCount: number;
}
interface GangBody {
  id: string;
  status: string;
  size: number;
  port: number;
  reason: string | null;
  members: GangMember[];
}

const cleanups: (() => Promise<void>)[] = [];
let admin: ApiClient;
let events: TestSocket;
const workerIds: string[] = [];

beforeAll(async () => {
  const master = await startTestMaster();
  cleanups.push(() => master.stop());
  for (const name of ['gang-w1', 'gang-w2', 'gang-w3']) {
    // the third says where its peers reach it; the others are reached where the master saw them
    const worker = await startTestWorker(master, { name, runtimes: ['exec'], capacityCaps: { cpu: 1 }, ...(name === 'gang-w3' ? { advertiseAddress: 'localhost' } : {}) });
    cleanups.push(() => worker.stop());
    workerIds.push(worker.workerId);
  }
  admin = await ApiClient.admin(master.httpUrl);
  events = await openSocket(`${master.httpUrl.replace(/^http/, 'ws')}/ws/events`, { token: admin.token! });
  cleanups.push(async () => events.close());
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await removeTempDirs();
});

const member = { runtime: 'exec', command: 'echo "$WHARF_GANG_RANK $WHARF_GANG_PEERS $MASTER_ADDR:$MASTER_PORT $WORLD_SIZE" > "$WHARF_OUTPUT_DIR/x"', resources: { cpu: 1, memory: '32Mi' } };

async function gangWhen(id: string, what: string, done: (gang: GangBody) => boolean, timeoutMs = 30_000): Promise<GangBody> {
  return waitFor(what, async () => {
    const { body } = await admin.request<{ gang: GangBody }>('GET', `/api/gangs/${id}`);
    return done(body.gang) ? body.gang : undefined;
  }, timeoutMs);
}

describe('gangs on real exec workers', () => {
  it('places a gang of 3 across all 3 workers at once; each member knows its rank and every peer', async () => {
    const submitted = await admin.request<{ gang: GangBody }>('POST', '/api/gangs', { name: 'ddp', members: [member, member, member], gangTimeoutSeconds: 60 });
    expect(submitted.status, submitted.text).toBe(201);
    const gang = submitted.body.gang;
    expect(gang).toMatchObject({ status: 'pending', size: 3 });
    const done = await gangWhen(gang.id, 'the gang to succeed', (g) => g.status === 'succeeded');
    // the event stream told each status change of the gang
    const told = (status: string) => (m: { type: string; [key: string]: unknown }) => m.type === 'gang' && (m.gang as GangBody).id === gang.id && (m.gang as GangBody).status === status;
    for (const status of ['pending', 'running', 'succeeded']) await events.next(`a gang event ${status}`, told(status), 5_000);
    // /metrics: the wait of the placed gang, and no gang left pending or running
    const metrics = await (await fetch(`${admin.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^wharf_gang_wait_seconds_count 1$/m);
    expect(metrics).toMatch(/^wharf_gangs\{status="running"\} 0$/m);
    expect(new Set(done.members.map((m) => m.workerId))).toEqual(new Set(workerIds));
    const hostOf = (workerId: string | null) => (workerId === workerIds[2] ? 'localhost' : '127.0.0.1');
    const peers = done.members.map((m) => `${hostOf(m.workerId)}:${gang.port + m.rank}`).join(',');
    for (const m of done.members) {
      const text = (await admin.bytes(`/api/files/${m.taskId}/download/x`)).data.toString('utf8');
      expect(text).toBe(`${m.rank} ${peers} ${hostOf(done.members[0]!.workerId)}:${gang.port} 3\n`);
    }
  });

  it('places none of a gang of 4 on 3 one-slot workers, says why, and times it out to failed with no member started', async () => {
    const submitted = await admin.request<{ gang: GangBody }>('POST', '/api/gangs', { members: [member, member, member, member], gangTimeoutSeconds: 3 });
    expect(submitted.status, submitted.text).toBe(201);
    const id = submitted.body.gang.id;
    const waiting = await gangWhen(id, 'the gang to say why it waits', (g) => (g.reason ?? '').includes('of 4 members fit'));
    expect(waiting.status).toBe('pending');
    expect(waiting.reason).toMatch(new RegExp(`^gang ${id}: 3 of 4 members fit \\(member 3: no matching worker has room left: `));
    const failed = await gangWhen(id, 'the gang to time out', (g) => g.status === 'failed', 20_000);
    expect(failed.reason).toMatch(/^gang timed out after 3s: gang .*: 3 of 4 members fit/);
    for (const m of failed.members) {
      expect(m).toMatchObject({ status: 'failed', attemptCount: 0, workerId: null, reason: failed.reason });
      const { body } = await admin.request<{ task: { attempts: unknown[]; gangId: string; gangRank: number } }>('GET', `/api/tasks/${m.taskId}`);
      expect(body.task).toMatchObject({ attempts: [], gangId: id, gangRank: m.rank });
    }
  });

  it('refuses a bad member naming its index and field', async () => {
    const refused = await admin.request<{ error: { code: string; message: string } }>('POST', '/api/gangs', { members: [member, { runtime: 'docker' }] });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toEqual({ code: 'validation_failed', message: 'members[1].image: is required for the docker runtime' });
  });
});
