// database/docker-compose.yml is checked by Docker Compose itself (`config -q` validates the
// file, its interpolation and its schema). Nothing is started: no MongoDB image can be pulled
// on the machines this runs on, so the replica set itself was never brought up here.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from './support/cluster.js';

const COMPOSE_FILE = join(REPO_ROOT, 'database/docker-compose.yml');

function composeCommand(): string[] | string {
  const found = spawnSync('bash', [join(REPO_ROOT, 'scripts/install-compose.sh')], { encoding: 'utf8' });
  if (found.status !== 0) return found.stderr.trim() || 'scripts/install-compose.sh failed';
  return found.stdout.trim().split(' ');
}

const command = composeCommand();
const unavailable = typeof command === 'string' ? command : undefined;
if (unavailable) console.log(`database/docker-compose.yml check skipped: ${unavailable}`);

function compose(args: string[], env: Record<string, string>) {
  const [bin, ...pre] = command as string[];
  return spawnSync(bin!, [...pre, '-f', COMPOSE_FILE, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
  });
}

interface ComposeService {
  image?: string;
  entrypoint?: string[];
  healthcheck?: { test?: string[] };
  volumes?: (string | { source?: string; target?: string })[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
}

describe.skipIf(unavailable !== undefined)('database/docker-compose.yml', () => {
  it('is valid Compose and describes MongoDB 7 as an authenticated single-node replica set', () => {
    const check = compose(['config', '-q'], { WHARF_MONGO_PASSWORD: 'a-test-password' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);

    const resolved = compose(['config'], { WHARF_MONGO_PASSWORD: 'a-test-password', WHARF_MONGO_ADVERTISED_HOST: 'db.example' });
    expect(resolved.status).toBe(0);
    const config = parse(resolved.stdout) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
    const mongo = config.services.mongo!;
    expect(mongo.image).toMatch(/^mongo:7(\.|$)/);
    const start = (mongo.entrypoint ?? []).join(' ');
    expect(start).toContain('mongod --replSet rs0 --bind_ip_all --keyFile');
    expect(start).toContain('chmod 400');
    expect(mongo.environment?.MONGO_INITDB_ROOT_PASSWORD).toBe('a-test-password');
    expect(mongo.healthcheck?.test?.join(' ')).toContain('isWritablePrimary');
    expect(Object.keys(config.volumes)).toEqual(expect.arrayContaining(['wharf-mongo-data', 'wharf-mongo-config']));
    const init = config.services['mongo-init']!;
    expect(init.depends_on?.mongo).toBeDefined();
    expect((init.entrypoint ?? []).join(' ')).toContain('rs.initiate');
    expect(init.environment?.ADVERTISED).toBe('db.example:27017');
  });

  it('refuses to start without a password, saying which variable to set', () => {
    const check = compose(['config', '-q'], {});
    expect(check.status).not.toBe(0);
    expect(check.stderr).toContain('set WHARF_MONGO_PASSWORD');
  });
});

