// Registry credentials: each user may store a username and password (or token) per registry
// host, for pulling their private images. The password is sealed at rest (secret-box.ts) and
// shown to nobody; the dispatch system asks credentialsFor(task) while it sends an assignment,
// and only when the task's owner has credentials for the registry of the task's image does the
// assignment carry them (an in-memory index answers "none" without a store read or a promise).
// Every refusal is a WharfError naming the field.
import { randomUUID } from 'node:crypto';
import { WharfError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RegistryAuth } from '../records/master-down.js';
import type { RegistryCredentialRecord } from '../records/registry-credential.js';
import type { Task } from '../records/task.js';
import type { User } from '../records/user.js';
import type { Store } from '../store/store.js';
import { normaliseRegistry, registryOfImage } from './image-registry.js';
import type { SecretBox } from './secret-box.js';

/** Registries one user may keep credentials for. */
export const MAX_CREDENTIALS_PER_USER = 100;

export interface NewRegistryCredential {
  registry: string;
  username: string;
  password: string;
}

/** What the API shows of a stored credential: never the password. */
export type RegistryCredentialView = Omit<RegistryCredentialRecord, 'secret'>;

export class RegistryCredentialService {
  /** "userId\nregistry" of every stored credential */
  private readonly index = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads which users have credentials for which registries (at master start). */
  async load(): Promise<void> {
    this.index.clear();
    for (const credential of await this.store.listRegistryCredentials({})) this.index.add(key(credential.userId, credential.registry));
  }

  /** Stores (or replaces) the user's credentials for one registry. */
  async put(user: User, input: NewRegistryCredential): Promise<RegistryCredentialView> {
    const registry = normaliseRegistry(input.registry);
    if (registry === undefined) {
      throw new WharfError('validation_failed', `registry: "${input.registry.slice(0, 100)}" is not a registry address (host or host:port, e.g. ghcr.io or registry.example:5000)`);
    }
    if (!this.index.has(key(user.id, registry)) && (await this.store.listRegistryCredentials({ userId: user.id })).length >= MAX_CREDENTIALS_PER_USER) {
      throw new WharfError('conflict', `registry: at most ${MAX_CREDENTIALS_PER_USER} registries per user; delete one first`);
    }
    const stored = await this.store.putRegistryCredential({
      id: randomUUID(),
      userId: user.id,
      registry,
      username: input.username,
      secret: this.box.seal(input.password, context(user.id, registry)),
      createdAt: this.now(),
    });
    this.index.add(key(user.id, registry));
    this.logger.info({ userId: user.id, registry, credentialId: stored.id }, 'registry credentials stored');
    return view(stored);
  }

  /** The user's credentials, or everyone's for an admin asking for all. */
  async list(user: User, all = false): Promise<RegistryCredentialView[]> {
    if (all && user.role !== 'admin') throw new WharfError('forbidden', 'all: only admins may list every user\'s registry credentials');
    return (await this.store.listRegistryCredentials(all ? {} : { userId: user.id })).map(view);
  }

  /** Deletes one; another user's (unless the caller is an admin) answers not_found. */
  async remove(user: User, id: string): Promise<RegistryCredentialView> {
    const found = await this.store.getRegistryCredential(id);
    if (!found || (found.userId !== user.id && user.role !== 'admin')) throw new WharfError('not_found', `registry credential ${id} not found`);
    await this.store.deleteRegistryCredential(id);
    this.index.delete(key(found.userId, found.registry));
    this.logger.info({ userId: found.userId, registry: found.registry, credentialId: id, by: user.id }, 'registry credentials deleted');
    return view(found);
  }

  /**
   * The credentials to pull the task's image with: undefined at once when its owner stored none
   * for that registry; else a promise of them (decrypted here, for this one assignment).
   */
  credentialsFor(task: Pick<Task, 'userId' | 'image'>): Promise<RegistryAuth | undefined> | undefined {
    if (!task.image) return undefined;
    const registry = registryOfImage(task.image);
    if (!this.index.has(key(task.userId, registry))) return undefined;
    return this.lookup(task.userId, registry);
  }

  private async lookup(userId: string, registry: string): Promise<RegistryAuth | undefined> {
    const found = (await this.store.listRegistryCredentials({ userId })).find((c) => c.registry === registry);
    if (!found) return undefined;
    return { serverAddress: registry, username: found.username, password: this.box.open(found.secret, context(userId, registry)) };
  }
}

function key(userId: string, registry: string): string {
  return `${userId}\n${registry}`;
}

function context(userId: string, registry: string): string {
  return `wharf registry credential\n${userId}\n${registry}`;
}

function view(record: RegistryCredentialRecord): RegistryCredentialView {
  const { secret: _secret, ...shown } = record;
  return shown;
}
