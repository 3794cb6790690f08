// The audit trail: one entry per state-changing request (REST, and the console acting as the
// local admin), appended by audit/audit-trail.ts and kept for WHARF_AUDIT_RETENTION.
// (Records: the ground floor; they import only each other.)

export interface AuditEntry {
  id: string;
  /** epoch ms, when the request was answered */
  at: number;
  /** who: the user the request authenticated as; absent when it did not (a failed login) */
  userId?: string | undefined;
  /** their email at the time, so the entry stays readable after the account is deleted */
  userEmail?: string | undefined;
  /** where from: the client's address, or `console` for the REPL */
  address: string;
  /** what, e.g. `task.submit`, `user.disable`, `auth.login` (docs/API.md, "Audit log") */
  action: string;
  /** which object, e.g. `task:<id>`, `user:<id>`, `email:<address>`; absent when none */
  object?: string | undefined;
  /** `ok`, or the error code of the answer (`forbidden`, `validation_failed`, …) */
  outcome: string;
  /** the HTTP status of the answer (0 for the console) */
  status: number;
}

export interface AuditQuery {
  userId?: string | undefined;
  action?: string | undefined;
  /** epoch ms, inclusive */
  since?: number | undefined;
  /** epoch ms, exclusive */
  until?: number | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface AuditPage {
  /** newest first */
  entries: AuditEntry[];
  nextCursor?: string | undefined;
}
