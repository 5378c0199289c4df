/** The failed-login state of one canonical email, as stored in `login_throttles`. */
export interface ThrottleState {
  failureCount: number;
  windowStartedAt: Date;
  lockedUntil: Date | null;
  lockCount: number;
  lastLockedAt: Date | null;
}

export interface LockoutSettings {
  /** Failures within the window that lock. */
  threshold: number;
  windowMs: number;
  /** The first lock's length; each further lock doubles it, up to the cap. */
  durationMs: number;
  maxDurationMs: number;
}

export type FailureOutcome =
  | { kind: "locked-already"; state: ThrottleState }
  | { kind: "counted"; state: ThrottleState }
  | { kind: "locked-now"; state: ThrottleState; lockedUntil: Date };

/** What one password attempt leads to (`afterAttempt`): a failure's outcome, or a sign-in that may go on. */
export type AttemptOutcome = FailureOutcome | { kind: "passed"; state: ThrottleState };

/**
 * The lock, the one predicate every path asks. The clean login's one statement asks it in SQL too
 * (`passwordLoginGuard` in login.repository.ts); lockout-rule.test.ts runs one table of scenarios through both.
 */
export function isLocked(state: Pick<ThrottleState, "lockedUntil"> | undefined, now: Date): boolean {
  return !!state?.lockedUntil && state.lockedUntil.getTime() > now.getTime();
}

/**
 * One password attempt on an email, judged under its row lock:
 *
 * - While locked it is refused whatever the password, and nothing changes (the lock is not extended).
 * - A wrong password (or an unknown email) counts as a failure (`afterFailure`).
 * - A right one forgets earlier failures; the lock history, which doubles the next lock, is kept. (With 2FA on
 *   the password is half the proof: the caller keeps the count until the second step passes.)
 */
export function afterAttempt(
  state: ThrottleState,
  now: Date,
  passwordOk: boolean,
  s: LockoutSettings,
): AttemptOutcome {
  if (isLocked(state, now)) return { kind: "locked-already", state };
  if (passwordOk) return { kind: "passed", state: { ...state, failureCount: 0 } };
  return afterFailure(state, now, s);
}

/**
 * The next state after one failed attempt. Pure, so every branch is unit-tested; the repository applies it
 * under a row lock, which makes concurrent failures count one by one.
 *
 * - While locked nothing changes: an attacker hammering a locked account cannot keep the owner out longer.
 * - Failures older than the window are forgotten (the window restarts at the first new failure).
 * - Reaching the threshold locks for `duration × 2^(locks so far)`, capped; the doubling memory fades once twice
 *   the cap (48 h by default) has passed since the last lock, so one bad afternoon does not haunt an account
 *   forever.
 */
export function afterFailure(state: ThrottleState, now: Date, s: LockoutSettings): FailureOutcome {
  if (isLocked(state, now)) return { kind: "locked-already", state };
  const t = now.getTime();
  const windowOpen = t - state.windowStartedAt.getTime() < s.windowMs;
  const failureCount = windowOpen ? state.failureCount + 1 : 1;
  const windowStartedAt = windowOpen ? state.windowStartedAt : now;
  if (failureCount < s.threshold) {
    return { kind: "counted", state: { ...state, failureCount, windowStartedAt } };
  }
  const memoryFaded = state.lastLockedAt === null || t - state.lastLockedAt.getTime() >= s.maxDurationMs * 2;
  const previousLocks = memoryFaded ? 0 : state.lockCount;
  const lockedUntil = new Date(t + lockDurationMs(previousLocks, s));
  return {
    kind: "locked-now",
    lockedUntil,
    state: {
      failureCount: 0,
      windowStartedAt: now,
      lockedUntil,
      lockCount: previousLocks + 1,
      lastLockedAt: now,
    },
  };
}

/** 30 min, 60 min, 120 min, … capped at the maximum (24 h by default). */
export function lockDurationMs(previousLocks: number, s: LockoutSettings): number {
  // Exponent bounded so the doubling cannot overflow to Infinity on a pathological lock count.
  return Math.min(s.durationMs * 2 ** Math.min(previousLocks, 30), s.maxDurationMs);
}
