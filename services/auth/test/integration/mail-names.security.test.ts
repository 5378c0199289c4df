import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { post, register, STRONG_PASSWORD, tokenFromMail } from "../support/account-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

const CHOSEN = "Gana un premio en http://evil.example/premio";

/**
 * Whoever registers an address chooses the name printed at the top of the mails to it. Until the address is
 * verified, mails to it carry no name at all (the attacker's text, URLs included, never lands in someone
 * else's inbox); once the owner has verified it, the name is theirs and is used.
 */
describe("the account name in mails", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;

  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0", RESEND_COOLDOWN: "0" } });
  });
  after(() => ctx?.close());

  const mailsTo = async (email: string) => (await ctx.mails()).filter((m) => m.toAddress === email);

  it("is left out of the verification mail, the resend and the already-registered notice to an unverified address", async () => {
    const victim = "victim@example.com";
    await register(ctx, victim, STRONG_PASSWORD, { fullName: CHOSEN });
    assert.equal((await post(ctx, "resend-verification", { email: victim })).statusCode, 202);
    await register(ctx, victim, STRONG_PASSWORD, { fullName: "Someone else" });
    const mails = await mailsTo(victim);
    assert.deepEqual(mails.map((m) => m.template).sort(), [
      "already-registered",
      "verify-email",
      "verify-email",
    ]);
    for (const mail of mails) {
      for (const part of [mail.subject, mail.textBody, mail.htmlBody]) {
        assert.ok(!part.includes("evil.example"), `${mail.template}: no chosen text`);
        assert.ok(!part.includes("Gana un premio"), `${mail.template}: no chosen name`);
      }
      assert.match(mail.textBody, /^Hola:/, `${mail.template}: a greeting without a name`);
    }
  });

  it("is used once the address is verified", async () => {
    const owner = "owner@example.com";
    await register(ctx, owner, STRONG_PASSWORD, { fullName: "Ana" });
    const token = await tokenFromMail(ctx, owner, "verify-email");
    assert.equal((await post(ctx, "verify-email", { token })).statusCode, 200);
    assert.equal((await post(ctx, "forgot-password", { email: owner })).statusCode, 202);
    const reset = (await mailsTo(owner)).find((m) => m.template === "reset-password");
    assert.match(reset?.textBody ?? "", /^Hola, Ana:/);
  });
});
