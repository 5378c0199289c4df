import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { skipUnless } from "@mimascota/shared/testing/services";
import { users } from "../../src/db/schema.ts";
import { PasswordHasher } from "../../src/crypto/password-hasher.ts";
import {
  comparableHeaders,
  OTHER_STRONG_PASSWORD,
  post,
  problem,
  register,
  STRONG_PASSWORD,
  tokenFromMail,
  userRow,
  verifiedUser,
} from "../support/account-helpers.ts";
import { insertSession, lockEmail, lockedUntil, sessionRevokedAt } from "../support/session-rows.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

const hasher = new PasswordHasher({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

describe("forgot and reset password", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx.close());

  const forgot = (email: string) => post(ctx, "forgot-password", { email });
  const resetMails = async (email: string) =>
    (await ctx.mails()).filter((m) => m.toAddress === email && m.template === "reset-password");

  it("forgot answers 202 with one body and headers for known and unknown emails; only the owner gets a link", async () => {
    await verifiedUser(ctx, "forgetful@example.com");
    const known = await forgot("Forgetful@example.com");
    const unknown = await forgot("stranger@example.com");
    assert.equal(known.statusCode, 202);
    assert.equal(unknown.statusCode, 202);
    assert.equal(known.body, unknown.body);
    assert.deepEqual(comparableHeaders(known), comparableHeaders(unknown));
    const mails = await resetMails("forgetful@example.com");
    assert.equal(mails.length, 1);
    assert.ok(mails[0]!.textBody.includes(`${ctx.config.links.publicApiUrl}/account/reset-password?token=`));
    assert.equal((await ctx.mails()).filter((m) => m.toAddress === "stranger@example.com").length, 0);
  });

  it("reset sets the new password, ends every session, unlocks the account, keeps 2FA, and publishes the event", async () => {
    const user = await verifiedUser(ctx, "reset@example.com");
    const twoFactorAt = ctx.clock.now();
    await ctx.database.db.update(users).set({ twoFactorEnabledAt: twoFactorAt }).where(eq(users.id, user.id));
    const sessionA = await insertSession(ctx, user.id);
    const sessionB = await insertSession(ctx, user.id);
    await lockEmail(ctx, "reset@example.com");
    await forgot("reset@example.com");
    const token = await tokenFromMail(ctx, "reset@example.com", "reset-password");

    const response = await post(ctx, "reset-password", { token, newPassword: OTHER_STRONG_PASSWORD });
    assert.equal(response.statusCode, 200, response.body);

    const after = await userRow(ctx, "reset@example.com");
    assert.ok(await hasher.verify(after.passwordHash, OTHER_STRONG_PASSWORD));
    assert.equal(await hasher.verify(after.passwordHash, STRONG_PASSWORD), false);
    assert.ok(await sessionRevokedAt(ctx, sessionA));
    assert.ok(await sessionRevokedAt(ctx, sessionB));
    assert.equal(await ctx.kv.get(`revoked-session:${sessionA}`), "1", "the gateway is told at once");
    assert.equal(await lockedUntil(ctx, "reset@example.com"), null);
    assert.equal(after.twoFactorEnabledAt?.getTime(), twoFactorAt.getTime(), "2FA stays required");
    const event = (await ctx.events()).find((e) => e.topic === "user.password_reset.v1" && e.key === user.id);
    assert.ok(event);
    const json = JSON.stringify(event.data);
    for (const secret of [token, OTHER_STRONG_PASSWORD, after.passwordHash])
      assert.ok(!json.includes(secret));
    const notice = (await ctx.mails()).find(
      (m) => m.toAddress === "reset@example.com" && m.template === "password-changed",
    );
    assert.ok(notice, "the owner is told the password changed");
  });

  it("a reset link is single use", async () => {
    await verifiedUser(ctx, "once@example.com");
    await forgot("once@example.com");
    const token = await tokenFromMail(ctx, "once@example.com", "reset-password");
    assert.equal(
      (await post(ctx, "reset-password", { token, newPassword: OTHER_STRONG_PASSWORD })).statusCode,
      200,
    );
    const again = await post(ctx, "reset-password", { token, newPassword: "un tercer secreto muy largo" });
    assert.equal(again.statusCode, 400);
    assert.equal(problem(again).code, "INVALID_TOKEN");
  });

  it("lets exactly one of 10 concurrent resets with one link succeed", async () => {
    await verifiedUser(ctx, "race-reset@example.com");
    await forgot("race-reset@example.com");
    const token = await tokenFromMail(ctx, "race-reset@example.com", "reset-password");
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        post(ctx, "reset-password", { token, newPassword: `${OTHER_STRONG_PASSWORD} ${i}` }),
      ),
    );
    assert.equal(results.filter((r) => r.statusCode === 200).length, 1);
    assert.ok(results.filter((r) => r.statusCode !== 200).every((r) => problem(r).code === "INVALID_TOKEN"));
    const user = await userRow(ctx, "race-reset@example.com");
    const events = (await ctx.events()).filter(
      (e) => e.topic === "user.password_reset.v1" && e.key === user.id,
    );
    assert.equal(events.length, 1);
  });

  it("a link expires after 1 hour", async () => {
    await verifiedUser(ctx, "late@example.com");
    await forgot("late@example.com");
    const token = await tokenFromMail(ctx, "late@example.com", "reset-password");
    ctx.clock.advance(3600_000);
    const response = await post(ctx, "reset-password", { token, newPassword: OTHER_STRONG_PASSWORD });
    assert.equal(problem(response).code, "INVALID_TOKEN");
  });

  it("a new link voids the previous one", async () => {
    await verifiedUser(ctx, "twice@example.com");
    await forgot("twice@example.com");
    const first = await tokenFromMail(ctx, "twice@example.com", "reset-password");
    ctx.clock.advance(ctx.config.accountTokens.resendCooldownMs);
    await forgot("twice@example.com");
    const second = await tokenFromMail(ctx, "twice@example.com", "reset-password");
    assert.notEqual(first, second);
    assert.equal(
      problem(await post(ctx, "reset-password", { token: first, newPassword: OTHER_STRONG_PASSWORD })).code,
      "INVALID_TOKEN",
    );
    assert.equal(
      (await post(ctx, "reset-password", { token: second, newPassword: OTHER_STRONG_PASSWORD })).statusCode,
      200,
    );
  });

  it("refuses a weak new password with its reason, without spending the link", async () => {
    await verifiedUser(ctx, "weak-reset@example.com");
    await forgot("weak-reset@example.com");
    const token = await tokenFromMail(ctx, "weak-reset@example.com", "reset-password");
    for (const [newPassword, reason] of [
      ["short", /al menos 12/],
      ["weak-reset-forever", /dirección de correo/],
      ["qwertyuiop123", /demasiado común/],
    ] as const) {
      const response = await post(ctx, "reset-password", { token, newPassword });
      assert.equal(response.statusCode, 400);
      const body = problem(response);
      assert.equal(body.code, "WEAK_PASSWORD");
      assert.match(body.detail, reason);
    }
    assert.equal(
      (await post(ctx, "reset-password", { token, newPassword: OTHER_STRONG_PASSWORD })).statusCode,
      200,
    );
  });

  it("marks an unverified address verified: the reset link proved the mailbox", async () => {
    await register(ctx, "never-verified@example.com");
    await forgot("never-verified@example.com");
    const token = await tokenFromMail(ctx, "never-verified@example.com", "reset-password");
    assert.equal(
      (await post(ctx, "reset-password", { token, newPassword: OTHER_STRONG_PASSWORD })).statusCode,
      200,
    );
    const user = await userRow(ctx, "never-verified@example.com");
    assert.ok(user.emailVerifiedAt);
    assert.ok((await ctx.events()).some((e) => e.topic === "user.verified.v1" && e.key === user.id));
  });

  it("refuses unknown tokens and malformed input with the right 400", async () => {
    const unknown = await post(ctx, "reset-password", {
      token: "B".repeat(43),
      newPassword: OTHER_STRONG_PASSWORD,
    });
    assert.equal(problem(unknown).code, "INVALID_TOKEN");
    for (const payload of [
      {},
      { token: "x" },
      { token: 1, newPassword: OTHER_STRONG_PASSWORD },
      { newPassword: "x" },
    ]) {
      const response = await post(ctx, "reset-password", payload);
      assert.equal(response.statusCode, 400);
      assert.equal(problem(response).code, "VALIDATION_ERROR");
    }
    for (const payload of [{}, { email: "a\nb@example.com" }, { email: ["a@example.com"] }]) {
      const response = await post(ctx, "forgot-password", payload);
      assert.equal(response.statusCode, 400);
      assert.equal(problem(response).code, "VALIDATION_ERROR");
    }
  });
  it("a verification token is no reset token, and a reset token verifies nothing", async () => {
    await register(ctx, "purpose@example.com");
    const verifyToken = await tokenFromMail(ctx, "purpose@example.com", "verify-email");
    await forgot("purpose@example.com");
    const resetToken = await tokenFromMail(ctx, "purpose@example.com", "reset-password");
    const wrongReset = await post(ctx, "reset-password", {
      token: verifyToken,
      newPassword: OTHER_STRONG_PASSWORD,
    });
    assert.equal(problem(wrongReset).code, "INVALID_TOKEN");
    assert.equal(problem(await post(ctx, "verify-email", { token: resetToken })).code, "INVALID_TOKEN");
    assert.equal((await userRow(ctx, "purpose@example.com")).emailVerifiedAt, null);
  });
  it("sends at most one reset mail per cooldown (same 202), even to 10 concurrent requests", async () => {
    await verifiedUser(ctx, "flooded@example.com");
    const answers = await Promise.all(Array.from({ length: 10 }, () => forgot("flooded@example.com")));
    assert.ok(answers.every((r) => r.statusCode === 202 && r.body === answers[0]?.body));
    assert.equal((await resetMails("flooded@example.com")).length, 1);
    ctx.clock.advance(ctx.config.accountTokens.resendCooldownMs - 1000);
    await forgot("flooded@example.com");
    assert.equal((await resetMails("flooded@example.com")).length, 1);
    ctx.clock.advance(1000);
    await forgot("flooded@example.com");
    assert.equal((await resetMails("flooded@example.com")).length, 2);
  });
});
