import assert from "node:assert/strict";
import { beforeEach, it } from "node:test";
import type { LightMyRequestResponse } from "fastify";
import { generateTotp } from "../../src/two-factor/totp.ts";
import {
  OTHER_STRONG_PASSWORD,
  post,
  problem,
  STRONG_PASSWORD,
  tokenFromMail,
  verifiedUser,
} from "../support/account-helpers.ts";
import { describeOnEachDatabase, type AuthTestContext } from "../support/test-app.ts";
import { twoFactorUser } from "../support/two-factor-helpers.ts";

const WRONG = "definitely not the password";
const THRESHOLD = 10;

/** A login as a browser makes it, with the device cookie it holds (if any). */
function login(ctx: AuthTestContext, email: string, password: string, device?: string) {
  return ctx.app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email, password },
    ...(device ? { cookies: { [ctx.config.cookies.deviceName]: device } } : {}),
  });
}

function deviceCookie(ctx: AuthTestContext, response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === ctx.config.cookies.deviceName);
  assert.ok(cookie, "a device cookie");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(cookie.path, "/api/v1/auth");
  return cookie.value;
}

async function lockOut(ctx: AuthTestContext, email: string): Promise<void> {
  for (let i = 0; i < THRESHOLD; i++) assert.equal((await login(ctx, email, WRONG)).statusCode, 401);
  assert.equal((await login(ctx, email, STRONG_PASSWORD)).statusCode, 401, "the account is locked");
}

/**
 * Lockout as a weapon: one IP can keep any known address locked with wrong passwords. The lock stays (it
 * stops guessing), but a browser that has signed in as the owner holds a device cookie and is judged by its
 * own failures instead, so the owner still gets in; a stolen cookie gives a guesser little.
 */
await describeOnEachDatabase(
  "device cookies against lockout as a weapon",
  { ACCOUNT_RESPONSE_FLOOR_MS: "0" },
  (context) => {
    let ctx: AuthTestContext;
    beforeEach(() => {
      ctx = context();
    });

    it("the owner's browser signs in while an attacker without the cookie keeps the account locked", async () => {
      const email = "besieged@example.com";
      await verifiedUser(ctx, email);
      const first = await login(ctx, email, STRONG_PASSWORD);
      assert.equal(first.statusCode, 200);
      const device = deviceCookie(ctx, first);

      await lockOut(ctx, email);
      const owner = await login(ctx, email, STRONG_PASSWORD, device);
      assert.equal(owner.statusCode, 200, owner.body);
      assert.notEqual(deviceCookie(ctx, owner), device, "a new cookie at every sign-in");
      // The lock still holds everyone else, the attacker included.
      assert.equal((await login(ctx, email, STRONG_PASSWORD)).statusCode, 401);
    });

    it("a stolen cookie allows only its own few guesses, never counts toward the account lock, then stops working", async () => {
      const email = "stolen@example.com";
      await verifiedUser(ctx, email);
      const device = deviceCookie(ctx, await login(ctx, email, STRONG_PASSWORD));
      for (let i = 0; i < THRESHOLD; i++) {
        const guess = await login(ctx, email, WRONG, device);
        assert.equal(guess.statusCode, 401);
        assert.equal(problem(guess).code, "INVALID_CREDENTIALS");
      }
      // Those guesses counted on the device, not the account: without the cookie the owner is not locked.
      assert.equal((await login(ctx, email, STRONG_PASSWORD)).statusCode, 200);
      // The device is on the lockout list now: with the account locked too, even the right password fails.
      await lockOut(ctx, email);
      assert.equal((await login(ctx, email, STRONG_PASSWORD, device)).statusCode, 401);
    });

    it("a cookie works for its own account only, and a password reset voids it", async () => {
      const owner = "cookie-owner@example.com";
      const other = "cookie-other@example.com";
      await verifiedUser(ctx, owner);
      await verifiedUser(ctx, other);
      const device = deviceCookie(ctx, await login(ctx, owner, STRONG_PASSWORD));
      await lockOut(ctx, other);
      assert.equal(
        (await login(ctx, other, STRONG_PASSWORD, device)).statusCode,
        401,
        "not another account's",
      );
      assert.equal((await login(ctx, other, STRONG_PASSWORD, "v1.forged.cookie.value")).statusCode, 401);

      assert.equal((await post(ctx, "forgot-password", { email: owner })).statusCode, 202);
      const token = await tokenFromMail(ctx, owner, "reset-password");
      const reset = await post(ctx, "reset-password", { token, newPassword: OTHER_STRONG_PASSWORD });
      assert.equal(reset.statusCode, 200, reset.body);
      for (let i = 0; i < THRESHOLD; i++) await login(ctx, owner, WRONG);
      assert.equal(
        (await login(ctx, owner, OTHER_STRONG_PASSWORD, device)).statusCode,
        401,
        "issued before the reset: void",
      );
    });

    it("a 2FA account's owner completes both steps from a trusted browser while the account is locked", async () => {
      const email = "besieged-2fa@example.com";
      const user = await twoFactorUser(ctx, email);
      const password = await login(ctx, email, STRONG_PASSWORD);
      const temp = password.json<{ twoFactorToken: string }>().twoFactorToken;
      ctx.clock.advance(30_000);
      const signedIn = await post(ctx, "login/2fa", {
        twoFactorToken: temp,
        code: await generateTotp(user.secret, ctx.clock.now()),
      });
      assert.equal(signedIn.statusCode, 200, signedIn.body);
      const device = deviceCookie(ctx, signedIn);

      await lockOut(ctx, email);
      const step = await login(ctx, email, STRONG_PASSWORD, device);
      assert.equal(step.statusCode, 200, step.body);
      ctx.clock.advance(30_000);
      const second = await post(ctx, "login/2fa", {
        twoFactorToken: step.json<{ twoFactorToken: string }>().twoFactorToken,
        code: await generateTotp(user.secret, ctx.clock.now()),
      });
      assert.equal(second.statusCode, 200, second.body);
    });
  },
);
