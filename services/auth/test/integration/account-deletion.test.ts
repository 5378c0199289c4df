import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { skipUnless } from "@mimascota/shared/testing/services";
import { backupCodes, loginThrottles, sessions, users } from "../../src/db/schema.ts";
import { revokedSessionKey } from "@mimascota/shared/auth-contract";
import { post, problem, register, STRONG_PASSWORD } from "../support/account-helpers.ts";
import { login, me, signedIn } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import { twoFactorUser } from "../support/two-factor-helpers.ts";

const WINDOW_MS = 600_000;

/**
 * `DELETE /me`: the account and everything of it go in one transaction with the confirmation mail and the
 * `user.deleted.v1` event; its sessions are published as revoked (the gateway refuses their tokens at once);
 * the address can register again. The password is needed outside the recent-sign-in window.
 */
describe("DELETE /me", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;

  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx?.close());

  const remove = (accessToken: string, payload?: unknown) =>
    ctx.app.inject({
      method: "DELETE",
      url: "/api/v1/auth/me",
      headers: { authorization: `Bearer ${accessToken}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  it("deletes the account and its data, revokes every session, mails, publishes; the email registers again", async () => {
    const email = "leaving@example.com";
    const user = await twoFactorUser(ctx, email);
    const second = await login(ctx, email);
    assert.equal(second.statusCode, 200);
    const [sessionRow] = await ctx.database.db
      .select()
      .from(sessions)
      .where(eq(sessions.userId, user.userId));
    assert.ok(sessionRow);

    const response = await remove(user.accessToken, { password: STRONG_PASSWORD });
    assert.equal(response.statusCode, 204, response.body);
    assert.ok(
      response.cookies.some((c) => c.name === ctx.config.cookies.refreshName && c.value === ""),
      "the refresh cookie is cleared",
    );
    const db = ctx.database.db;
    assert.equal((await db.select().from(users).where(eq(users.id, user.userId))).length, 0);
    assert.equal((await db.select().from(sessions).where(eq(sessions.userId, user.userId))).length, 0);
    assert.equal((await db.select().from(backupCodes).where(eq(backupCodes.userId, user.userId))).length, 0);
    assert.equal((await db.select().from(loginThrottles).where(eq(loginThrottles.email, email))).length, 0);
    assert.equal(await ctx.kv.get(revokedSessionKey(sessionRow.id)), "1", "published to the gateway");
    assert.equal((await me(ctx, user.accessToken)).statusCode, 401);

    const event = (await ctx.events()).find((e) => e.topic === "user.deleted.v1" && e.key === user.userId);
    assert.deepEqual(Object.keys(event?.data as object).sort(), ["deletedAt", "userId"]);
    const mail = (await ctx.mails()).find((m) => m.toAddress === email && m.template === "account-deleted");
    assert.ok(mail, "a confirmation mail");

    await register(ctx, email);
    assert.equal((await db.select().from(users).where(eq(users.email, email))).length, 1, "registered again");
  });

  it("needs the password outside the recent-sign-in window, and refuses a wrong one", async () => {
    const session = await signedIn(ctx, "careful@example.com");
    const wrong = await remove(session.accessToken, { password: "not the password at all" });
    assert.equal(wrong.statusCode, 401);
    assert.equal(problem(wrong).code, "INVALID_CURRENT_PASSWORD");
    ctx.clock.advance(WINDOW_MS + 1_000);
    const late = await remove(session.accessToken);
    assert.equal(late.statusCode, 401);
    assert.equal(problem(late).code, "REAUTHENTICATION_REQUIRED");
    const ok = await remove(session.accessToken, { password: STRONG_PASSWORD });
    assert.equal(ok.statusCode, 204, ok.body);
  });

  it("takes no password inside the window, and needs a valid access token", async () => {
    const session = await signedIn(ctx, "quick@example.com");
    assert.equal((await remove("not-a-token")).statusCode, 401);
    assert.equal((await remove(session.accessToken)).statusCode, 204);
    assert.equal(
      (await post(ctx, "login", { email: "quick@example.com", password: STRONG_PASSWORD })).statusCode,
      401,
    );
  });
});
