import { describe, expect, it } from 'vitest';
import type { JoinTokenView } from '../api-types.js';
import { CliError } from '../errors.js';
import { runAgainstFakeMaster } from '../testing/fake-master.js';
import { JOIN_TOKEN_COMMANDS, type CreatedJoinToken } from './join-token-commands.js';

const [create, ls, revoke] = JOIN_TOKEN_COMMANDS as [(typeof JOIN_TOKEN_COMMANDS)[number], (typeof JOIN_TOKEN_COMMANDS)[number], (typeof JOIN_TOKEN_COMMANDS)[number]];
const NOW = Date.parse('2025-06-01T12:00:00Z');

function token(fields: Partial<JoinTokenView>): JoinTokenView {
  return {
    id: 'wharf_abc123',
    description: '',
    createdBy: 'admin@wharf.local',
    createdAt: '2025-06-01T11:00:00.000Z',
    expiresAt: null,
    usageLimit: null,
    uses: 0,
    lastUsedAt: null,
    revokedAt: null,
    startToken: false,
    state: 'active',
    ...fields,
  };
}

const created = (body: unknown): CreatedJoinToken => ({
  token: token({ id: 'wharf_k3x9q2', description: 'gpu box', usageLimit: 1, expiresAt: '2025-06-02T12:00:00.000Z' }),
  secret: 'wharf_k3x9q2.0123456789abcdefghijklmnopqrstuv',
  command: `./runWorker.sh --master 10.0.0.1:50051 --token-file <file with a join token> --ca-hash sha256:ff (${JSON.stringify(body)})`,
});

describe('wharf join-token create', () => {
  it('sends the options as the API\'s fields, prints the secret alone on stdout and the join line on stderr', async () => {
    const run = await runAgainstFakeMaster(create, ['--expires', '24h', '--uses', '1', '--description', 'gpu box'], { 'POST /api/join-tokens': created });
    expect(run.client.requests).toEqual([{ method: 'POST', path: '/api/join-tokens', json: { description: 'gpu box', expiresIn: '24h', usageLimit: 1 } }]);
    expect(run.stdout).toBe('wharf_k3x9q2.0123456789abcdefghijklmnopqrstuv\n');
    expect(run.stderr).toContain('join token wharf_k3x9q2 ("gpu box") admits 1 worker until 2025-06-02T12:00:00.000Z; this is the only time its secret is shown');
    expect(run.stderr).toContain('join a worker (the secret in that file, mode 600): ./runWorker.sh --master 10.0.0.1:50051 --token-file');
  });

  it('sends nothing for never and absent options (the API\'s defaults: no expiry, any number of workers)', async () => {
    const run = await runAgainstFakeMaster(create, ['--expires', 'never'], { 'POST /api/join-tokens': created });
    expect(run.client.requests[0]!.json).toEqual({});
  });

  it('prints the API\'s whole answer with -o json, and nothing on stderr', async () => {
    const run = await runAgainstFakeMaster(create, ['-o', 'json'], { 'POST /api/join-tokens': created });
    expect(JSON.parse(run.stdout)).toEqual(created({}));
    expect(run.stderr).toBe('');
  });

  it('refuses a --uses that is not a whole number in range as a usage error, before asking the master', async () => {
    await expect(runAgainstFakeMaster(create, ['--uses', '0'], {})).rejects.toThrow('--uses takes a whole number from 1 to 1000000 (got "0")');
    await expect(runAgainstFakeMaster(create, ['--uses', 'lots'], {})).rejects.toThrow('--uses takes a whole number');
  });
});

describe('wharf join-token ls', () => {
  it('shows id, description, state, uses of the limit, expiry, creation and revocation', async () => {
    const tokens = [
      token({ id: 'wharf_start1', startToken: true, createdBy: 'generated', uses: 2 }),
      token({ id: 'wharf_abc123', description: 'rack 4', usageLimit: 3, uses: 1, expiresAt: '2025-06-02T12:00:00.000Z' }),
      token({ id: 'wharf_old999', state: 'revoked', revokedAt: '2025-06-01T11:30:00.000Z', expiresAt: '2025-06-01T11:45:00.000Z' }),
    ];
    const run = await runAgainstFakeMaster(ls, [], { 'GET /api/join-tokens': { tokens } }, { now: NOW });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+DESCRIPTION\s+STATE\s+USES\s+EXPIRES\s+CREATED\s+REVOKED$/);
    expect(lines[1]).toMatch(/^wharf_start1\s+\(the start token\)\s+active\s+2\/any\s+never\s+1h ago by generated\s+-$/);
    expect(lines[2]).toMatch(/^wharf_abc123\s+rack 4\s+active\s+1\/3\s+in 1d\s+1h ago by admin@wharf\.local\s+-$/);
    expect(lines[3]).toMatch(/^wharf_old999\s+-\s+revoked\s+0\/any\s+15m ago\s+1h ago by admin@wharf\.local\s+30m ago$/);
  });

  it('says how to make one when there are none, and gives the API\'s records with -o yaml', async () => {
    expect((await runAgainstFakeMaster(ls, [], { 'GET /api/join-tokens': { tokens: [] } })).stdout).toContain('no join tokens (wharf join-token create)');
    expect((await runAgainstFakeMaster(ls, ['-o', 'yaml'], { 'GET /api/join-tokens': { tokens: [token({})] } })).stdout).toContain('id: wharf_abc123');
  });
});

describe('wharf join-token revoke', () => {
  const tokens = [token({ id: 'wharf_abc123' }), token({ id: 'wharf_abd456' }), token({ id: 'wharf_xyz789' })];
  const revoked = (id: string) => ({ token: token({ id, state: 'revoked', revokedAt: '2025-06-01T12:00:00.000Z' }) });

  it('takes a whole id, or a unique prefix with or without wharf_', async () => {
    const run = await runAgainstFakeMaster(revoke, ['wharf_xyz789', 'abc', 'wharf_abd'], {
      'GET /api/join-tokens': { tokens },
      'DELETE /api/join-tokens/wharf_xyz789': revoked('wharf_xyz789'),
      'DELETE /api/join-tokens/wharf_abc123': revoked('wharf_abc123'),
      'DELETE /api/join-tokens/wharf_abd456': revoked('wharf_abd456'),
    });
    expect(run.code).toBeUndefined();
    expect(run.client.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      '/api/join-tokens/wharf_xyz789',
      '/api/join-tokens/wharf_abc123',
      '/api/join-tokens/wharf_abd456',
    ]);
    expect(run.stdout).toContain('revoked join token wharf_abc123: no new worker can join with it');
  });

  it('revokes what it can and exits 1 naming each one it could not (ambiguous, unknown, refused)', async () => {
    const run = await runAgainstFakeMaster(revoke, ['ab', 'nope', 'xyz'], {
      'GET /api/join-tokens': { tokens },
      'DELETE /api/join-tokens/wharf_xyz789': new CliError('forbidden', 'admins only', 403),
    });
    expect(run.code).toBe(1);
    expect(run.client.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(run.stderr).toContain('wharf join-token revoke: ab: "ab" names more than one join token: wharf_abc123, wharf_abd456; type more of the id [ambiguous]');
    expect(run.stderr).toContain('wharf join-token revoke: nope: no join token id starts with "nope" (wharf join-token ls lists them) [not_found]');
    expect(run.stderr).toContain('wharf join-token revoke: xyz: admins only [forbidden]');
  });
});
