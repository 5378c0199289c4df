import type { Clock } from "@mimascota/shared/clock";

/**
 * The contract's 2FA attempt limits, as pure decisions plus a small limiter over a storage interface.
 *
 * - Per `twoFactorToken`: at most 5 wrong codes, then the token is void.
 * - Per account, across `/login/2fa` and the `/2fa/*` management endpoints: at most 5 wrong codes in a
 *   15-minute window (counted from the window's first failure, as the login lockout does), then every code is
 *   refused with 429 `TOO_MANY_ATTEMPTS` for 15 minutes without being checked, so a blocked attacker learns
 *   nothing and cannot lengthen the block.
 *
 * Attempts are reserved before the code is checked and a correct code hands its reservation back. Counting
 * first is what keeps the limit exact when 20 wrong codes arrive at once: only 5 get checked. The window is a
 * fixed one (the columns `failure_count`, `failure_window_started_at`, `blocked_until` of
 * `two_factor_credentials`); across a window boundary up to 8 wrong codes can fall within 15 minutes, which
 * at 3 in a million per guess changes nothing an attacker can do.
 */
export interface TwoFactorLimits {
  perToken: number;
  perAccount: number;
  accountWindowSeconds: number;
  accountBlockSeconds: number;
}

export const TWO_FACTOR_LIMITS: TwoFactorLimits = {
  perToken: 5,
  perAccount: 5,
  accountWindowSeconds: 15 * 60,
  accountBlockSeconds: 15 * 60,
};

export interface AccountAttempts {
  failureCount: number;
  windowStartedAt: Date | null;
  blockedUntil: Date | null;
}

export const NO_ATTEMPTS: AccountAttempts = { failureCount: 0, windowStartedAt: null, blockedUntil: null };

/** Identifies the window a reservation was counted in, so handing it back never touches a later window. */
export interface AttemptReservation {
  windowStartedAt: Date;
}

export type ReserveOutcome =
  | { allowed: true; next: AccountAttempts; reservation: AttemptReservation }
  | { allowed: false; next: AccountAttempts; retryAfterSeconds: number };

export function reserveAccountAttempt(
  state: AccountAttempts,
  now: Date,
  limits: TwoFactorLimits,
): ReserveOutcome {
  const t = now.getTime();
  if (state.blockedUntil && state.blockedUntil.getTime() > t) {
    return {
      allowed: false,
      next: state,
      retryAfterSeconds: Math.ceil((state.blockedUntil.getTime() - t) / 1000),
    };
  }
  // An expired block starts afresh; so does a window older than its length.
  const windowOpen =
    state.blockedUntil === null &&
    state.windowStartedAt !== null &&
    t - state.windowStartedAt.getTime() < limits.accountWindowSeconds * 1000;
  const failureCount = windowOpen ? state.failureCount + 1 : 1;
  const windowStartedAt = windowOpen && state.windowStartedAt ? state.windowStartedAt : now;
  const blockedUntil =
    failureCount >= limits.perAccount ? new Date(t + limits.accountBlockSeconds * 1000) : null;
  return {
    allowed: true,
    next: { failureCount, windowStartedAt, blockedUntil },
    reservation: { windowStartedAt },
  };
}

/**
 * A correct code gives its reservation back. A block that this reservation's count completed is lifted: any
 * block in the same window was set while this reservation was counted, so it was premature.
 */
export function releaseAccountAttempt(
  state: AccountAttempts,
  reservation: AttemptReservation,
  limits: TwoFactorLimits,
): AccountAttempts {
  if (state.windowStartedAt?.getTime() !== reservation.windowStartedAt.getTime()) return state;
  const failureCount = Math.max(0, state.failureCount - 1);
  return {
    ...state,
    failureCount,
    blockedUntil: failureCount < limits.perAccount ? null : state.blockedUntil,
  };
}

/** The account state as stored; `update` must apply `change` atomically (see `TwoFactorAttemptLimiter`). */
export interface AccountAttemptStore {
  update<T>(
    userId: string,
    change: (current: AccountAttempts) => { next: AccountAttempts; result: T },
  ): Promise<T>;
}

export type AttemptGate =
  { allowed: true; succeeded: () => Promise<void> } | { allowed: false; retryAfterSeconds: number };

/**
 * Per-account limiter. Use around every code check, TOTP or backup code:
 *
 *   const gate = await limiter.begin(userId);
 *   if (!gate.allowed) → 429 TOO_MANY_ATTEMPTS with Retry-After: gate.retryAfterSeconds
 *   if (code is correct) await gate.succeeded(); else → 401/400 INVALID_2FA_CODE (already counted)
 *
 * The Postgres store runs `change` inside a transaction on the `two_factor_credentials` row read with
 * `select … for update`, so concurrent attempts are counted one by one.
 */
export class TwoFactorAttemptLimiter {
  readonly #store: AccountAttemptStore;
  readonly #clock: Clock;
  readonly #limits: TwoFactorLimits;

  constructor(options: { store: AccountAttemptStore; clock: Clock; limits?: TwoFactorLimits }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#limits = options.limits ?? TWO_FACTOR_LIMITS;
  }

  async begin(userId: string): Promise<AttemptGate> {
    const outcome = await this.#store.update(userId, (current) => {
      const result = reserveAccountAttempt(current, this.#clock.now(), this.#limits);
      return { next: result.next, result };
    });
    if (!outcome.allowed) return { allowed: false, retryAfterSeconds: outcome.retryAfterSeconds };
    let released = false;
    return {
      allowed: true,
      succeeded: async () => {
        if (released) return;
        released = true;
        await this.#store.update(userId, (current) => ({
          next: releaseAccountAttempt(current, outcome.reservation, this.#limits),
          result: undefined,
        }));
      },
    };
  }
}

/** What the login step needs of a `two_factor_challenges` row. */
export interface ChallengeAttempts {
  failedAttempts: number;
  expiresAt: Date;
  consumedAt: Date | null;
}

export type ChallengeStatus = "usable" | "expired" | "consumed" | "exhausted";

/**
 * Whether a `twoFactorToken` may still carry a code. Every status but "usable" answers 401 `INVALID_2FA_TOKEN`
 * alike. As with the account, the attempt is counted before the code is checked, in one statement:
 * `update two_factor_challenges set failed_attempts = failed_attempts + 1 where token_hash = $1 and
 * consumed_at is null and expires_at > $now and failed_attempts < 5 returning …` (no row → void token); a
 * correct code then consumes it with `… set consumed_at = $now where id = $2 and consumed_at is null`.
 */
export function challengeStatus(
  challenge: ChallengeAttempts,
  now: Date,
  limits: TwoFactorLimits,
): ChallengeStatus {
  if (challenge.consumedAt !== null) return "consumed";
  if (challenge.expiresAt.getTime() <= now.getTime()) return "expired";
  if (challenge.failedAttempts >= limits.perToken) return "exhausted";
  return "usable";
}

/** The challenge after reserving one attempt, or why it cannot take one. */
export function reserveChallengeAttempt(
  challenge: ChallengeAttempts,
  now: Date,
  limits: TwoFactorLimits,
):
  | { allowed: true; next: ChallengeAttempts }
  | { allowed: false; status: Exclude<ChallengeStatus, "usable"> } {
  const status = challengeStatus(challenge, now, limits);
  if (status !== "usable") return { allowed: false, status };
  return { allowed: true, next: { ...challenge, failedAttempts: challenge.failedAttempts + 1 } };
}
