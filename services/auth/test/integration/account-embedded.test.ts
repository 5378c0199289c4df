import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  OTHER_STRONG_PASSWORD,
  post,
  problem,
  register,
  tokenFromMail,
  userRow,
} from "../support/account-helpers.ts";
import { login } from "../support/session-helpers.ts";
import { lockedUntil } from "../support/session-rows.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import { nextCode, passwordStep, secondStep, twoFactorUser } from "../support/two-factor-helpers.ts";

/** The embedded mode (PGlite, no servers): the account flows' SQL (upserts, row locks, atomic use) runs there too. */
describe("account flows on embedded PGlite", () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({
      database: "pglite",
      env: { ACCOUNT_RESPONSE_FLOOR_MS: "0", LOCKOUT_THRESHOLD: "3" },
    });
  });
  after(() => ctx.close());

  it("registers, verifies, resends, resets, and refuses a second use of each token", async () => {
    await register(ctx, "embedded@example.com");
    await register(ctx, "embedded@example.com");
    const verify = await tokenFromMail(ctx, "embedded@example.com", "verify-email");
    assert.equal((await post(ctx, "verify-email", { token: verify })).statusCode, 200);
    assert.equal((await post(ctx, "verify-email", { token: verify })).statusCode, 400);
    assert.ok((await userRow(ctx, "embedded@example.com")).emailVerifiedAt);

    await register(ctx, "embedded-2@example.com");
    ctx.clock.advance(61_000);
    assert.equal(
      (await post(ctx, "resend-verification", { email: "embedded-2@example.com" })).statusCode,
      202,
    );
    const mails = (await ctx.mails()).filter((m) => m.toAddress === "embedded-2@example.com");
    assert.equal(mails.length, 2);

    assert.equal((await post(ctx, "forgot-password", { email: "embedded@example.com" })).statusCode, 202);
    const reset = await tokenFromMail(ctx, "embedded@example.com", "reset-password");
    const attempts = await Promise.all(
      [1, 2, 3].map(() => post(ctx, "reset-password", { token: reset, newPassword: OTHER_STRONG_PASSWORD })),
    );
    assert.deepEqual(attempts.map((r) => r.statusCode).sort(), [200, 400, 400]);
  });

  it("logs in, counts failures, locks, and completes a 2FA login after a wrong code", async () => {
    const user = await twoFactorUser(ctx, "embedded-2fa@example.com");
    const token = await passwordStep(ctx, user.email);
    const good = await nextCode(ctx, user.secret);
    const wrong = await secondStep(ctx, token, good === "000000" ? "000001" : "000000");
    assert.equal(problem(wrong).code, "INVALID_2FA_CODE");
    assert.equal(
      (await secondStep(ctx, token, good)).statusCode,
      200,
      "a wrong code leaves the token usable",
    );
    for (let i = 0; i < 3; i++) {
      assert.equal(
        problem(await login(ctx, user.email, "not the password at all")).code,
        "INVALID_CREDENTIALS",
      );
    }
    assert.ok(
      await lockedUntil(ctx, user.email),
      "three wrong passwords lock (the wrong code was forgotten when both factors passed)",
    );
    assert.equal(
      problem(await login(ctx, user.email)).code,
      "INVALID_CREDENTIALS",
      "locked: even the password",
    );
  });
});
