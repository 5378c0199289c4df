import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createLogger } from "@mimascota/shared/logger";
import { MailWorker } from "@mimascota/shared/mail/mail-worker";
import { SmtpTransport } from "@mimascota/shared/mail/smtp-transport";
import { TestSmtpServer, type ReceivedMail } from "@mimascota/shared/testing/smtp-server";
import { skipUnless } from "@mimascota/shared/testing/services";
import { OTHER_STRONG_PASSWORD, post, problem, STRONG_PASSWORD } from "../support/account-helpers.ts";
import { login, me, refresh, refreshCookie } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

const EMAIL = "lifecycle@example.com";
const ORIGIN = { origin: "http://localhost:3000" };

/**
 * One account's whole life through the HTTP API, each step depending on the one before: registration, the
 * verification link from the mail as delivered over real SMTP (queue → mail worker → SMTP server → parsed
 * message), login, refresh rotation and reuse detection, password change ending the other sessions, and
 * forgot/reset ending every session.
 */
describe("account lifecycle end to end", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  let smtp: TestSmtpServer;
  let transport: SmtpTransport;
  let worker: MailWorker;
  const seen = new Set<ReceivedMail>();

  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
    smtp = await TestSmtpServer.start();
    transport = new SmtpTransport({ url: smtp.url, from: ctx.config.MAIL_FROM });
    // The worker runs on wall time (the queue's due times are the database's), polling briskly.
    worker = new MailWorker({
      db: ctx.database.db,
      transport,
      logger: createLogger("e2e-mail", "silent"),
      pollIntervalMs: 25,
    });
    worker.start();
  });
  after(async () => {
    await worker.stop();
    await transport.close();
    await smtp.close();
    await ctx.close();
  });

  /** The next not yet seen mail to the account with this subject, as delivered over SMTP. */
  async function nextMail(subject: RegExp): Promise<ReceivedMail> {
    const mail = await smtp.waitForMail(
      (m) => !seen.has(m) && m.to.includes(EMAIL) && subject.test(m.subject),
    );
    seen.add(mail);
    return mail;
  }

  /** The link in a delivered mail, as a user would click it. */
  async function linkFromMail(subject: RegExp, base = ctx.config.links.publicAppUrl): Promise<URL> {
    const mail = await nextMail(subject);
    const link = /https?:\/\/\S+/.exec(mail.text)?.[0];
    assert.ok(link, "the mail has a link");
    const url = new URL(link);
    assert.equal(url.origin, new URL(base).origin, "links use the public URL");
    assert.ok(mail.html.includes(link.replaceAll("&", "&amp;")), "the HTML part carries the same link");
    assert.ok(mail.from.includes("no-reply@mimascota.app"));
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
    const verifyLink = await linkFromMail(/Confirm your email address/);
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
    ctx.clock.advance(ctx.config.refresh.reuseGraceMs + 1000);
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
    await nextMail(/Your password was changed/);

    // Forgot → reset by the mailed link: every session ends, the new password works.
    assert.equal((await post(ctx, "forgot-password", { email: EMAIL })).statusCode, 202);
    // The reset link opens the page this backend serves (the original front end has none).
    const resetLink = await linkFromMail(/Reset your password/, ctx.config.links.publicApiUrl);
    assert.equal(resetLink.pathname, "/account/reset-password");
    const newest = "lámpara azul junto al río";
    const reset = await post(ctx, "reset-password", {
      token: resetLink.searchParams.get("token"),
      newPassword: newest,
    });
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal((await me(ctx, keep.access)).statusCode, 401, "old sessions are dead");
    assert.equal((await refresh(ctx, keep.refresh, ORIGIN)).statusCode, 401);
    assert.equal((await login(ctx, EMAIL, OTHER_STRONG_PASSWORD)).statusCode, 401);
    await nextMail(/Your password was changed/);
    const fresh = await signIn(newest);
    assert.equal((await me(ctx, fresh.access)).statusCode, 200);
  });
});
