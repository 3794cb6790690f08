// Several masters on one store: who leads. Every master runs this loop against the lease record
// in the store (Store: acquireLease/renewLease/releaseLease). A standby tries to take the lease
// every renew interval; it gets it when the holder let it expire (died, froze, was cut off) or
// released it (orderly stop), or when it is its own address's (this master restarted). The
// winner gets the next epoch, runs `elected` (the same recovery as a restarted master) and leads;
// every commit it makes carries the epoch (fenced-store.ts). A leader renews every interval; when
// a renewal finds the lease gone (another master took it), when its own clock says the lease
// lapsed without a renewal, or when a commit is refused for its epoch, it steps down at once:
// `steppedDown` stops its systems and closes its worker streams. A stepped-down master does not
// try again in the same process (its in-memory state is stale): it is restarted (runMaster.sh /
// the supervisor) and comes back as a standby.
//
// Failover time after a leader dies: at most lease TTL (from its last renewal) + one renew
// interval (the standby's next try) + the recovery. The defaults (5 s, 1 s) give about 6 s, well
// inside the workers' default --stop-after (the heartbeat TTL, 15 s), so workers that find the new
// leader in the remaining time keep their tasks running.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { WharfError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LeaseRecord, Store } from '../store/store.js';
import type { Fence } from './fenced-store.js';

export const LEASE_NAME = 'master';

export type Role = 'standby' | 'leader' | 'stepped-down' | 'stopped';

export interface LeadershipOptions {
  leaseTtlMs: number;
  renewIntervalMs: number;
  /** this master's advertised gRPC address (host:port) */
  address: string;
  /** this master's advertised HTTP base URL (scheme://host:port) */
  httpUrl: string;
  now?: () => number;
}

export interface LeadershipEvents {
  /** This master took the lease at `epoch`: recover and start the systems. A throw steps down. */
  elected(epoch: number): Promise<void>;
  /** This master no longer leads: stop the systems, close the worker streams. */
  steppedDown(reason: string): void;
}

/** Where the current leader is, as others reach it. */
export interface LeaderAddress {
  address: string;
  httpUrl: string;
  epoch: number;
}

export class Leadership implements Fence {
  readonly leaseName = LEASE_NAME;
  /** this master's instance id in the lease (a new one on every start) */
  readonly holder = randomUUID();
  private state: Role = 'standby';
  /** set from the moment the lease is taken (the recovery commits with it) until stepping down */
  private heldEpoch: number | undefined;
  /** the lease as last read or written */
  private lease: LeaseRecord | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private events: LeadershipEvents | undefined;
  private readonly now: () => number;
  /** times this master became leader or stopped being it (wharf_leadership_changes_total) */
  changes = 0;

  constructor(
    private readonly store: Store,
    private readonly options: LeadershipOptions,
    private readonly logger: Logger,
  ) {
    this.now = options.now ?? Date.now;
  }

  get role(): Role {
    return this.state;
  }

  /** Leads and has finished its recovery: schedules, takes workers and reports. */
  isLeader(): boolean {
    return this.state === 'leader' && this.heldEpoch !== undefined;
  }

  epoch(): number | undefined {
    return this.heldEpoch;
  }

  /** The epoch of the lease as this master last saw it (its own while it leads). */
  get knownEpoch(): number | undefined {
    return this.lease?.epoch;
  }

  /** The leader as this master knows it; undefined when none is known (the lease ran out). */
  leader(): LeaderAddress | undefined {
    const lease = this.lease;
    if (!lease) return undefined;
    if (this.isLeader()) return { address: lease.address, httpUrl: lease.httpUrl, epoch: lease.epoch };
    if (lease.expiresAt <= this.now() || lease.holder === this.holder) return undefined;
    return { address: lease.address, httpUrl: lease.httpUrl, epoch: lease.epoch };
  }

  /** First try at once (a master alone leads before this answers), then every renew interval. */
  async start(events: LeadershipEvents): Promise<void> {
    this.events = events;
    await this.tick();
    if (this.state === 'standby' || this.state === 'leader') {
      this.timer = setInterval(() => void this.tick(), this.options.renewIntervalMs);
    }
  }

  /** A commit was refused for the epoch (Fence). */
  refused(error: WharfError): void {
    this.stepDown(`a commit was refused: ${error.message}`);
  }

  /** Orderly stop: a leader releases its lease so that a standby takes over at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const epoch = this.heldEpoch;
    const wasLeader = this.state === 'leader';
    this.state = 'stopped';
    this.heldEpoch = undefined;
    if (wasLeader && epoch !== undefined) {
      await this.store.releaseLease(LEASE_NAME, this.holder, epoch, this.now()).catch((error: unknown) => {
        this.logger.warn({ err: error }, 'could not release the lease; a standby takes over when it runs out');
      });
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      if (this.state === 'leader') await this.renew();
      else if (this.state === 'standby') await this.tryToLead();
    } finally {
      this.ticking = false;
    }
  }

  private async renew(): Promise<void> {
    const epoch = this.heldEpoch;
    if (epoch === undefined) return;
    const now = this.now();
    let renewed: LeaseRecord | undefined;
    try {
      renewed = await this.store.renewLease(LEASE_NAME, this.holder, epoch, now, this.options.leaseTtlMs);
    } catch (error: unknown) {
      // the store did not answer: keep leading while the lease lasts by this master's clock
      if (this.lease && this.now() < this.lease.expiresAt) {
        this.logger.warn({ err: error }, 'could not renew the lease; trying again');
        return;
      }
      this.stepDown('the lease ran out while the store could not be reached');
      return;
    }
    if (this.state !== 'leader' || this.heldEpoch !== epoch) return;
    if (!renewed) {
      this.stepDown(`the lease is no longer this master's (epoch ${epoch} was taken over)`);
      return;
    }
    // a renewal that came back after the lease's end by this clock (the process was frozen):
    // another master may have led meanwhile only if it took the lease, which the epoch check
    // above rules out; keep leading
    this.lease = renewed;
  }

  private async tryToLead(): Promise<void> {
    let answer: { acquired: boolean; lease: LeaseRecord };
    try {
      answer = await this.store.acquireLease({
        name: LEASE_NAME,
        holder: this.holder,
        address: this.options.address,
        hostname: hostname(),
        httpUrl: this.options.httpUrl,
        now: this.now(),
        ttlMs: this.options.leaseTtlMs,
      });
    } catch (error: unknown) {
      this.logger.warn({ err: error }, 'could not read the lease; trying again');
      return;
    }
    const previous = this.lease;
    this.lease = answer.lease;
    if (!answer.acquired) {
      if (previous?.epoch !== answer.lease.epoch) {
        this.logger.info({ leader: answer.lease.address, epoch: answer.lease.epoch }, 'standby: another master leads');
      }
      return;
    }
    if (this.state !== 'standby') return;
    const epoch = answer.lease.epoch;
    this.heldEpoch = epoch;
    this.logger.info({ epoch, address: this.options.address }, 'took the lease: recovering to lead');
    try {
      await this.events?.elected(epoch);
    } catch (error: unknown) {
      this.logger.error({ err: error }, 'the recovery after taking the lease failed');
      this.stepDown('the recovery after taking the lease failed');
      return;
    }
    if (this.heldEpoch !== epoch) return; // stepped down during the recovery
    this.state = 'leader';
    this.changes += 1;
    this.logger.info({ epoch }, 'leading');
  }

  private stepDown(reason: string): void {
    if (this.state !== 'leader' && this.heldEpoch === undefined) return;
    const wasLeader = this.state === 'leader';
    clearInterval(this.timer);
    this.state = 'stepped-down';
    this.heldEpoch = undefined;
    if (wasLeader) this.changes += 1;
    this.logger.warn({ reason }, 'stepping down: this master no longer leads');
    this.events?.steppedDown(reason);
  }
}
