import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { OTHER_STRONG_PASSWORD, post, problem, STRONG_PASSWORD } from "../support/account-helpers.ts";
import { login, me, refresh, refreshCookie } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

const EMAIL = "lifecycle@example.com";
const ORIGIN = { origin: "http://localhost:3000" };

/**
 * One account's whole life through the HTTP API, each step depending on the one before: registration, the
 * verification link from the mail, login, refresh rotation and reuse detection, password change ending the
 * other sessions, and forgot/reset ending every session.
 */
describe("account lifecycle end to end", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx.close());

  /** The link in the newest mail of a template to the account, as a user would click it. */
  async function linkFromMail(template: string): Promise<URL> {
    const mail = (await ctx.mails()).find((m) => m.toAddress === EMAIL && m.template === template);
    assert.ok(mail, `a ${template} mail was sent`);
    const link = /https?:\/\/\S+/.exec(mail.textBody)?.[0];
    assert.ok(link, "the mail has a link");
    const url = new URL(link);
    assert.equal(url.origin, new URL(ctx.config.PUBLIC_APP_URL).origin, "links use the public URL");
    return url;
  }

  async function signIn(password: string) {
    const response = await login(ctx, EMAIL, password);
    assert.equal(response.statusCode, 200, response.body);
    return {
      access: response.json<{ accessToken: string }>().accessToken,
      refresh: refreshCookie(ctx, response).value,
    };
  }

  it("register → verify by the mailed link → login → me → refresh → reuse → change → forgot → reset", async () => {
    // Register; the verification mail carries the link.
    assert.equal(
      (await post(ctx, "register", { email: EMAIL, password: STRONG_PASSWORD, locale: "en" })).statusCode,
      202,
    );
    assert.equal(
      (await login(ctx, EMAIL, STRONG_PASSWORD)).statusCode,
      403,
      "unverified: EMAIL_NOT_VERIFIED",
    );
    const verifyLink = await linkFromMail("verify-email");
    assert.equal(verifyLink.pathname, "/verify-email");
    const verified = await post(ctx, "verify-email", { token: verifyLink.searchParams.get("token") });
    assert.equal(verified.statusCode, 200, verified.body);

    // Login, me, refresh.
    const first = await signIn(STRONG_PASSWORD);
    const profile = await me(ctx, first.access);
    assert.equal(profile.statusCode, 200);
    assert.equal(profile.json<{ email: string; emailVerified: boolean }>().emailVerified, true);
    const rotated = await refresh(ctx, first.refresh, ORIGIN);
    assert.equal(rotated.statusCode, 200, rotated.body);
    const second = refreshCookie(ctx, rotated).value;
    assert.notEqual(second, first.refresh);

    // Replaying the rotated token after the grace window revokes the whole family.
    ctx.clock.advance((ctx.config.REFRESH_REUSE_GRACE + 1) * 1000);
    const replay = await refresh(ctx, first.refresh, ORIGIN);
    assert.equal(problem(replay).code, "REFRESH_TOKEN_REUSED");
    assert.equal(
      (await refresh(ctx, second, ORIGIN)).statusCode,
      401,
      "the family's newest token is dead too",
    );
    assert.equal((await me(ctx, first.access)).statusCode, 401, "and so is its access token");

    // Change password from one session: the other session ends, this one lives on.
    const keep = await signIn(STRONG_PASSWORD);
    const other = await signIn(STRONG_PASSWORD);
    const changed = await post(
      ctx,
      "change-password",
      { currentPassword: STRONG_PASSWORD, newPassword: OTHER_STRONG_PASSWORD },
      { authorization: `Bearer ${keep.access}` },
    );
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal((await me(ctx, other.access)).statusCode, 401);
    assert.equal((await refresh(ctx, other.refresh, ORIGIN)).statusCode, 401);
    assert.equal((await me(ctx, keep.access)).statusCode, 200);
    assert.ok((await ctx.mails()).some((m) => m.toAddress === EMAIL && m.template === "password-changed"));

    // Forgot → reset by the mailed link: every session ends, the new password works.
    assert.equal((await post(ctx, "forgot-password", { email: EMAIL })).statusCode, 202);
    const resetLink = await linkFromMail("reset-password");
    assert.equal(resetLink.pathname, "/reset-password");
    const newest = "lámpara azul junto al río";
    const reset = await post(ctx, "reset-password", {
      token: resetLink.searchParams.get("token"),
      newPassword: newest,
    });
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal((await me(ctx, keep.access)).statusCode, 401, "old sessions are dead");
    assert.equal((await refresh(ctx, keep.refresh, ORIGIN)).statusCode, 401);
    assert.equal((await login(ctx, EMAIL, OTHER_STRONG_PASSWORD)).statusCode, 401);
    const fresh = await signIn(newest);
    assert.equal((await me(ctx, fresh.access)).statusCode, 200);
  });
});
