// Records of the cluster's worker credentials: join tokens (which admit a new worker) and
// revoked worker certificates. Kept by the Store; the rules live in cluster/join-tokens.ts and
// cluster/worker-identity.ts. (Records: the ground floor; they import only each other.)

/**
 * A join token, as Kubernetes bootstrap tokens: `<id>.<secret>`. The id is public (listings,
 * logs, revocation); only the SHA-256 of the whole token is kept.
 */
export interface JoinTokenRecord {
  id: string;
  /** hex SHA-256 of the full token `<id>.<secret>` */
  secretHash: string;
  description: string;
  /** email of the admin who created it, or `config` / `generated` for the start token */
  createdBy: string;
  createdAt: number;
  /** absent: never expires */
  expiresAt?: number | undefined;
  /** how many workers it may enrol; absent: unlimited */
  usageLimit?: number | undefined;
  uses: number;
  lastUsedAt?: number | undefined;
  revokedAt?: number | undefined;
  /** the token given at start (WHARF_JOIN_TOKEN or <data-dir>/join-token) */
  startToken?: boolean | undefined;
}

/** A worker certificate that must not be accepted again (its worker was removed). */
export interface RevokedCertificate {
  /** SHA-256 of the certificate's DER, upper-case hex with colons */
  fingerprint256: string;
  serial: string;
  workerId: string;
  revokedAt: number;
  /** until when the certificate would have been valid (entries after that can be dropped) */
  notAfter: number;
  reason: string;
}
