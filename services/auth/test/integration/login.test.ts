import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { skipUnless } from "@mimascota/shared/testing/services";
import { hashToken } from "../../src/crypto/opaque-token.ts";
import { PasswordHasher } from "../../src/crypto/password-hasher.ts";
import { refreshTokens, sessions, twoFactorChallenges, users } from "../../src/db/schema.ts";
import { problem, register, STRONG_PASSWORD, userRow, verifiedUser } from "../support/account-helpers.ts";
import { decodeJwt, login, me, refreshCookie } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

describe("POST /login", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx.close());

  it("answers a verified account with an EdDSA at+jwt access token, the user and no-store", async () => {
    const user = await verifiedUser(ctx, "ok@example.com");
    const response = await login(ctx, "  OK@Example.com ", STRONG_PASSWORD, {
      "user-agent": "test-agent/1.0",
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers["cache-control"], "no-store");
    const body = response.json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(body).sort(), [
      "accessToken",
      "access_token",
      "expiresIn",
      "tokenType",
      "token_type",
      "user",
    ]);
    assert.equal(body.access_token, body.accessToken);
    assert.equal(body.tokenType, "Bearer");
    assert.equal(body.expiresIn, 900);
    assert.deepEqual(body.user, {
      id: user.id,
      email: "ok@example.com",
      fullName: null,
      emailVerified: true,
      twoFactorEnabled: false,
      createdAt: user.createdAt.toISOString(),
    });
    const { header, payload } = decodeJwt(body.accessToken as string);
    assert.equal(header.alg, "EdDSA");
    assert.equal(header.typ, "at+jwt");
    assert.equal(typeof header.kid, "string");
    const now = Math.floor(ctx.clock.now().getTime() / 1000);
    assert.equal(payload.iss, ctx.config.accessTokens.issuer);
    assert.equal(payload.aud, ctx.config.accessTokens.audience);
    assert.equal(payload.sub, user.id);
    assert.equal(payload.iat, now);
    assert.equal(payload.exp, now + 900);
    assert.deepEqual(payload.amr, ["pwd"]);
    assert.match(String(payload.jti), /^[0-9a-f-]{36}$/);
    const [session] = await ctx.database.db
      .select()
      .from(sessions)
      .where(eq(sessions.id, String(payload.sid)));
    assert.equal(session?.userId, user.id);
    assert.equal(session?.userAgent, "test-agent/1.0");
    assert.equal(session?.ip, "127.0.0.1");
    assert.deepEqual(session?.expiresAt, new Date(ctx.clock.now().getTime() + 30 * 86400_000));
  });

  it("sets the refresh cookie HttpOnly, SameSite=Strict, Secure, on /api/v1/auth, for the token's lifetime", async () => {
    await verifiedUser(ctx, "cookie@example.com");
    const response = await login(ctx, "cookie@example.com");
    const cookie = refreshCookie(ctx, response);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, "Strict");
    assert.equal(cookie.path, "/api/v1/auth");
    assert.equal(cookie.maxAge, 14 * 86400);
    assert.ok(Buffer.from(cookie.value, "base64url").length >= 32, "at least 256 random bits");
    const [stored] = await ctx.database.db
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, hashToken(cookie.value)));
    assert.ok(stored, "only the digest is stored");
    assert.deepEqual(stored.expiresAt, new Date(ctx.clock.now().getTime() + 14 * 86400_000));
  });

  it("opens one session per login, each with a working access token", async () => {
    const user = await verifiedUser(ctx, "twice@example.com");
    const first = await login(ctx, "twice@example.com");
    const second = await login(ctx, "twice@example.com");
    const rows = await ctx.database.db.select().from(sessions).where(eq(sessions.userId, user.id));
    assert.equal(rows.length, 2);
    for (const response of [first, second]) {
      assert.equal((await me(ctx, response.json<{ accessToken: string }>().accessToken)).statusCode, 200);
    }
  });

  it("refuses a wrong password with 401 INVALID_CREDENTIALS", async () => {
    await verifiedUser(ctx, "wrong@example.com");
    const response = await login(ctx, "wrong@example.com", "not the right password at all");
    assert.equal(response.statusCode, 401);
    assert.equal(problem(response).code, "INVALID_CREDENTIALS");
    assert.equal(response.headers["set-cookie"], undefined);
  });

  it("answers EMAIL_NOT_VERIFIED only after a correct password", async () => {
    await register(ctx, "unverified@example.com");
    const right = await login(ctx, "unverified@example.com");
    assert.equal(right.statusCode, 403);
    assert.equal(problem(right).code, "EMAIL_NOT_VERIFIED");
    assert.equal(right.headers["set-cookie"], undefined);
    const wrong = await login(ctx, "unverified@example.com", "not the right password at all");
    assert.equal(wrong.statusCode, 401);
    assert.equal(problem(wrong).code, "INVALID_CREDENTIALS");
  });

  it("asks for the second factor instead of issuing tokens when 2FA is on", async () => {
    const user = await verifiedUser(ctx, "twofactor@example.com");
    await ctx.database.db
      .update(users)
      .set({ twoFactorEnabledAt: ctx.clock.now() })
      .where(eq(users.id, user.id));
    const response = await login(ctx, "twofactor@example.com");
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json<{ twoFactorRequired: boolean; twoFactorToken: string; expiresIn: number }>();
    assert.deepEqual(Object.keys(body).sort(), [
      "expiresIn",
      "message",
      "requires_2fa",
      "temp_session_id",
      "twoFactorRequired",
      "twoFactorToken",
    ]);
    assert.equal(body.twoFactorRequired, true);
    assert.equal(body.expiresIn, 300);
    assert.equal(response.headers["set-cookie"], undefined, "no refresh cookie before the second factor");
    assert.equal(
      (await ctx.database.db.select().from(sessions).where(eq(sessions.userId, user.id))).length,
      0,
    );
    const [challenge] = await ctx.database.db
      .select()
      .from(twoFactorChallenges)
      .where(eq(twoFactorChallenges.tokenHash, hashToken(body.twoFactorToken)));
    assert.equal(challenge?.userId, user.id);
    assert.deepEqual(challenge?.expiresAt, new Date(ctx.clock.now().getTime() + 300_000));
  });

  it("upgrades a hash made with weaker argon2 parameters on a successful login", async () => {
    const user = await verifiedUser(ctx, "rehash@example.com");
    const weak = new PasswordHasher({ memoryCost: 8192, timeCost: 1, parallelism: 1 });
    await ctx.database.db
      .update(users)
      .set({ passwordHash: await weak.hash(STRONG_PASSWORD) })
      .where(eq(users.id, user.id));
    assert.equal((await login(ctx, "rehash@example.com")).statusCode, 200);
    const after = await userRow(ctx, "rehash@example.com");
    assert.match(after.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(after.passwordChangedAt, user.passwordChangedAt, "a rehash is not a password change");
    assert.equal((await login(ctx, "rehash@example.com")).statusCode, 200, "the same password still works");
  });

  it("ignores mass-assignment fields in the body", async () => {
    await register(ctx, "massassign@example.com");
    const response = await ctx.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: {
        email: "massassign@example.com",
        password: STRONG_PASSWORD,
        emailVerified: true,
        amr: ["otp"],
      },
    });
    assert.equal(response.statusCode, 403);
    assert.equal(problem(response).code, "EMAIL_NOT_VERIFIED");
  });
});

describe("refresh cookie settings", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({
      env: { ACCOUNT_RESPONSE_FLOOR_MS: "0", REFRESH_COOKIE_NAME: "mm_rt", COOKIE_SECURE: "false" },
    });
  });
  after(() => ctx.close());

  it("uses the configured cookie name and leaves out Secure only when told to", async () => {
    await verifiedUser(ctx, "local-dev@example.com");
    const response = await login(ctx, "local-dev@example.com");
    const cookie = refreshCookie(ctx, response);
    assert.equal(cookie.name, "mm_rt");
    assert.equal(cookie.secure, undefined);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Strict");
    const refreshed = await ctx.app.inject({
      method: "POST",
      url: "/api/v1/auth/refresh",
      cookies: { mm_rt: cookie.value },
    });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
  });
});
