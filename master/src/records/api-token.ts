// API tokens (personal access tokens): long-lived bearer tokens for scripts and CI that act as
// the user who made them. Only a hash of the secret is kept; the secret is shown once.

/** Every API token starts with this, so it is never mistaken for a login JWT. */
export const API_TOKEN_PREFIX = 'wharf_pat_';

export interface ApiTokenRecord {
  id: string;
  userId: string;
  /** the owner's label for it ("ci", "laptop"); unique per user */
  name: string;
  /** sha256 (hex) of the whole secret; the secret itself is never stored */
  secretHash: string;
  /** the secret's first characters (prefix included), so people can tell their tokens apart */
  hint: string;
  createdAt: number;
  /** absent: never expires */
  expiresAt?: number;
  /** the last request it authenticated, recorded at most once a minute */
  lastUsedAt?: number;
}
