// A person who uses Wharf. (Records: the ground floor; they import only each other.)

export type Role = 'admin' | 'user';
export const ROLES: readonly Role[] = ['admin', 'user'];

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: number;
  /** an admin disabled the account: no login, and none of its tokens work (absent: enabled) */
  disabled?: boolean | undefined;
  /**
   * Bumped when every login token of the user must stop working at once (a role change, a
   * disable, "log out everywhere"); login tokens carry the version they were issued under.
   * Absent = 0 (records from before it existed).
   */
  tokenVersion?: number | undefined;
  /** bytes of logs, outputs and artifacts this user may keep (an admin set it); absent = the master's WHARF_USER_STORAGE_QUOTA */
  storageQuotaBytes?: number | undefined;
}

export interface UserWithPassword extends User {
  passwordHash: string;
}

/** What an admin may change on a user (auth/user-admin.ts). */
export type UserPatch = Partial<Pick<User, 'role' | 'disabled' | 'tokenVersion' | 'name' | 'storageQuotaBytes'>>;
