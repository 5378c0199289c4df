import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { generateKeyPair, SignJWT } from "jose";
import { skipUnless } from "@mimascota/shared/testing/services";
import { hashToken } from "../../src/crypto/opaque-token.ts";
import { refreshTokens, sessions, users } from "../../src/db/schema.ts";
import { problem } from "../support/account-helpers.ts";
import { decodeJwt, logout, me, refresh, refreshCookie, signedIn } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

async function sessionIdOf(ctx: AuthTestContext, refreshToken: string): Promise<string> {
  const [row] = await ctx.database.db
    .select({ sessionId: refreshTokens.sessionId })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hashToken(refreshToken)));
  return row!.sessionId;
}

describe("POST /logout and GET /me", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx.close());

  it("logout revokes the session, clears the cookie with the same attributes and publishes the revocation", async () => {
    const { refreshToken, accessToken } = await signedIn(ctx, "logout@example.com");
    const sessionId = await sessionIdOf(ctx, refreshToken);
    const response = await logout(ctx, refreshToken);
    assert.equal(response.statusCode, 204);
    assert.equal(response.body, "");
    const cookie = refreshCookie(ctx, response);
    assert.equal(cookie.value, "");
    assert.equal(cookie.maxAge, 0);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, "Strict");
    assert.equal(cookie.path, "/api/v1/auth");
    const [session] = await ctx.database.db.select().from(sessions).where(eq(sessions.id, sessionId));
    assert.ok(session?.revokedAt);
    assert.equal(session?.revokedReason, "logout");
    assert.equal(await ctx.kv.get(`revoked-session:${sessionId}`), "1");
    assert.equal((await me(ctx, accessToken)).statusCode, 401, "the access token dies with the session");
    const again = await refresh(ctx, refreshToken);
    assert.equal(problem(again).code, "INVALID_REFRESH_TOKEN");
  });

  it("keeps the revocation key for the access token lifetime plus a minute", async () => {
    const { refreshToken } = await signedIn(ctx, "kvttl@example.com");
    const sessionId = await sessionIdOf(ctx, refreshToken);
    await logout(ctx, refreshToken);
    ctx.clock.advance((900 + 59) * 1000);
    assert.equal(await ctx.kv.get(`revoked-session:${sessionId}`), "1");
    ctx.clock.advance(2000);
    assert.equal(await ctx.kv.get(`revoked-session:${sessionId}`), null);
  });

  it("is idempotent: 204 again with the same cookie, with an unknown cookie and with none", async () => {
    const { refreshToken } = await signedIn(ctx, "idem@example.com");
    assert.equal((await logout(ctx, refreshToken)).statusCode, 204);
    for (const token of [refreshToken, "unknown", undefined]) {
      const response = await logout(ctx, token);
      assert.equal(response.statusCode, 204, String(token));
      assert.equal(refreshCookie(ctx, response).maxAge, 0);
    }
  });

  it("logout refuses a cross-site request and leaves the session alone", async () => {
    const { refreshToken } = await signedIn(ctx, "logout-csrf@example.com");
    const response = await logout(ctx, refreshToken, { origin: "https://evil.example" });
    assert.equal(response.statusCode, 403);
    assert.equal(problem(response).code, "CROSS_SITE_REQUEST");
    assert.equal((await refresh(ctx, refreshToken)).statusCode, 200);
  });

  it("me answers the contract's user with a private 5-minute cache header", async () => {
    const { accessToken, userId } = await signedIn(ctx, "me@example.com");
    const response = await me(ctx, accessToken);
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers["cache-control"], "private, max-age=300");
    const body = response.json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(body).sort(), [
      "createdAt",
      "email",
      "emailVerified",
      "fullName",
      "id",
      "twoFactorEnabled",
    ]);
    assert.equal(body.id, userId);
    assert.equal(body.email, "me@example.com");
  });

  it("me refuses missing, malformed, forged, expired and revoked tokens with 401 UNAUTHORIZED", async () => {
    const { accessToken, refreshToken } = await signedIn(ctx, "me-401@example.com");
    const noToken = await ctx.app.inject({ method: "GET", url: "/api/v1/auth/me" });
    assert.equal(noToken.statusCode, 401);
    assert.equal(problem(noToken).code, "UNAUTHORIZED");
    assert.equal(noToken.headers["www-authenticate"], "Bearer");
    const [h, p, s] = accessToken.split(".");
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...decodeJwt(accessToken).payload, sub: crypto.randomUUID() }),
    ).toString("base64url");
    const { privateKey } = await generateKeyPair("EdDSA");
    const otherKey = await new SignJWT(decodeJwt(accessToken).payload)
      .setProtectedHeader(decodeJwt(accessToken).header as { alg: string })
      .sign(privateKey);
    const wrongType = await new SignJWT(decodeJwt(accessToken).payload)
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: String(decodeJwt(accessToken).header.kid) })
      .sign(privateKey);
    for (const bad of [
      "garbage",
      `${h}.${forgedPayload}.${s}`,
      `${h}.${p}.`,
      otherKey,
      wrongType,
      `${h}.${p}.${s}x`,
    ]) {
      const response = await me(ctx, bad);
      assert.equal(response.statusCode, 401, bad);
      assert.equal(problem(response).code, "UNAUTHORIZED");
    }
    ctx.clock.advance(900_000);
    assert.equal((await me(ctx, accessToken)).statusCode, 401, "expired at exp");
    ctx.clock.advance(-900_000);
    assert.equal((await me(ctx, accessToken)).statusCode, 200);
    const sessionId = await sessionIdOf(ctx, refreshToken);
    await ctx.database.db
      .update(sessions)
      .set({ revokedAt: ctx.clock.now() })
      .where(eq(sessions.id, sessionId));
    const revoked = await me(ctx, accessToken);
    assert.equal(revoked.statusCode, 401, "a revoked session's token is refused before it expires");
    assert.equal(revoked.headers["www-authenticate"], 'Bearer error="invalid_token"');
  });

  it("me refuses a token whose user was deleted", async () => {
    const { accessToken, userId } = await signedIn(ctx, "deleted@example.com");
    await ctx.database.db.delete(users).where(eq(users.id, userId));
    assert.equal((await me(ctx, accessToken)).statusCode, 401);
  });
});
