import assert from "node:assert/strict";
import { beforeEach, it } from "node:test";
import { eq } from "drizzle-orm";
import { loginThrottles } from "../../src/db/schema.ts";
import { LoginThrottleRepository } from "../../src/repositories/login-throttle.repository.ts";
import {
  OTHER_STRONG_PASSWORD,
  post,
  problem,
  tokenFromMail,
  userRow,
  verifiedUser,
} from "../support/account-helpers.ts";
import { login } from "../support/session-helpers.ts";
import { describeOnEachDatabase, type AuthTestContext } from "../support/test-app.ts";

const WRONG = "definitely not the password";
const MINUTE = 60_000;

async function throttle(ctx: AuthTestContext, email: string) {
  const [row] = await ctx.database.db.select().from(loginThrottles).where(eq(loginThrottles.email, email));
  return row;
}

async function failTimes(ctx: AuthTestContext, email: string, times: number) {
  for (let i = 0; i < times; i++) {
    const response = await login(ctx, email, WRONG);
    assert.equal(response.statusCode, 401);
  }
}

// A clean login takes the throttle row in one hand-written statement: the PostgreSQL server and embedded
// PGlite must both hold the lock semantics.
await describeOnEachDatabase("login lockout", { ACCOUNT_RESPONSE_FLOOR_MS: "0" }, (context) => {
  let ctx: AuthTestContext;
  beforeEach(() => {
    ctx = context();
  });

  it("locks exactly at the threshold under 50 parallel wrong passwords, with one mail, one event, one count", async () => {
    const user = await verifiedUser(ctx, "parallel@example.com");
    const locks = async () =>
      Number(
        /^auth_account_locks_total (\d+)$/m.exec(
          (await ctx.app.inject({ method: "GET", url: "/metrics" })).body,
        )?.[1],
      );
    const locksBefore = await locks();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => login(ctx, "parallel@example.com", WRONG)),
    );
    assert.ok(responses.every((r) => r.statusCode === 401 && problem(r).code === "INVALID_CREDENTIALS"));
    const row = await throttle(ctx, "parallel@example.com");
    assert.equal(row?.lockCount, 1, "locked once, not once per racing request");
    assert.deepEqual(row?.lockedUntil, new Date(ctx.clock.now().getTime() + 30 * MINUTE));
    const mails = (await ctx.mails()).filter(
      (m) => m.toAddress === "parallel@example.com" && m.template === "account-locked",
    );
    assert.equal(mails.length, 1);
    assert.ok(mails[0]!.textBody.includes(`${ctx.config.links.publicApiUrl}/account/forgot-password`));
    const events = (await ctx.events()).filter((e) => e.topic === "user.locked.v1" && e.key === user.id);
    assert.equal(events.length, 1);
    const data = events[0]!.data as Record<string, unknown>;
    assert.equal(data.userId, user.id);
    assert.equal(data.lockedUntil, row?.lockedUntil?.toISOString());
    assert.ok(!JSON.stringify(data).includes(WRONG) && !JSON.stringify(data).includes(user.passwordHash));
    assert.equal((await locks()) - locksBefore, 1, "auth_account_locks_total counts the lock once");
  });

  it("locks at the 10th sequential failure and refuses even the right password while locked", async () => {
    await verifiedUser(ctx, "sequential@example.com");
    await failTimes(ctx, "sequential@example.com", 9);
    assert.equal((await throttle(ctx, "sequential@example.com"))?.lockedUntil, null);
    assert.equal((await login(ctx, "sequential@example.com")).statusCode, 200, "9 failures do not lock");
    await failTimes(ctx, "sequential@example.com", 10);
    const locked = await login(ctx, "sequential@example.com");
    assert.equal(locked.statusCode, 401);
    assert.equal(problem(locked).code, "INVALID_CREDENTIALS");
  });

  it("does not extend the lock for attempts made while locked", async () => {
    await verifiedUser(ctx, "noextend@example.com");
    await failTimes(ctx, "noextend@example.com", 10);
    const until = (await throttle(ctx, "noextend@example.com"))?.lockedUntil;
    ctx.clock.advance(20 * MINUTE);
    await failTimes(ctx, "noextend@example.com", 15);
    await login(ctx, "noextend@example.com");
    const row = await throttle(ctx, "noextend@example.com");
    assert.deepEqual(row?.lockedUntil, until);
    assert.equal(row?.lockCount, 1);
    ctx.clock.advance(10 * MINUTE);
    assert.equal((await login(ctx, "noextend@example.com")).statusCode, 200, "the lock ends on time");
  });

  it("expires the lock after 30 minutes and doubles it on the next lock", async () => {
    await verifiedUser(ctx, "doubling@example.com");
    await failTimes(ctx, "doubling@example.com", 10);
    ctx.clock.advance(30 * MINUTE - 1000);
    assert.equal((await login(ctx, "doubling@example.com")).statusCode, 401, "still locked a second before");
    ctx.clock.advance(1000);
    assert.equal((await login(ctx, "doubling@example.com")).statusCode, 200, "unlocked at 30 minutes");
    await failTimes(ctx, "doubling@example.com", 10);
    const row = await throttle(ctx, "doubling@example.com");
    assert.equal(row?.lockCount, 2);
    assert.deepEqual(row?.lockedUntil, new Date(ctx.clock.now().getTime() + 60 * MINUTE));
  });

  it("forgets failures after a successful login", async () => {
    await verifiedUser(ctx, "reset-count@example.com");
    await failTimes(ctx, "reset-count@example.com", 9);
    assert.equal((await login(ctx, "reset-count@example.com")).statusCode, 200);
    assert.equal((await throttle(ctx, "reset-count@example.com"))?.failureCount, 0);
    await failTimes(ctx, "reset-count@example.com", 9);
    assert.equal(
      (await login(ctx, "reset-count@example.com")).statusCode,
      200,
      "9 more failures still do not lock",
    );
  });

  it("forgets failures older than the 15-minute window", async () => {
    await verifiedUser(ctx, "window@example.com");
    await failTimes(ctx, "window@example.com", 9);
    ctx.clock.advance(15 * MINUTE);
    await failTimes(ctx, "window@example.com", 9);
    assert.equal((await login(ctx, "window@example.com")).statusCode, 200);
  });

  it("locks unknown emails the same way, without mail or event", async () => {
    const before = { mails: (await ctx.mails()).length, events: (await ctx.events()).length };
    await failTimes(ctx, "nobody@example.com", 10);
    const row = await throttle(ctx, "nobody@example.com");
    assert.equal(row?.lockCount, 1);
    assert.deepEqual(row?.lockedUntil, new Date(ctx.clock.now().getTime() + 30 * MINUTE));
    assert.equal((await ctx.mails()).length, before.mails);
    assert.equal((await ctx.events()).length, before.events);
  });

  it("unlocks at once through the throttle's unlock (what a password reset calls)", async () => {
    await verifiedUser(ctx, "unlock@example.com");
    await failTimes(ctx, "unlock@example.com", 10);
    assert.equal((await login(ctx, "unlock@example.com")).statusCode, 401);
    const throttles = new LoginThrottleRepository({ db: ctx.database.db });
    await ctx.database.db.transaction((tx) => throttles.unlock(tx, "unlock@example.com"));
    assert.equal((await login(ctx, "unlock@example.com")).statusCode, 200);
    assert.ok(await userRow(ctx, "unlock@example.com"));
  });

  it("a password reset through the endpoints lifts a lock made by failed logins", async () => {
    await verifiedUser(ctx, "reset-unlock@example.com");
    await failTimes(ctx, "reset-unlock@example.com", 10);
    assert.ok((await throttle(ctx, "reset-unlock@example.com"))?.lockedUntil);
    assert.equal((await post(ctx, "forgot-password", { email: "reset-unlock@example.com" })).statusCode, 202);
    const token = await tokenFromMail(ctx, "reset-unlock@example.com", "reset-password");
    const reset = await post(ctx, "reset-password", { token, newPassword: OTHER_STRONG_PASSWORD });
    assert.equal(reset.statusCode, 200, reset.body);
    const response = await login(ctx, "reset-unlock@example.com", OTHER_STRONG_PASSWORD);
    assert.equal(response.statusCode, 200, "no waiting for the lock to expire");
  });
});
