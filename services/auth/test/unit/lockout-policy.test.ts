import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  afterAttempt,
  afterFailure,
  type FailureOutcome,
  isLocked,
  lockDurationMs,
  type LockoutSettings,
  type ThrottleState,
} from "../../src/domain/lockout-policy.ts";

const settings: LockoutSettings = {
  threshold: 10,
  windowMs: 900_000,
  durationMs: 1_800_000,
  maxDurationMs: 86_400_000,
};
const t0 = new Date("2026-03-01T10:00:00Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const fresh: ThrottleState = {
  failureCount: 0,
  windowStartedAt: t0,
  lockedUntil: null,
  lockCount: 0,
  lastLockedAt: null,
};

/** Applies `times` failures at one instant and returns the last outcome. */
function failTimes(state: ThrottleState, times: number, now: Date): FailureOutcome {
  let outcome: FailureOutcome = { kind: "counted", state };
  for (let i = 0; i < times; i++) outcome = afterFailure(outcome.state, now, settings);
  return outcome;
}

describe("lockout policy", () => {
  it("counts failures below the threshold without locking", () => {
    const outcome = failTimes(fresh, 9, t0);
    assert.equal(outcome.kind, "counted");
    assert.equal(outcome.state.failureCount, 9);
    assert.equal(outcome.state.lockedUntil, null);
  });

  it("locks for 30 minutes at the 10th failure within the window", () => {
    const outcome = failTimes(fresh, 10, t0);
    assert.equal(outcome.kind, "locked-now");
    assert.deepEqual(outcome.state.lockedUntil, at(1800));
    assert.equal(outcome.state.lockCount, 1);
    assert.ok(isLocked(outcome.state, at(1799)));
    assert.ok(!isLocked(outcome.state, at(1800)));
  });

  it("forgets failures older than the 15-minute window", () => {
    const nine = failTimes(fresh, 9, t0);
    const later = afterFailure(nine.state, at(900), settings);
    assert.equal(later.kind, "counted");
    assert.equal(later.state.failureCount, 1);
    assert.deepEqual(later.state.windowStartedAt, at(900));
  });

  it("changes nothing while locked, so attempts cannot extend the lock", () => {
    const locked = failTimes(fresh, 10, t0).state;
    const during = afterFailure(locked, at(600), settings);
    assert.equal(during.kind, "locked-already");
    assert.deepEqual(during.state, locked);
  });

  it("doubles the lock on each repeat and caps it at 24 hours", () => {
    let state = fresh;
    let now = t0;
    const durations: number[] = [];
    for (let lock = 0; lock < 8; lock++) {
      const outcome = failTimes(state, 10, now);
      assert.equal(outcome.kind, "locked-now");
      durations.push((outcome.state.lockedUntil!.getTime() - now.getTime()) / 1000);
      state = outcome.state;
      now = outcome.state.lockedUntil!;
    }
    assert.deepEqual(durations, [1800, 3600, 7200, 14400, 28800, 57600, 86400, 86400]);
  });

  it("starts doubling afresh once two cap lengths pass without a lock", () => {
    const first = failTimes(fresh, 10, t0).state;
    const muchLater = at(2 * 86400);
    const next = failTimes(first, 10, muchLater);
    assert.equal(next.kind, "locked-now");
    assert.deepEqual(next.state.lockedUntil, new Date(muchLater.getTime() + 1800_000));
    assert.equal(next.state.lockCount, 1);
  });

  it("refuses even the right password while locked, and changes nothing", () => {
    const locked = failTimes(fresh, 10, t0).state;
    assert.deepEqual(afterAttempt(locked, at(1799), true, settings), {
      kind: "locked-already",
      state: locked,
    });
    assert.deepEqual(afterAttempt(locked, at(1799), false, settings), {
      kind: "locked-already",
      state: locked,
    });
  });

  it("forgets failures on the right password but keeps the lock history that doubles the next lock", () => {
    const afterLock = failTimes(failTimes(fresh, 10, t0).state, 3, at(1800)).state;
    const outcome = afterAttempt(afterLock, at(1800), true, settings);
    assert.equal(outcome.kind, "passed");
    assert.deepEqual(outcome.state, { ...afterLock, failureCount: 0 });
    assert.equal(outcome.state.lockCount, 1);
  });

  it("counts a wrong password as afterFailure does", () => {
    const nine = failTimes(fresh, 9, t0).state;
    assert.deepEqual(afterAttempt(nine, t0, false, settings), afterFailure(nine, t0, settings));
  });

  it("never overflows the duration however many locks came before", () => {
    assert.equal(lockDurationMs(10_000, settings), 86_400_000);
  });
});
