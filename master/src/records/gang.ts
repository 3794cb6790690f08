// A gang: N member tasks placed all-or-nothing across workers (scheduler/gang-placement.ts), for
// jobs whose processes must all run at once (PyTorch DDP, MPI). The members are ordinary tasks
// carrying `gangId` and `gangRank` (records/task.ts); the gang record says what the group is
// and how it fares. The rules live in gangs/gang-service.ts.
//
//   pending ──every member placed in one pass──▶ running ──every member succeeded──▶ succeeded
//     ▲  │                                          │
//     │  └──not all placed within timeoutSeconds──▶ failed (every member failed too)
//     └──restartGang: a member failed or was lost, a restart left (the others stopped, all re-queued)
//                                                   └── failGang, or no restart left ──▶ failed
//   pending · running ──cancel──▶ cancelled (every live member cancelled)

export type GangStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const GANG_STATUSES: readonly GangStatus[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled'];
export const TERMINAL_GANG_STATUSES: ReadonlySet<GangStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/** What happens to the whole gang when one member fails or is lost. */
export type GangPolicy = 'restartGang' | 'failGang';
export const GANG_POLICIES: readonly GangPolicy[] = ['restartGang', 'failGang'];

export interface Gang {
  id: string;
  name: string;
  userId: string;
  /** the number of members (ranks 0 … size-1) */
  size: number;
  status: GangStatus;
  policy: GangPolicy;
  /** 0 = no timeout; else the gang fails when its members are not all placed this long after it started waiting */
  timeoutSeconds: number;
  /** restarts the restartGang policy may take (each one charges one) */
  maxRestarts: number;
  restartsUsed: number;
  /** the member task ids, in rank order */
  memberIds: string[];
  /** the first of the gang's ports: member r listens on port + r (WHARF_GANG_PEERS; MASTER_PORT = port) */
  port: number;
  /** why it waits, or why it ended */
  reason?: string | undefined;
  /** a restart (or a cancel, or a failure) stops the members that still run; set until they have stopped */
  stopping?: 'restart' | 'fail' | 'cancel' | undefined;
  createdAt: number;
  /** epoch ms the current wait for placement began (submission, or the last restart) */
  waitingSince: number;
  /** epoch ms the members were last all placed */
  placedAt?: number | undefined;
  finishedAt?: number | undefined;
  /** optimistic concurrency: every update names the version it read */
  version: number;
}

/** Fields to change; a field given as `undefined` is removed. */
export type GangPatch = Partial<Omit<Gang, 'id' | 'userId' | 'createdAt' | 'memberIds' | 'size' | 'port'>>;
