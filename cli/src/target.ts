// Which master a command talks to, with which token and CA: the selected context of the config
// file (--context, else WHARF_CONTEXT, else the current one), overridden field by field by
// WHARF_URL, WHARF_TOKEN and WHARF_CACERT. A server may be several masters (a comma list of URLs). A context's token (and CA) is only ever sent to that
// context's own server: with WHARF_URL naming another server, WHARF_TOKEN must come with it.
import { readFileSync } from 'node:fs';
import type { CliConfig } from './config-file.js';
import { CliError, UsageError } from './errors.js';

export interface Target {
  /** the context the settings come from; absent when only WHARF_URL names the server */
  contextName?: string;
  server: string;
  token?: string;
  /** PEM of the CA to trust for an https server (besides the system's) */
  caCert?: string;
}

/** `host:8080` → `http://host:8080`; a trailing slash dropped; only http and https. */
export function normaliseServer(input: string): string {
  const text = input.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`"${input}" is not a server URL (like http://master:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`"${input}": only http:// and https:// servers are supported`);
  if (url.username || url.password) throw new UsageError(`"${input}": put no credentials in the URL; wharf login asks for them`);
  if (url.search || url.hash) throw new UsageError(`"${input}": a server URL has no query or fragment`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * One server URL, or several masters' as a comma list (`http://m1:8080,http://m2:8080`): each
 * normalised, joined with commas (the ApiClient tries them in turn).
 */
export function normaliseServers(input: string): string {
  const servers = input
    .split(',')
    .map((server) => server.trim())
    .filter((server) => server !== '');
  if (servers.length === 0) throw new UsageError(`"${input}" is not a server URL (like http://master:8080)`);
  return servers.map(normaliseServer).join(',');
}

export function readCaFile(path: string, what: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error: unknown) {
    throw new CliError('config', `${what} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CliError('config', `${what} ${path}: not a PEM certificate`);
  return pem;
}

export function selectedContext(config: CliConfig, env: NodeJS.ProcessEnv, flag: string | undefined): string | undefined {
  const name = flag ?? (env.WHARF_CONTEXT || undefined);
  if (name !== undefined && !(name in config.contexts)) {
    const known = Object.keys(config.contexts);
    throw new CliError('config', `no context named "${name}"${known.length ? ` (known: ${known.join(', ')})` : ' (none saved yet: wharf login URL)'}`);
  }
  return name ?? config.current;
}

/** The target in effect, or undefined when no server is known at all. */
export function resolveTarget(config: CliConfig, env: NodeJS.ProcessEnv, contextFlag: string | undefined): Target | undefined {
  const contextName = selectedContext(config, env, contextFlag);
  const entry = contextName === undefined ? undefined : config.contexts[contextName];
  const server = env.WHARF_URL ? normaliseServers(env.WHARF_URL) : entry?.server;
  if (server === undefined) return undefined;
  const own = entry !== undefined && entry.server === server;
  const token = env.WHARF_TOKEN || (own ? entry.token : undefined);
  const caCert = env.WHARF_CACERT ? readCaFile(env.WHARF_CACERT, 'WHARF_CACERT') : own ? entry.caCert : undefined;
  return {
    ...(own ? { contextName } : {}),
    server,
    ...(token ? { token } : {}),
    ...(caCert ? { caCert } : {}),
  };
}
