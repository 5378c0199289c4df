import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { skipUnless } from "@mimascota/shared/testing/services";
import { sessions } from "../../src/db/schema.ts";
import { generateTotp } from "../../src/two-factor/totp.ts";
import { OTHER_STRONG_PASSWORD, post, problem, tokenFromMail } from "../support/account-helpers.ts";
import { decodeJwt, login, me, refresh, refreshCookie } from "../support/session-helpers.ts";
import { lockedUntil } from "../support/session-rows.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import { nextCode, passwordStep, secondStep, status, twoFactorUser } from "../support/two-factor-helpers.ts";

describe("POST /login/2fa", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx.close());

  it("a password login on a 2FA account gives only a twoFactorToken; the code completes it with amr pwd+otp", async () => {
    const user = await twoFactorUser(ctx, "second@example.com");
    const first = await login(ctx, "second@example.com");
    assert.equal(first.statusCode, 200);
    assert.deepEqual(Object.keys(first.json()).sort(), [
      "expiresIn",
      "message",
      "requires_2fa",
      "temp_session_id",
      "twoFactorRequired",
      "twoFactorToken",
    ]);
    assert.equal(first.json<{ expiresIn: number }>().expiresIn, 300);
    assert.equal(first.headers["set-cookie"], undefined, "no refresh cookie before the second step");
    const token = first.json<{ twoFactorToken: string }>().twoFactorToken;
    const response = await secondStep(ctx, token, await nextCode(ctx, user.secret));
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers["cache-control"], "no-store");
    const body = response.json<{ accessToken: string; tokenType: string; expiresIn: number; user: object }>();
    assert.deepEqual(Object.keys(body).sort(), [
      "accessToken",
      "access_token",
      "expiresIn",
      "tokenType",
      "token_type",
      "user",
    ]);
    assert.equal(body.tokenType, "Bearer");
    assert.equal(body.expiresIn, 900);
    assert.equal((body.user as { twoFactorEnabled: boolean }).twoFactorEnabled, true);
    const { payload } = decodeJwt(body.accessToken);
    assert.deepEqual(payload.amr, ["pwd", "otp"]);
    assert.equal(payload.sub, user.userId);
    const [session] = await ctx.database.db
      .select()
      .from(sessions)
      .where(eq(sessions.id, String(payload.sid)));
    assert.deepEqual(session?.amr, ["pwd", "otp"]);
    const cookie = refreshCookie(ctx, response);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.path, "/api/v1/auth");
    assert.equal((await me(ctx, body.accessToken)).statusCode, 200);
    // The session refreshes like any other and keeps its methods.
    const rotated = await refresh(ctx, cookie.value);
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.deepEqual(decodeJwt(rotated.json<{ accessToken: string }>().accessToken).payload.amr, [
      "pwd",
      "otp",
    ]);
  });

  it("a backup code completes the login once and is then spent", async () => {
    const user = await twoFactorUser(ctx, "backup@example.com");
    const code = user.backupCodes[5] ?? "";
    const ok = await secondStep(ctx, await passwordStep(ctx, "backup@example.com"), code);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(decodeJwt(ok.json<{ accessToken: string }>().accessToken).payload.amr, ["pwd", "otp"]);
    assert.equal(
      (await status(ctx, user.accessToken)).json<{ backupCodesRemaining: number }>().backupCodesRemaining,
      9,
    );
    const again = await secondStep(ctx, await passwordStep(ctx, "backup@example.com"), code);
    assert.equal(again.statusCode, 401);
    assert.equal(problem(again).code, "INVALID_2FA_CODE");
  });

  it("a wrong code is 401 INVALID_2FA_CODE and the same token still takes the right one", async () => {
    const user = await twoFactorUser(ctx, "wrong@example.com");
    const token = await passwordStep(ctx, "wrong@example.com");
    const code = await nextCode(ctx, user.secret);
    const wrong = await secondStep(ctx, token, code === "111111" ? "222222" : "111111");
    assert.equal(wrong.statusCode, 401);
    assert.equal(problem(wrong).code, "INVALID_2FA_CODE");
    assert.equal((await secondStep(ctx, token, code)).statusCode, 200);
  });

  it("the twoFactorToken is single use: a second use, even with a fresh code, is 401 INVALID_2FA_TOKEN", async () => {
    const user = await twoFactorUser(ctx, "reuse@example.com");
    const token = await passwordStep(ctx, "reuse@example.com");
    assert.equal((await secondStep(ctx, token, await nextCode(ctx, user.secret))).statusCode, 200);
    const reused = await secondStep(ctx, token, await nextCode(ctx, user.secret));
    assert.equal(reused.statusCode, 401);
    assert.equal(problem(reused).code, "INVALID_2FA_TOKEN");
  });

  it("the twoFactorToken expires after 5 minutes", async () => {
    const user = await twoFactorUser(ctx, "expiry@example.com");
    const token = await passwordStep(ctx, "expiry@example.com");
    ctx.clock.advance(5 * 60_000);
    const expired = await secondStep(ctx, token, await generateTotp(user.secret, ctx.clock.now()));
    assert.equal(expired.statusCode, 401);
    assert.equal(problem(expired).code, "INVALID_2FA_TOKEN");
    const fresh = await passwordStep(ctx, "expiry@example.com");
    ctx.clock.advance(5 * 60_000 - 1000);
    const inTime = await secondStep(ctx, fresh, await generateTotp(user.secret, ctx.clock.now()));
    assert.equal(inTime.statusCode, 200, inTime.body);
  });

  it("an unknown twoFactorToken is 401 INVALID_2FA_TOKEN", async () => {
    const response = await secondStep(ctx, "A".repeat(43), "123456");
    assert.equal(response.statusCode, 401);
    assert.equal(problem(response).code, "INVALID_2FA_TOKEN");
  });

  it("counts 2FA checks by result in /metrics", async () => {
    const user = await twoFactorUser(ctx, "metrics@example.com");
    const token = await passwordStep(ctx, user.email);
    const good = await nextCode(ctx, user.secret);
    await secondStep(ctx, token, good === "555555" ? "666666" : "555555");
    await secondStep(ctx, token, good);
    await secondStep(ctx, await passwordStep(ctx, user.email), user.backupCodes[0]);
    const text = (await ctx.app.inject({ method: "GET", url: "/metrics" })).body;
    const count = (result: string) =>
      Number(
        new RegExp(`^auth_two_factor_checks_total\\{result="${result}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0,
      );
    assert.ok(count("totp") >= 2, "the setup code and the login code");
    assert.ok(count("backup_code") >= 1);
    assert.ok(count("invalid") >= 1);
  });

  it("a password reset does not turn 2FA off: the next login still asks for the second step", async () => {
    const user = await twoFactorUser(ctx, "reset@example.com");
    assert.equal((await post(ctx, "forgot-password", { email: "reset@example.com" })).statusCode, 202);
    const token = await tokenFromMail(ctx, "reset@example.com", "reset-password");
    const reset = await post(ctx, "reset-password", { token, newPassword: OTHER_STRONG_PASSWORD });
    assert.equal(reset.statusCode, 200, reset.body);
    const next = await login(ctx, "reset@example.com", OTHER_STRONG_PASSWORD);
    assert.equal(next.statusCode, 200);
    const body = next.json<{ twoFactorRequired?: boolean; accessToken?: string }>();
    assert.equal(body.twoFactorRequired, true);
    assert.equal(body.accessToken, undefined);
    const twoFactorToken = (body as { twoFactorToken: string }).twoFactorToken;
    assert.equal((await secondStep(ctx, twoFactorToken, await nextCode(ctx, user.secret))).statusCode, 200);
  });

  it("a password reset voids a twoFactorToken obtained with the old password", async () => {
    const user = await twoFactorUser(ctx, "reset-token@example.com");
    const token = await passwordStep(ctx, user.email);
    ctx.clock.advance(1000);
    assert.equal((await post(ctx, "forgot-password", { email: user.email })).statusCode, 202);
    const resetToken = await tokenFromMail(ctx, user.email, "reset-password");
    const reset = await post(ctx, "reset-password", {
      token: resetToken,
      newPassword: OTHER_STRONG_PASSWORD,
    });
    assert.equal(reset.statusCode, 200, reset.body);
    const stale = await secondStep(ctx, token, await nextCode(ctx, user.secret));
    assert.equal(stale.statusCode, 401);
    assert.equal(problem(stale).code, "INVALID_2FA_TOKEN");
  });

  it("wrong codes count toward the account lock: with the lock threshold reached, the account locks", async () => {
    const locking = await createAuthTestContext({
      env: { ACCOUNT_RESPONSE_FLOOR_MS: "0", LOCKOUT_THRESHOLD: "3" },
    });
    try {
      const user = await twoFactorUser(locking, "lock@example.com");
      const token = await passwordStep(locking, "lock@example.com");
      const good = await nextCode(locking, user.secret);
      const wrong = good === "333333" ? "444444" : "333333";
      for (let i = 0; i < 3; i++) assert.equal((await secondStep(locking, token, wrong)).statusCode, 401);
      assert.ok(await lockedUntil(locking, "lock@example.com"), "the account is locked");
      assert.equal((await locking.mails())[0]?.template, "account-locked");
      // Locked: the same token, even with the right code, no longer signs in; nor does the password.
      const refused = await secondStep(locking, token, good);
      assert.equal(problem(refused).code, "INVALID_2FA_TOKEN");
      assert.equal(problem(await login(locking, "lock@example.com")).code, "INVALID_CREDENTIALS");
    } finally {
      await locking.close();
    }
  });
});
