// Login sessions that were ended before their tokens expire (POST /api/auth/logout). A login
// makes a session (its id is in every login token of it, refreshed ones included); logging out
// puts the session here, and every token of it is refused from then on. An entry can go once
// every token of the session has expired. (Records: the ground floor; they import only each other.)

export interface RevokedSession {
  sessionId: string;
  userId: string;
  revokedAt: number;
  /** no token of the session is valid after this: the entry may be dropped then */
  expiresAt: number;
}
