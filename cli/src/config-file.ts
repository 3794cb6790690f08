// ~/.config/wharf/config.json: the masters this user has logged in to ("contexts"), each with
// its server URL, token and (for https with the cluster's own CA) the CA certificate, and which
// one is current. It holds tokens, so the file is written with mode 0600 in a 0700 directory,
// through a temporary file renamed into place (never half-written).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CliError } from './errors.js';

export interface ContextEntry {
  /** the master's base URL: http(s)://host:port */
  server: string;
  /** a login token (JWT) or an API token (wharf_pat_…); absent after logout */
  token?: string;
  /** the email the token belongs to, for `context ls` */
  user?: string;
  /** PEM of the CA that signs the master's certificate (from --cacert) */
  caCert?: string;
}

export interface CliConfig {
  current?: string;
  contexts: Record<string, ContextEntry>;
}

/** WHARF_CONFIG, else $XDG_CONFIG_HOME/wharf/config.json, else ~/.config/wharf/config.json. */
export function configPath(env: NodeJS.ProcessEnv, homedir: string): string {
  if (env.WHARF_CONFIG) return env.WHARF_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir, '.config');
  return join(base, 'wharf', 'config.json');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseConfig(text: string, path: string): CliConfig {
  const broken = (why: string) => new CliError('config', `${path}: ${why}; fix it, or delete it and log in again`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw broken('not valid JSON');
  }
  if (!isRecord(raw) || !isRecord(raw.contexts)) throw broken('no "contexts" object');
  const contexts: Record<string, ContextEntry> = {};
  for (const [name, entry] of Object.entries(raw.contexts)) {
    if (!isRecord(entry) || typeof entry.server !== 'string') throw broken(`context "${name}" has no "server"`);
    contexts[name] = {
      server: entry.server,
      ...(typeof entry.token === 'string' ? { token: entry.token } : {}),
      ...(typeof entry.user === 'string' ? { user: entry.user } : {}),
      ...(typeof entry.caCert === 'string' ? { caCert: entry.caCert } : {}),
    };
  }
  const current = typeof raw.current === 'string' && raw.current in contexts ? raw.current : undefined;
  return { ...(current === undefined ? {} : { current }), contexts };
}

export class ConfigFile {
  constructor(readonly path: string) {}

  /** The saved contexts; an empty config when the file does not exist yet. */
  load(): CliConfig {
    if (!existsSync(this.path)) return { contexts: {} };
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error: unknown) {
      throw new CliError('config', `cannot read ${this.path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    return parseConfig(text, this.path);
  }

  save(config: CliConfig): void {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = `${this.path}.tmp-${process.pid}`;
    try {
      writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
      chmodSync(temp, 0o600); // whatever the umask
      renameSync(temp, this.path);
    } catch (error: unknown) {
      rmSync(temp, { force: true });
      throw new CliError('config', `cannot write ${this.path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
