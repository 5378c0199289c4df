import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { generateTotp } from "../../src/two-factor/totp.ts";
import { problem, STRONG_PASSWORD } from "../support/account-helpers.ts";
import { refresh, signedIn } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import { bearerPost, nextCode } from "../support/two-factor-helpers.ts";

const WINDOW_MS = 600_000;

/**
 * The original front end turns 2FA on and off without asking for the password. That is allowed only to a
 * session that signed in within RECENT_AUTH_WINDOW (10 minutes), by the server's record of the session: a
 * refreshed access token does not renew it. Outside it the password is needed (401 REAUTHENTICATION_REQUIRED).
 */
describe(
  "2FA changes without a password inside the recent-sign-in window",
  { skip: await skipUnless("postgres") },
  () => {
    let ctx: AuthTestContext;

    before(async () => {
      ctx = await createAuthTestContext();
    });
    after(() => ctx?.close());

    it("enable without a password succeeds just inside the window and fails just after it", async () => {
      const inside = await signedIn(ctx, "inside@example.com");
      ctx.clock.advance(WINDOW_MS);
      const ok = await bearerPost(ctx, "2fa/enable", inside.accessToken, undefined);
      assert.equal(ok.statusCode, 200, ok.body);

      const outside = await signedIn(ctx, "outside@example.com");
      ctx.clock.advance(WINDOW_MS + 1_000);
      const refused = await bearerPost(ctx, "2fa/enable", outside.accessToken, {});
      assert.equal(refused.statusCode, 401);
      assert.equal(problem(refused).code, "REAUTHENTICATION_REQUIRED");
      assert.match(problem(refused).detail, /contraseña/);
      const withPassword = await bearerPost(ctx, "2fa/enable", outside.accessToken, {
        password: STRONG_PASSWORD,
      });
      assert.equal(withPassword.statusCode, 200, withPassword.body);
    });

    it("a refreshed access token does not renew the window", async () => {
      const session = await signedIn(ctx, "refreshed@example.com");
      ctx.clock.advance(WINDOW_MS - 60_000);
      const rotated = await refresh(ctx, session.refreshToken);
      assert.equal(rotated.statusCode, 200, rotated.body);
      const fresh = rotated.json<{ accessToken: string }>().accessToken;
      ctx.clock.advance(120_000);
      const refused = await bearerPost(ctx, "2fa/enable", fresh, {});
      assert.equal(refused.statusCode, 401);
      assert.equal(problem(refused).code, "REAUTHENTICATION_REQUIRED");
    });

    it("disable with only a code succeeds inside the window, needs the password after it", async () => {
      const session = await signedIn(ctx, "disable-window@example.com");
      const enabled = await bearerPost(ctx, "2fa/enable", session.accessToken, undefined);
      const { secret } = enabled.json<{ secret: string }>();
      const confirmed = await bearerPost(ctx, "2fa/verify-setup", session.accessToken, {
        token: await generateTotp(secret, ctx.clock.now()),
      });
      assert.equal(confirmed.statusCode, 200, confirmed.body);

      ctx.clock.advance(WINDOW_MS - 60_000);
      const code = await nextCode(ctx, secret); // 30 s on: still inside
      const off = await bearerPost(ctx, "2fa/disable", session.accessToken, { code });
      assert.equal(off.statusCode, 200, off.body);
      assert.equal(off.json<{ two_factor_enabled: boolean }>().two_factor_enabled, false);

      // Turned on again (with the password: the window has passed by then), then off after the window.
      ctx.clock.advance(60_000);
      const again = await bearerPost(ctx, "2fa/enable", session.accessToken, { password: STRONG_PASSWORD });
      const second = again.json<{ secret: string }>().secret;
      const reconfirmed = await bearerPost(ctx, "2fa/verify-setup", session.accessToken, {
        code: await generateTotp(second, ctx.clock.now()),
      });
      assert.equal(reconfirmed.statusCode, 200, reconfirmed.body);
      const late = await bearerPost(ctx, "2fa/disable", session.accessToken, {
        code: await nextCode(ctx, second),
      });
      assert.equal(late.statusCode, 401);
      assert.equal(problem(late).code, "REAUTHENTICATION_REQUIRED");
      const withPassword = await bearerPost(ctx, "2fa/disable", session.accessToken, {
        password: STRONG_PASSWORD,
        token: await nextCode(ctx, second),
      });
      assert.equal(withPassword.statusCode, 200, withPassword.body);
    });

    it("a wrong password is still refused inside the window", async () => {
      const session = await signedIn(ctx, "wrong-inside@example.com");
      const refused = await bearerPost(ctx, "2fa/enable", session.accessToken, {
        password: "not the password at all",
      });
      assert.equal(refused.statusCode, 401);
      assert.equal(problem(refused).code, "INVALID_CURRENT_PASSWORD");
    });
  },
);
