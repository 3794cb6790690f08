// Invitations to register: an admin invites an email address with a role (REST, the REPL, the
// dashboard) and gets a one-time code (`wharf_inv_…`) and a link to the dashboard's register
// page; registering with the code creates that address's account with that role, once, before
// the invite expires. Only the code's sha256 is kept.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { notFound, WharfError } from '../errors.js';
import { INVITE_CODE_PREFIX, type InviteRecord } from '../records/invite.js';
import type { Role, User } from '../records/user.js';
import type { Store } from '../store/store.js';

/** how long an invite lasts when the admin does not say */
export const DEFAULT_INVITE_LIFETIME_MS = 7 * 86_400_000;
export const MAX_INVITE_LIFETIME_MS = 90 * 86_400_000;
/** open invites at once (used, revoked and expired ones do not count) */
export const MAX_OPEN_INVITES = 1000;
const CODE_PATTERN = new RegExp(`^${INVITE_CODE_PREFIX}[A-Za-z0-9_-]{43}$`);

export interface CreatedInvite {
  invite: InviteRecord;
  /** shown once; only its hash is stored */
  code: string;
}

export type InviteState = 'open' | 'used' | 'revoked' | 'expired';

export function inviteState(invite: InviteRecord, now: number): InviteState {
  if (invite.usedAt !== undefined) return 'used';
  if (invite.revokedAt !== undefined) return 'revoked';
  return invite.expiresAt <= now ? 'expired' : 'open';
}

export function hashInviteCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

export function looksLikeInviteCode(code: string): boolean {
  return CODE_PATTERN.test(code);
}

export class Invites {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** `by`: the admin, or undefined for the console. */
  async create(by: User | undefined, input: { email: string; role?: Role | undefined; expiresInMs?: number | undefined }): Promise<CreatedInvite> {
    const email = input.email.toLowerCase();
    if (await this.store.findUserByEmail(email)) throw new WharfError('conflict', `email: ${email} already has an account`);
    const now = this.now();
    const open = (await this.store.listInvites()).filter((invite) => inviteState(invite, now) === 'open');
    if (open.length >= MAX_OPEN_INVITES) throw new WharfError('conflict', `there are already ${open.length} open invites (at most ${MAX_OPEN_INVITES}); revoke some first`);
    const code = INVITE_CODE_PREFIX + randomBytes(32).toString('base64url');
    const invite: InviteRecord = {
      id: randomUUID(),
      codeHash: hashInviteCode(code),
      email,
      role: input.role ?? 'user',
      createdBy: by?.id ?? 'console',
      createdAt: now,
      expiresAt: now + (input.expiresInMs ?? DEFAULT_INVITE_LIFETIME_MS),
    };
    await this.store.insertInvite(invite);
    return { invite, code };
  }

  /** every invite, oldest first */
  list(): Promise<InviteRecord[]> {
    return this.store.listInvites();
  }

  async revoke(id: string): Promise<InviteRecord> {
    const invite = await this.store.getInvite(id);
    if (!invite) throw notFound(`invite ${id}`);
    if (!(await this.store.revokeInvite(id, this.now()))) {
      throw new WharfError('conflict', `invite ${id} is already ${inviteState(invite, this.now())}`);
    }
    return (await this.store.getInvite(id)) ?? invite;
  }

  /**
   * The open invite a code stands for; one error for every code that cannot be used (unknown,
   * used, revoked, expired), so a code's history is not told to whoever holds a guess.
   */
  async find(code: string): Promise<InviteRecord> {
    const invite = looksLikeInviteCode(code) ? await this.store.findInviteByHash(hashInviteCode(code)) : undefined;
    if (!invite || inviteState(invite, this.now()) !== 'open') throw invalidInvite();
    return invite;
  }

  /** Marks the invite used by `userId`; false when it was used (or revoked, or expired) meanwhile. */
  use(invite: InviteRecord, userId: string): Promise<boolean> {
    return this.store.useInvite(invite.id, this.now(), userId);
  }
}

export function invalidInvite(): WharfError {
  return new WharfError('forbidden', 'invite: this invite code cannot be used (unknown, already used, revoked or expired); ask an admin for a new one');
}
