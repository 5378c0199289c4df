import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { STRONG_PASSWORD } from "../support/account-helpers.ts";
import { decodeJwt, signedIn } from "../support/session-helpers.ts";
import { oathtoolCode, skipUnlessCrossCheckTools, zbarDecode } from "../support/system-tools.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import { bearerPost, passwordStep, secondStep } from "../support/two-factor-helpers.ts";

const skip = (await skipUnless("postgres")) || (await skipUnlessCrossCheckTools());

/** What an authenticator app does, done by independent tools: scan the QR code, compute codes. */
describe("2FA endpoints cross-checked with zbarimg and oathtool", { skip }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx.close());

  it("the enable response's QR code decodes to its otpauthUrl, and oathtool's codes confirm and sign in", async () => {
    const { accessToken } = await signedIn(ctx, "ana.maria+perros@example.com");
    const enabled = await bearerPost(ctx, "2fa/enable", accessToken, { password: STRONG_PASSWORD });
    const { secret, otpauthUrl, qrCode } = enabled.json<{
      secret: string;
      otpauthUrl: string;
      qrCode: string;
    }>();
    const scanned = await zbarDecode(qrCode);
    assert.equal(scanned, otpauthUrl);
    // The app takes the secret from the scanned URL, not from the JSON.
    const scannedSecret = new URL(scanned).searchParams.get("secret") ?? "";
    assert.equal(scannedSecret, secret);
    const setup = await bearerPost(ctx, "2fa/verify-setup", accessToken, {
      code: await oathtoolCode(scannedSecret, ctx.clock.now()),
    });
    assert.equal(setup.statusCode, 200, setup.body);
    const token = await passwordStep(ctx, "ana.maria+perros@example.com");
    ctx.clock.advance(30_000);
    const second = await secondStep(ctx, token, await oathtoolCode(scannedSecret, ctx.clock.now()));
    assert.equal(second.statusCode, 200, second.body);
    assert.deepEqual(decodeJwt(second.json<{ accessToken: string }>().accessToken).payload.amr, [
      "pwd",
      "otp",
    ]);
  });
});
