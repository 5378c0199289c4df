import assert from "node:assert/strict";
import { beforeEach, it } from "node:test";
import { eq } from "drizzle-orm";
import { hashToken } from "../../src/crypto/opaque-token.ts";
import { refreshTokens, sessions } from "../../src/db/schema.ts";
import { problem } from "../support/account-helpers.ts";
import { decodeJwt, me, refresh, refreshCookie, signedIn } from "../support/session-helpers.ts";
import { describeOnEachDatabase, type AuthTestContext } from "../support/test-app.ts";

const DAY = 86400_000;

async function tokenRow(ctx: AuthTestContext, token: string) {
  const [row] = await ctx.database.db
    .select()
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hashToken(token)));
  return row;
}

async function sessionOf(ctx: AuthTestContext, token: string) {
  const row = await tokenRow(ctx, token);
  const [session] = await ctx.database.db.select().from(sessions).where(eq(sessions.id, row!.sessionId));
  return session!;
}

/** Refreshes and returns the new refresh token. */
async function rotate(ctx: AuthTestContext, token: string): Promise<string> {
  const response = await refresh(ctx, token);
  assert.equal(response.statusCode, 200, response.body);
  return refreshCookie(ctx, response).value;
}

// The rotation is one hand-written statement: it runs on the PostgreSQL server and on embedded PGlite alike.
await describeOnEachDatabase("POST /refresh", { ACCOUNT_RESPONSE_FLOOR_MS: "0" }, (context) => {
  let ctx: AuthTestContext;
  beforeEach(() => {
    ctx = context();
  });

  it("rotates the token: a new cookie, a new access token for the same session, the old one marked rotated", async () => {
    const { refreshToken, accessToken } = await signedIn(ctx, "rotate@example.com");
    ctx.clock.advance(60_000);
    const response = await refresh(ctx, refreshToken);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers["cache-control"], "no-store");
    const body = response.json<{ accessToken: string; tokenType: string; expiresIn: number }>();
    assert.deepEqual(Object.keys(body).sort(), [
      "accessToken",
      "access_token",
      "expiresIn",
      "tokenType",
      "token_type",
    ]);
    assert.equal(body.tokenType, "Bearer");
    assert.equal(decodeJwt(body.accessToken).payload.sid, decodeJwt(accessToken).payload.sid);
    const cookie = refreshCookie(ctx, response);
    assert.notEqual(cookie.value, refreshToken);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Strict");
    assert.equal(cookie.path, "/api/v1/auth");
    assert.equal(cookie.maxAge, 14 * 86400);
    const old = await tokenRow(ctx, refreshToken);
    const next = await tokenRow(ctx, cookie.value);
    assert.deepEqual(old?.rotatedAt, ctx.clock.now());
    assert.equal(next?.parentId, old?.id);
    assert.equal(next?.sessionId, old?.sessionId);
    assert.deepEqual(next?.createdAt, ctx.clock.now());
    assert.deepEqual(next?.expiresAt, new Date(ctx.clock.now().getTime() + 14 * DAY));
    assert.deepEqual(
      (await sessionOf(ctx, refreshToken)).lastUsedAt,
      ctx.clock.now(),
      "the session is touched",
    );
    assert.equal((await me(ctx, body.accessToken)).statusCode, 200);
  });

  it("rotates exactly once under 20 parallel refreshes with one token; the others are STALE", async () => {
    const { refreshToken } = await signedIn(ctx, "race@example.com");
    const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(ctx, refreshToken)));
    const ok = responses.filter((r) => r.statusCode === 200);
    assert.equal(ok.length, 1, responses.map((r) => r.statusCode).join(","));
    for (const r of responses.filter((x) => x.statusCode !== 200)) {
      assert.equal(r.statusCode, 401);
      assert.equal(problem(r).code, "REFRESH_TOKEN_STALE");
    }
    const session = await sessionOf(ctx, refreshToken);
    assert.equal(session.revokedAt, null, "a race within the grace window revokes nothing");
    const family = await ctx.database.db
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.sessionId, session.id));
    assert.equal(family.length, 2, "one new token, not one per racing request");
    assert.equal(
      (await refresh(ctx, refreshCookie(ctx, ok[0]!).value)).statusCode,
      200,
      "the winner's token works",
    );
  });

  it("answers STALE within the 10 s grace window and revokes nothing", async () => {
    const { refreshToken } = await signedIn(ctx, "grace@example.com");
    const next = await rotate(ctx, refreshToken);
    ctx.clock.advance(10_000);
    const stale = await refresh(ctx, refreshToken);
    assert.equal(stale.statusCode, 401);
    assert.equal(problem(stale).code, "REFRESH_TOKEN_STALE");
    assert.equal((await sessionOf(ctx, refreshToken)).revokedAt, null);
    assert.equal((await refresh(ctx, next)).statusCode, 200, "the newer token still works");
  });

  it("revokes the whole family on reuse after the grace window, with an event and a revocation key", async () => {
    const { refreshToken, userId, accessToken } = await signedIn(ctx, "reuse@example.com");
    const second = await rotate(ctx, refreshToken);
    ctx.clock.advance(11_000);
    const third = await rotate(ctx, second);
    const reused = await refresh(ctx, refreshToken);
    assert.equal(reused.statusCode, 401);
    assert.equal(problem(reused).code, "REFRESH_TOKEN_REUSED");
    const session = await sessionOf(ctx, refreshToken);
    assert.ok(session.revokedAt, "the session is revoked");
    assert.equal(session.revokedReason, "refresh_token_reused");
    const descendant = await refresh(ctx, third);
    assert.equal(descendant.statusCode, 401, "the newest token of the family is dead too");
    assert.equal(problem(descendant).code, "INVALID_REFRESH_TOKEN");
    assert.equal((await me(ctx, accessToken)).statusCode, 401, "and so are its access tokens");
    assert.equal(await ctx.kv.get(`revoked-session:${session.id}`), "1");
    const events = (await ctx.events()).filter(
      (e) => e.topic === "auth.refresh_token_reused.v1" && e.key === userId,
    );
    assert.equal(events.length, 1);
    const data = JSON.stringify(events[0]!.data);
    assert.ok(data.includes(session.id));
    for (const secret of [refreshToken, second, third, hashToken(refreshToken)])
      assert.ok(!data.includes(secret));
    const metrics = await ctx.app.inject({ method: "GET", url: "/metrics" });
    assert.match(metrics.body, /^auth_refresh_token_reuse_total [1-9]/m);
  });

  it("refuses a token idle for 14 days with INVALID_REFRESH_TOKEN", async () => {
    const { refreshToken } = await signedIn(ctx, "idle@example.com");
    ctx.clock.advance(14 * DAY - 1000);
    const next = await rotate(ctx, refreshToken);
    ctx.clock.advance(14 * DAY);
    const response = await refresh(ctx, next);
    assert.equal(response.statusCode, 401);
    assert.equal(problem(response).code, "INVALID_REFRESH_TOKEN");
  });

  it("ends the session 30 days after login however actively it is refreshed", async () => {
    const { refreshToken } = await signedIn(ctx, "absolute@example.com");
    let token = refreshToken;
    for (const _week of [1, 2, 3]) {
      ctx.clock.advance(7 * DAY);
      token = await rotate(ctx, token);
    }
    ctx.clock.advance(7 * DAY);
    // 28 days in: the cookie's lifetime is capped by the session's absolute end.
    const response = await refresh(ctx, token);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(refreshCookie(ctx, response).maxAge, 2 * 86400);
    ctx.clock.advance(2 * DAY);
    const expired = await refresh(ctx, refreshCookie(ctx, response).value);
    assert.equal(expired.statusCode, 401);
    assert.equal(problem(expired).code, "INVALID_REFRESH_TOKEN");
  });

  it("refuses a revoked session's token with INVALID_REFRESH_TOKEN", async () => {
    const { refreshToken } = await signedIn(ctx, "revoked@example.com");
    const session = await sessionOf(ctx, refreshToken);
    await ctx.database.db
      .update(sessions)
      .set({ revokedAt: ctx.clock.now() })
      .where(eq(sessions.id, session.id));
    const response = await refresh(ctx, refreshToken);
    assert.equal(response.statusCode, 401);
    assert.equal(problem(response).code, "INVALID_REFRESH_TOKEN");
  });

  it("refuses a missing or unknown cookie with INVALID_REFRESH_TOKEN", async () => {
    for (const token of [undefined, "unknown-token", "' or 1=1 --", "x".repeat(4000)]) {
      const response = await refresh(ctx, token);
      assert.equal(response.statusCode, 401, String(token));
      assert.equal(problem(response).code, "INVALID_REFRESH_TOKEN");
    }
  });

  it("refuses a cross-site Origin or Sec-Fetch-Site before consuming the token", async () => {
    const { refreshToken } = await signedIn(ctx, "csrf@example.com");
    const attempts: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
      { origin: "http://localhost:3000", "sec-fetch-site": "cross-site" },
    ];
    for (const headers of attempts) {
      const response = await refresh(ctx, refreshToken, headers);
      assert.equal(response.statusCode, 403, JSON.stringify(headers));
      assert.equal(problem(response).code, "CROSS_SITE_REQUEST");
      assert.equal(response.headers["set-cookie"], undefined);
    }
    assert.equal((await tokenRow(ctx, refreshToken))?.rotatedAt, null, "the token was not touched");
    const allowed = await refresh(ctx, refreshToken, {
      origin: "http://localhost:3000",
      "sec-fetch-site": "same-origin",
    });
    assert.equal(allowed.statusCode, 200, "the owner's next refresh still works");
  });
});
