// The one-line join's kit: the worker bundle (worker/dist/wharf-worker.mjs, the worker and its
// dependencies in one file) and join.sh (worker/dist/join.sh, a template), both made by
// `npm run build`. The master serves them without authentication — the join token is the
// secret, not the worker — and fills join.sh in with what the joining machine must check: the
// bundle's sha256, the pin of this master's HTTPS key and the CA hash the worker pins.
//
// The bundle is held in memory with its sha256 and read again when the file changes (a rebuild
// while the master runs), so the hash a join.sh announces is the hash of the bytes served
// beside it at that moment.
import { createHash, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** worker/dist of this checkout, from master/src/cluster (tsx, tests) and master/dist/cluster (built) alike. */
export const DEFAULT_JOIN_KIT_DIR = fileURLToPath(new URL('../../../worker/dist', import.meta.url));
export const BUNDLE_FILE = 'wharf-worker.mjs';
export const TEMPLATE_FILE = 'join.sh';

export interface WorkerBundle {
  bytes: Buffer;
  /** hex */
  sha256: string;
  /** from the bundle's first lines (`// wharf-worker 0.1.0: …`) */
  version: string;
}

/** What join.sh is filled in with. */
export interface JoinScriptValues {
  /** the master's base URL as the joining machine reached it (https://host:port) */
  url: string;
  /** the gRPC address the worker dials */
  grpcAddress: string;
  /** `sha256:…` the worker pins */
  caHash: string;
  /** curl's `sha256//…` pin of the HTTPS key; '' over plain HTTP (loopback only) */
  pin: string;
  bundleSha256: string;
  bundleVersion: string;
}

const PLACEHOLDERS: Record<string, keyof JoinScriptValues> = {
  '@WHARF_URL@': 'url',
  '@WHARF_GRPC_ADDRESS@': 'grpcAddress',
  '@WHARF_CA_HASH@': 'caHash',
  '@WHARF_PIN@': 'pin',
  '@BUNDLE_SHA256@': 'bundleSha256',
  '@BUNDLE_VERSION@': 'bundleVersion',
};

export class JoinKit {
  private cached: { mtimeMs: number; size: number; bundle: WorkerBundle } | undefined;
  private loading: Promise<WorkerBundle | undefined> | undefined;

  constructor(readonly dir: string = DEFAULT_JOIN_KIT_DIR) {}

  /** The bundle as it is on disk now; undefined when none has been built. */
  async bundle(): Promise<WorkerBundle | undefined> {
    // one read at a time: concurrent joins share it
    this.loading ??= this.readBundle().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** join.sh before it is filled in; undefined when it has not been built. */
  async template(): Promise<string | undefined> {
    try {
      return await readFile(join(this.dir, TEMPLATE_FILE), 'utf8');
    } catch (error: unknown) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Why the one-line join cannot be used, or undefined when it can. */
  async unavailableReason(): Promise<string | undefined> {
    const [bundle, template] = await Promise.all([this.bundle(), this.template()]);
    if (bundle && template) return undefined;
    return `this master has no worker bundle to serve (${join(this.dir, bundle ? TEMPLATE_FILE : BUNDLE_FILE)} is missing): build it on the master with make build (or npm run build)`;
  }

  private async readBundle(): Promise<WorkerBundle | undefined> {
    const path = join(this.dir, BUNDLE_FILE);
    let facts;
    try {
      facts = await stat(path);
    } catch (error: unknown) {
      if (isMissing(error)) {
        this.cached = undefined;
        return undefined;
      }
      throw error;
    }
    if (this.cached && this.cached.mtimeMs === facts.mtimeMs && this.cached.size === facts.size) return this.cached.bundle;
    const bytes = await readFile(path);
    const head = bytes.subarray(0, 400).toString('utf8');
    const bundle: WorkerBundle = {
      bytes,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      version: /^\/\/ wharf-worker (\S+):/m.exec(head)?.[1] ?? 'unknown',
    };
    this.cached = { mtimeMs: facts.mtimeMs, size: facts.size, bundle };
    return bundle;
  }
}

/** join.sh with its values in place, each one a single-quoted shell word. */
export function renderJoinScript(template: string, values: JoinScriptValues): string {
  let text = template;
  for (const [placeholder, key] of Object.entries(PLACEHOLDERS)) {
    if (!text.includes(placeholder)) throw new Error(`the join.sh template has no ${placeholder}`);
    text = text.split(placeholder).join(shellWord(values[key]));
  }
  return text;
}

/** A single-quoted word sh reads back as `value`, whatever it holds. */
export function shellWord(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * curl's `--pinnedpubkey` form of a certificate's key: `sha256//` and the base64 SHA-256 of
 * its SubjectPublicKeyInfo (DER). For a chain, the first certificate: the one the server shows.
 */
export function publicKeyPin(certificatePem: string): string {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(certificatePem)?.[0];
  if (!first) throw new Error('no PEM certificate to pin');
  const spki = new X509Certificate(first).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256//${createHash('sha256').update(spki).digest('base64')}`;
}

/**
 * The line that joins a machine with no clone: curl fetches join.sh pinned to the master's
 * HTTPS key (-k: the pin replaces the CA check curl cannot do without the CA), sh runs it.
 * Over plain HTTP (a loopback-only master) there is nothing to pin.
 */
export function oneLineJoinCommand(options: { url: string; pin: string | undefined; token: string; caHash: string }): string {
  const curl = options.pin ? `curl -fsSL --pinnedpubkey '${options.pin}' -k` : 'curl -fsSL';
  return `${curl} ${options.url}/join.sh | sh -s -- --token ${options.token} --ca-hash ${options.caHash}`;
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');
}
