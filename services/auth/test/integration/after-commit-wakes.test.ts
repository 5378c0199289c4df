import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { generateTotp } from "../../src/two-factor/totp.ts";
import {
  OTHER_STRONG_PASSWORD,
  post,
  register,
  STRONG_PASSWORD,
  tokenFromMail,
} from "../support/account-helpers.ts";
import { login, refresh, signedIn } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import { bearerPost, nextCode } from "../support/two-factor-helpers.ts";

/**
 * Every flow that commits mail or events wakes the worker that delivers them (the transactions run through
 * one unit of work, which does it after commit): a flow that bypassed it would leave its mail waiting for the
 * next poll, and fail here.
 */
describe(
  "after commit, the workers of what was enqueued are woken",
  { skip: await skipUnless("postgres") },
  () => {
    let ctx: AuthTestContext;
    const woken = { mail: 0, events: 0 };

    before(async () => {
      ctx = await createAuthTestContext({
        env: { ACCOUNT_RESPONSE_FLOOR_MS: "0", RESEND_COOLDOWN: "0" },
        wake: { mail: () => (woken.mail += 1), events: () => (woken.events += 1) },
      });
    });
    after(() => ctx?.close());

    async function expectWoken(flow: string, action: () => Promise<unknown>): Promise<void> {
      const rows = { mails: (await ctx.mails()).length, events: (await ctx.events()).length };
      const wakes = { ...woken };
      await action();
      const mails = (await ctx.mails()).length;
      const events = (await ctx.events()).length;
      assert.ok(mails > rows.mails || events > rows.events, `${flow}: enqueued something`);
      if (mails > rows.mails) assert.ok(woken.mail > wakes.mail, `${flow}: the mail worker was woken`);
      if (events > rows.events) assert.ok(woken.events > wakes.events, `${flow}: the relay was woken`);
    }

    it("for every account, session and 2FA flow that writes mail or events", async () => {
      const email = "flows@example.com";
      await expectWoken("register", () => register(ctx, email));
      await expectWoken("register again", () => register(ctx, email));
      await expectWoken("resend", () => post(ctx, "resend-verification", { email }));
      const token = await tokenFromMail(ctx, email, "verify-email");
      await expectWoken("verify", () => post(ctx, "verify-email", { token }));
      await expectWoken("forgot", () => post(ctx, "forgot-password", { email }));
      const reset = await tokenFromMail(ctx, email, "reset-password");
      await expectWoken("reset", () =>
        post(ctx, "reset-password", { token: reset, newPassword: OTHER_STRONG_PASSWORD }),
      );

      const session = await signedIn(ctx, "second@example.com");
      await expectWoken("change password", () =>
        bearerPost(ctx, "change-password", session.accessToken, {
          currentPassword: STRONG_PASSWORD,
          newPassword: OTHER_STRONG_PASSWORD,
        }),
      );
      const fresh = await signedIn(ctx, "third@example.com");
      const enabled = await bearerPost(ctx, "2fa/enable", fresh.accessToken, { password: STRONG_PASSWORD });
      const { secret } = enabled.json<{ secret: string }>();
      const setupCode = await generateTotp(secret, ctx.clock.now());
      await expectWoken("2FA on", () =>
        bearerPost(ctx, "2fa/verify-setup", fresh.accessToken, { code: setupCode }),
      );
      const code = await nextCode(ctx, secret);
      await expectWoken("2FA off", () =>
        bearerPost(ctx, "2fa/disable", fresh.accessToken, { password: STRONG_PASSWORD, code }),
      );

      const reused = await signedIn(ctx, "fourth@example.com");
      assert.equal((await refresh(ctx, reused.refreshToken)).statusCode, 200);
      ctx.clock.advance(60_000);
      await expectWoken("refresh token reuse", () => refresh(ctx, reused.refreshToken));

      await expectWoken("lock", async () => {
        for (let i = 0; i < 10; i++) await login(ctx, "fourth@example.com", "definitely not the password");
      });
      await expectWoken("delete", () =>
        ctx.app.inject({
          method: "DELETE",
          url: "/api/v1/auth/me",
          headers: { authorization: `Bearer ${fresh.accessToken}` },
          payload: { password: STRONG_PASSWORD },
        }),
      );
    });
  },
);
