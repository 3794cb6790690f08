// Limits on the endpoints anyone may call without a token (login, register, invite look-up and
// acceptance), so that a flood of guesses cannot starve real people:
//
//   1. per client address, over all of them: a token bucket (WHARF_AUTH_RATE_LIMIT per minute,
//      as many at once). A flood from one address is answered 429 at once, without any work.
//   2. per client address and email, logins only: a fixed window (WHARF_LOGIN_RATE_LIMIT per
//      minute), so one password cannot be guessed quickly.
//   3. over the whole master, the password hashing done for identities that are not real
//      accounts (a login with an unknown email, a registration): a token bucket
//      (WHARF_AUTH_GLOBAL_RATE_LIMIT per minute). scrypt is the expensive part of a login; a
//      flood of random emails from many addresses would otherwise keep the hashing threads
//      busy and real logins would wait behind it. Past the bucket, a login with an unknown
//      email does no hashing: it waits as long as a hashing takes lately (so its answer and
//      its timing still look like a wrong password) and is refused; a registration is answered
//      429 for everyone alike. A login with a real account's email is never held by (3).
import { WharfError } from '../errors.js';
import { RateLimiter, TokenBucketLimiter } from './rate-limiter.js';

export interface UnauthenticatedLimitOptions {
  /** requests per minute per client address to the unauthenticated endpoints (also the burst) */
  perAddressPerMinute: number;
  /** login attempts per minute per client address and email */
  loginPerAddressAndEmailPerMinute: number;
  /** password hashings per minute for identities that are not accounts, over the whole master */
  globalHashingPerMinute: number;
  now?: () => number;
}

/** A hashing is assumed to take this long until one has been measured. */
const INITIAL_HASH_MS = 60;

export class UnauthenticatedLimits {
  private readonly perAddress: TokenBucketLimiter;
  private readonly perAddressAndEmail: RateLimiter;
  private readonly globalHashing: TokenBucketLimiter;
  /** moving average of how long a password hashing takes here */
  private hashMs = INITIAL_HASH_MS;

  constructor(options: UnauthenticatedLimitOptions) {
    this.perAddress = new TokenBucketLimiter(options.perAddressPerMinute, options.perAddressPerMinute, options.now);
    this.perAddressAndEmail = new RateLimiter(options.loginPerAddressAndEmailPerMinute, 60_000, options.now);
    // a burst of a second's worth, at least 5: a few people registering at once pass, and a flood
    // never puts more than that many hashings ahead of a real login
    this.globalHashing = new TokenBucketLimiter(options.globalHashingPerMinute, Math.max(5, Math.ceil(options.globalHashingPerMinute / 60)), options.now);
  }

  /** Counts a request from `address`; throws `rate_limited` past the per-address bucket. */
  admit(address: string): void {
    const wait = this.perAddress.take(address);
    if (wait > 0) throw rateLimited(`too many requests from your address; try again in ${wait}s`, wait);
  }

  /** Counts a login attempt for `email` from `address`; throws `rate_limited` past the window. */
  admitLogin(address: string, email: string): void {
    const wait = this.perAddressAndEmail.hit(`${address}|${email}`);
    if (wait > 0) throw rateLimited(`too many login attempts; try again in ${wait}s`, wait);
  }

  /**
   * Takes one hashing for an identity that is not an account; answers the seconds to wait when
   * the master's budget is spent (0: go ahead and hash).
   */
  takeHashing(): number {
    return this.globalHashing.take('*');
  }

  /** How long a hashing takes lately: what a refused unknown-email login waits before its answer. */
  typicalHashMs(): number {
    return Math.round(this.hashMs);
  }

  /** Feeds the moving average with a measured hashing. */
  recordHashing(ms: number): void {
    if (Number.isFinite(ms) && ms > 0) this.hashMs = this.hashMs * 0.8 + Math.min(ms, 10_000) * 0.2;
  }
}

function rateLimited(message: string, retryAfterSeconds: number): WharfError {
  return new WharfError('rate_limited', message, { details: { retryAfterSeconds } });
}
