import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "@mimascota/shared/clock";
import {
  NO_ATTEMPTS,
  TWO_FACTOR_LIMITS,
  TwoFactorAttemptLimiter,
  challengeStatus,
  reserveChallengeAttempt,
  type AccountAttemptStore,
  type AccountAttempts,
  type ChallengeAttempts,
} from "../../src/two-factor/two-factor-attempts.ts";

/** Applies each change synchronously between awaits, as a row lock serialises them in Postgres. */
class MemoryAttemptStore implements AccountAttemptStore {
  readonly rows = new Map<string, AccountAttempts>();
  async update<T>(
    userId: string,
    change: (current: AccountAttempts) => { next: AccountAttempts; result: T },
  ) {
    await Promise.resolve(); // let concurrent callers interleave between calls, never inside one
    const { next, result } = change(this.rows.get(userId) ?? NO_ATTEMPTS);
    this.rows.set(userId, next);
    return result;
  }
}

function setup() {
  const clock = new ManualClock("2026-03-01T10:00:00Z");
  const store = new MemoryAttemptStore();
  const limiter = new TwoFactorAttemptLimiter({ store, clock });
  /** One code check: wrong unless `correct`; returns "checked" or the Retry-After of a 429. */
  const attempt = async (correct = false, user = "user-1") => {
    const gate = await limiter.begin(user);
    if (!gate.allowed) return gate.retryAfterSeconds;
    if (correct) await gate.succeeded();
    return "checked" as const;
  };
  return { clock, store, attempt };
}

describe("per-account 2FA attempt limit", () => {
  it("checks 5 wrong codes, then refuses the 6th with Retry-After 900 s", async () => {
    const { attempt } = setup();
    for (let i = 0; i < 5; i++) assert.equal(await attempt(), "checked", `attempt ${i + 1}`);
    assert.equal(await attempt(), 900);
    assert.equal(await attempt(true), 900, "even a correct code is not checked while blocked");
  });

  it("keeps the block for 15 minutes from the 5th failure, not extended by refused attempts, then lifts it", async () => {
    const { clock, attempt } = setup();
    for (let i = 0; i < 5; i++) await attempt();
    clock.advance(10 * 60_000);
    assert.equal(await attempt(), 300);
    clock.advance(5 * 60_000 - 1_500);
    assert.equal(await attempt(), 2, "Retry-After rounds up");
    clock.advance(1_500);
    assert.equal(await attempt(), "checked");
    for (let i = 0; i < 3; i++) assert.equal(await attempt(), "checked", "a fresh window after the block");
    assert.equal(await attempt(), "checked");
    assert.equal(await attempt(), 900);
  });

  it("forgets failures once their 15-minute window has passed", async () => {
    const { clock, attempt } = setup();
    for (let i = 0; i < 4; i++) await attempt();
    clock.advance(15 * 60_000);
    for (let i = 0; i < 4; i++) assert.equal(await attempt(), "checked");
    assert.equal(await attempt(), "checked");
    assert.equal(await attempt(), 900);
  });

  it("counts failures within one window even when they are minutes apart", async () => {
    const { clock, attempt } = setup();
    for (let i = 0; i < 5; i++) {
      assert.equal(await attempt(), "checked");
      clock.advance(3 * 60_000 - 1_000);
    }
    assert.ok(typeof (await attempt()) === "number");
  });

  it("does not count correct codes, and does not let them erase earlier wrong ones", async () => {
    const { attempt } = setup();
    for (let i = 0; i < 4; i++) await attempt();
    assert.equal(await attempt(true), "checked");
    assert.equal(await attempt(true), "checked");
    assert.equal(await attempt(), "checked", "the 5th wrong code is still checked");
    assert.equal(await attempt(), 900);
  });

  it("lifts the block that a correct 5th code's own reservation set", async () => {
    const { store, attempt } = setup();
    for (let i = 0; i < 4; i++) await attempt();
    assert.equal(await attempt(true), "checked");
    assert.equal(store.rows.get("user-1")?.blockedUntil, null);
    assert.equal(store.rows.get("user-1")?.failureCount, 4);
  });

  it("checks exactly 5 of 20 wrong codes sent at once", async () => {
    const { attempt } = setup();
    const results = await Promise.all(Array.from({ length: 20 }, () => attempt()));
    assert.equal(results.filter((r) => r === "checked").length, 5);
    assert.equal(results.filter((r) => r === 900).length, 15);
  });

  it("keeps accounts apart", async () => {
    const { attempt } = setup();
    for (let i = 0; i < 5; i++) await attempt(false, "user-1");
    assert.equal(await attempt(false, "user-1"), 900);
    assert.equal(await attempt(false, "user-2"), "checked");
  });

  it("hands a reservation back only once", async () => {
    const { clock, store } = setup();
    const limiter = new TwoFactorAttemptLimiter({ store, clock });
    await limiter.begin("u");
    const gate = await limiter.begin("u");
    assert.ok(gate.allowed);
    await gate.succeeded();
    await gate.succeeded();
    assert.equal(store.rows.get("u")?.failureCount, 1);
  });
});

describe("per-token 2FA attempt limit", () => {
  const now = new Date("2026-03-01T10:00:00Z");
  const fresh: ChallengeAttempts = {
    failedAttempts: 0,
    expiresAt: new Date(now.getTime() + 300_000),
    consumedAt: null,
  };

  it("takes 5 code attempts, then the token is void", () => {
    let challenge = fresh;
    for (let i = 0; i < 5; i++) {
      const outcome = reserveChallengeAttempt(challenge, now, TWO_FACTOR_LIMITS);
      assert.ok(outcome.allowed, `attempt ${i + 1}`);
      challenge = outcome.next;
    }
    assert.deepEqual(reserveChallengeAttempt(challenge, now, TWO_FACTOR_LIMITS), {
      allowed: false,
      status: "exhausted",
    });
  });

  it("refuses an expired token from the moment it expires, and a used one", () => {
    const clock = new ManualClock(now);
    clock.advance(300_000 - 1);
    assert.equal(challengeStatus(fresh, clock.now(), TWO_FACTOR_LIMITS), "usable");
    clock.advance(1);
    assert.equal(challengeStatus(fresh, clock.now(), TWO_FACTOR_LIMITS), "expired");
    assert.equal(challengeStatus({ ...fresh, consumedAt: now }, now, TWO_FACTOR_LIMITS), "consumed");
    assert.deepEqual(reserveChallengeAttempt({ ...fresh, consumedAt: now }, now, TWO_FACTOR_LIMITS), {
      allowed: false,
      status: "consumed",
    });
  });
});
