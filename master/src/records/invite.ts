// Invitations to register (WHARF_REGISTRATION=invite): an admin invites an email address with a
// role; the holder of the code registers that address once, before it expires. Only the code's
// sha256 is kept. (Records: the ground floor; they import only each other.)

/** Every invite code starts with this, so it is never mistaken for another kind of secret. */
export const INVITE_CODE_PREFIX = 'wharf_inv_';

export interface InviteRecord {
  id: string;
  /** sha256 (hex) of the whole code */
  codeHash: string;
  /** the address the invite is for (lower case); registration takes this one */
  email: string;
  role: 'admin' | 'user';
  /** id of the admin who made it, or `repl` for the console */
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  /** when it was used to register, and by which new user */
  usedAt?: number | undefined;
  usedBy?: string | undefined;
  revokedAt?: number | undefined;
}
