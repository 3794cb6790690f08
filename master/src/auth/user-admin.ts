// What admins do to accounts (REST /api/users, the REPL's `user …`, the dashboard's Users page):
// list them, change a role, disable or enable one, delete one.
//
// - A role change or a disable bumps the user's token version, so every login token of theirs
//   is refused at once, and announces it, so their open WebSockets and log streams end at once
//   (with API tokens too: those keep working after a role change, with the new role, and stop
//   while the account is disabled, since every request reads the account).
// - Deleting an account cancels its unfinished tasks and DAG runs (as the admin, so the task's
//   reason says who), revokes its API tokens and removes the user record. Its tasks, logs,
//   output files and audit entries are kept (admins can still read them); a later registration
//   of the same address is a new account that does not see them.
// - The last enabled admin cannot be demoted, disabled or deleted, so the master never ends up
//   without one (the configured admin, WHARF_ADMIN_EMAIL, is created again at start only when
//   no account has that address).
import { notFound, WharfError } from '../errors.js';
import type { Role, User, UserPatch } from '../records/user.js';
import type { Store } from '../store/store.js';
import type { AuthService } from './auth-service.js';

/** What deleting an account cancelled. */
export interface CancelledWork {
  tasks: number;
  dags: number;
}

export interface UserAdminDeps {
  store: Store;
  auth: AuthService;
  /** cancels the user's unfinished tasks and DAG runs, as `by` (wired in main.ts) */
  cancelWorkOf: (user: User, by: User) => Promise<CancelledWork>;
}

export class UserAdmin {
  constructor(private readonly deps: UserAdminDeps) {}

  list(): Promise<User[]> {
    return this.deps.store.listUsers();
  }

  async get(id: string): Promise<User> {
    const user = await this.deps.store.getUser(id);
    if (!user) throw notFound(`user ${id}`);
    return user;
  }

  /** Changes the role, the disabled flag and/or the storage quota (null: the master's); answers the user as it is now. */
  async update(
    by: User,
    id: string,
    change: { role?: Role | undefined; disabled?: boolean | undefined; storageQuotaBytes?: number | null | undefined },
  ): Promise<User> {
    if (change.storageQuotaBytes !== undefined) {
      const quota = change.storageQuotaBytes ?? undefined;
      if ((await this.get(id)).storageQuotaBytes !== quota) {
        if (!(await this.deps.store.updateUser(id, { storageQuotaBytes: quota }))) throw notFound(`user ${id}`);
      }
    }
    const user = await this.get(id);
    const roleChanges = change.role !== undefined && change.role !== user.role;
    const disabling = change.disabled === true && !user.disabled;
    const enabling = change.disabled === false && Boolean(user.disabled);
    if (!roleChanges && !disabling && !enabling) return user;
    if ((roleChanges && change.role !== 'admin') || disabling) await this.keepAnAdmin(user, roleChanges ? 'demote' : 'disable');
    const patch: UserPatch = {};
    if (roleChanges) patch.role = change.role;
    if (disabling) patch.disabled = true;
    if (enabling) patch.disabled = undefined;
    // tokens issued before a role change or a disable are refused from now on
    if (roleChanges || disabling) patch.tokenVersion = (user.tokenVersion ?? 0) + 1;
    const updated = await this.deps.store.updateUser(id, patch);
    if (!updated) throw notFound(`user ${id}`);
    if (roleChanges || disabling) {
      const reason = disabling ? `account disabled by ${by.email}` : `role changed to ${change.role} by ${by.email}`;
      this.deps.auth.announce({ kind: 'user', userId: id, scope: 'all', reason });
    }
    return updated;
  }

  /** Deletes the account (see the header for what is kept); answers it and what was cancelled. */
  async delete(by: User, id: string): Promise<{ user: User; cancelled: CancelledWork; apiTokens: number }> {
    const user = await this.get(id);
    await this.keepAnAdmin(user, 'delete');
    const reason = `account deleted by ${by.email}`;
    // disabled first: nothing of it works while its work is cancelled
    await this.deps.store.updateUser(id, { disabled: true, tokenVersion: (user.tokenVersion ?? 0) + 1 });
    this.deps.auth.announce({ kind: 'user', userId: id, scope: 'all', reason });
    const cancelled = await this.deps.cancelWorkOf(user, by);
    const apiTokens = await this.deps.auth.apiTokens.revokeAllOf(id, reason);
    await this.deps.store.deleteUser(id);
    return { user, cancelled, apiTokens };
  }

  /** Refuses to take away the last enabled admin. */
  private async keepAnAdmin(user: User, what: 'demote' | 'disable' | 'delete'): Promise<void> {
    if (user.role !== 'admin' || user.disabled) return;
    const admins = (await this.deps.store.listUsers()).filter((u) => u.role === 'admin' && !u.disabled);
    if (admins.length <= 1) {
      throw new WharfError('conflict', `${user.email} is the only enabled admin; make another admin first, then ${what} this one`);
    }
  }
}
