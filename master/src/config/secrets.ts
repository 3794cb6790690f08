// Secrets the operator did not give are generated once and kept in the data dir (mode 0600),
// so a restart keeps sessions, the start join token and the admin login valid. Never a literal
// in code.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateJoinToken, JOIN_TOKEN_PATTERN } from '../cluster/join-tokens.js';

export interface ResolvedSecrets {
  jwtSecret: string;
  joinToken: string;
  adminPassword: string;
  /** 32 bytes: the AES-256-GCM key registry credentials are stored encrypted with (never given by config) */
  credentialsKey: Buffer;
  /** which of them were generated on this start (first start of this data dir) */
  generated: string[];
}

/**
 * The secret in <dir>/<file>, made on the first start. A kept value that `valid` rejects (a
 * join token from before tokens had the `<id>.<secret>` form) is replaced, and counts as made.
 */
function readOrCreate(dir: string, file: string, make: () => string, generated: string[], valid: (value: string) => boolean = () => true): string {
  const path = join(dir, file);
  if (existsSync(path)) {
    chmodSync(path, 0o600);
    const kept = readFileSync(path, 'utf8').trim();
    if (valid(kept)) return kept;
    const value = make();
    writeFileSync(path, `${value}\n`, { mode: 0o600 });
    generated.push(file);
    return value;
  }
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  generated.push(file);
  return value;
}

export function resolveSecrets(
  dataDir: string,
  given: { jwtSecret?: string | undefined; joinToken?: string | undefined; adminPassword?: string | undefined },
): ResolvedSecrets {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const generated: string[] = [];
  const jwtSecret = given.jwtSecret ?? readOrCreate(dataDir, 'jwt-secret', () => randomBytes(48).toString('base64url'), generated);
  const joinToken =
    given.joinToken ?? readOrCreate(dataDir, 'join-token', generateJoinToken, generated, (value) => JOIN_TOKEN_PATTERN.test(value));
  const adminPassword =
    given.adminPassword ?? readOrCreate(dataDir, 'admin-password', () => randomBytes(12).toString('base64url'), generated);
  const credentialsKey = Buffer.from(readOrCreate(dataDir, 'credentials-key', () => randomBytes(32).toString('base64'), generated), 'base64');
  if (credentialsKey.length !== 32) {
    throw new Error(`${join(dataDir, 'credentials-key')} must hold 32 bytes in base64; it holds ${credentialsKey.length} (restore it from a backup: without it stored registry credentials cannot be read)`);
  }
  return { jwtSecret, joinToken, adminPassword, credentialsKey, generated };
}

/** A new start join token in <dataDir>/join-token (the kept one was revoked by an admin). */
export function regenerateJoinToken(dataDir: string): string {
  const value = generateJoinToken();
  writeFileSync(join(dataDir, 'join-token'), `${value}\n`, { mode: 0o600 });
  return value;
}
