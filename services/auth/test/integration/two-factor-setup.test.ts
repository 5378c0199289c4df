import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { skipUnless } from "@mimascota/shared/testing/services";
import { backupCodes, twoFactorCredentials } from "../../src/db/schema.ts";
import { revokedSessionKey } from "@mimascota/shared/auth-contract";
import { generateTotp } from "../../src/two-factor/totp.ts";
import { problem, STRONG_PASSWORD, userRow } from "../support/account-helpers.ts";
import { decodeJwt, login, me, signedIn } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import { bearerPost, nextCode, status, twoFactorUser } from "../support/two-factor-helpers.ts";

describe("2FA management endpoints", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx.close());

  it("enable answers a secret, the contract's otpauthUrl and a PNG QR code, sealed at rest and pending", async () => {
    const { userId, accessToken } = await signedIn(ctx, "setup@example.com");
    const response = await bearerPost(ctx, "2fa/enable", accessToken, { password: STRONG_PASSWORD });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers["cache-control"], "no-store");
    const body = response.json<{ secret: string; otpauthUrl: string; qrCode: string }>();
    assert.deepEqual(Object.keys(body).sort(), [
      "backup_codes",
      "message",
      "otpauthUrl",
      "qrCode",
      "qr_code",
      "secret",
    ]);
    assert.match(body.secret, /^[A-Z2-7]{32}$/, "160 bits of base32");
    assert.equal(
      body.otpauthUrl,
      `otpauth://totp/Mi%20Mascota:setup@example.com?secret=${body.secret}&issuer=Mi%20Mascota&algorithm=SHA1&digits=6&period=30`,
    );
    assert.match(body.qrCode, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    const [row] = await ctx.database.db
      .select()
      .from(twoFactorCredentials)
      .where(eq(twoFactorCredentials.userId, userId));
    assert.ok(row);
    assert.equal(row.confirmedAt, null);
    assert.ok(!row.secretSealed.includes(body.secret), "the secret is not stored in clear");
    assert.match(row.secretSealed, /^v1\./);
    assert.deepEqual((await status(ctx, accessToken)).json(), {
      enabled: false,
      pending: true,
      enabledAt: null,
      backupCodesRemaining: 0,
      is_enabled: false,
      two_factor_enabled: false,
      backup_codes_count: 0,
      backup_codes_remaining: 0,
    });
    // Pending is not enabled: the next login still needs only the password.
    assert.ok((await login(ctx, "setup@example.com")).json<{ accessToken?: string }>().accessToken);
  });

  it("a second enable while pending replaces the secret: only the newer one confirms", async () => {
    const { accessToken } = await signedIn(ctx, "again@example.com");
    const first = await bearerPost(ctx, "2fa/enable", accessToken, { password: STRONG_PASSWORD });
    const second = await bearerPost(ctx, "2fa/enable", accessToken, { password: STRONG_PASSWORD });
    const [a, b] = [first.json<{ secret: string }>().secret, second.json<{ secret: string }>().secret];
    assert.notEqual(a, b);
    const stale = await bearerPost(ctx, "2fa/verify-setup", accessToken, {
      code: await generateTotp(a, ctx.clock.now()),
    });
    assert.equal(stale.statusCode, 400);
    assert.equal(problem(stale).code, "INVALID_2FA_CODE");
    const fresh = await bearerPost(ctx, "2fa/verify-setup", accessToken, {
      code: await generateTotp(b, ctx.clock.now()),
    });
    assert.equal(fresh.statusCode, 200, fresh.body);
  });

  it("enable refuses a wrong password (401 INVALID_CURRENT_PASSWORD) and an enabled account (409)", async () => {
    const { accessToken } = await signedIn(ctx, "refuse@example.com");
    const wrong = await bearerPost(ctx, "2fa/enable", accessToken, { password: "not the password at all" });
    assert.equal(wrong.statusCode, 401);
    assert.equal(problem(wrong).code, "INVALID_CURRENT_PASSWORD");
    const user = await twoFactorUser(ctx, "already@example.com");
    const again = await bearerPost(ctx, "2fa/enable", user.accessToken, { password: STRONG_PASSWORD });
    assert.equal(again.statusCode, 409);
    assert.equal(problem(again).code, "TWO_FACTOR_ALREADY_ENABLED");
  });

  it("verify-setup turns 2FA on with 10 distinct backup codes, a mail, an event and the status", async () => {
    const user = await twoFactorUser(ctx, "on@example.com");
    assert.equal(user.backupCodes.length, 10);
    assert.equal(new Set(user.backupCodes).size, 10);
    for (const code of user.backupCodes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
    const row = await userRow(ctx, "on@example.com");
    assert.deepEqual(row.twoFactorEnabledAt, ctx.clock.now());
    const stored = await ctx.database.db.select().from(backupCodes).where(eq(backupCodes.userId, row.id));
    assert.equal(stored.length, 10);
    for (const s of stored) {
      assert.match(s.codeHash, /^\$argon2id\$/);
      assert.ok(!user.backupCodes.some((c) => s.codeHash.includes(c)));
    }
    assert.deepEqual((await status(ctx, user.accessToken)).json(), {
      enabled: true,
      pending: false,
      enabledAt: ctx.clock.now().toISOString(),
      backupCodesRemaining: 10,
      is_enabled: true,
      two_factor_enabled: true,
      backup_codes_count: 10,
      backup_codes_remaining: 10,
    });
    const mail = (await ctx.mails()).find((m) => m.toAddress === "on@example.com");
    assert.equal(mail?.template, "two-factor-enabled");
    const event = (await ctx.events()).find((e) => e.topic === "user.2fa_enabled.v1" && e.key === row.id);
    assert.ok(event, "user.2fa_enabled.v1 in the outbox");
    const serialized = JSON.stringify(event);
    assert.ok(!serialized.includes(user.secret) && !user.backupCodes.some((c) => serialized.includes(c)));
    const profile = await me(ctx, user.accessToken);
    assert.equal(profile.json<{ twoFactorEnabled: boolean }>().twoFactorEnabled, true);
  });

  it("verify-setup refuses a wrong code with 400 INVALID_2FA_CODE and answers 409 when nothing is pending", async () => {
    const { accessToken } = await signedIn(ctx, "pending@example.com");
    const none = await bearerPost(ctx, "2fa/verify-setup", accessToken, { code: "123456" });
    assert.equal(none.statusCode, 409);
    assert.equal(problem(none).code, "TWO_FACTOR_NOT_PENDING");
    const enabled = await bearerPost(ctx, "2fa/enable", accessToken, { password: STRONG_PASSWORD });
    const { secret } = enabled.json<{ secret: string }>();
    const good = await generateTotp(secret, ctx.clock.now());
    const wrong = await bearerPost(ctx, "2fa/verify-setup", accessToken, {
      code: good === "000000" ? "000001" : "000000",
    });
    assert.equal(wrong.statusCode, 400);
    assert.equal(problem(wrong).code, "INVALID_2FA_CODE");
    assert.equal((await bearerPost(ctx, "2fa/verify-setup", accessToken, { code: good })).statusCode, 200);
    const twice = await bearerPost(ctx, "2fa/verify-setup", accessToken, {
      code: await nextCode(ctx, secret),
    });
    assert.equal(twice.statusCode, 409);
    assert.equal(problem(twice).code, "TWO_FACTOR_NOT_PENDING");
  });

  it("enabling ends the user's other sessions at once (database and key-value store) but not the caller's", async () => {
    const first = await signedIn(ctx, "revoke-on@example.com");
    const other = await login(ctx, "revoke-on@example.com");
    const otherToken = other.json<{ accessToken: string }>().accessToken;
    assert.equal((await me(ctx, otherToken)).statusCode, 200);
    const enabled = await bearerPost(ctx, "2fa/enable", first.accessToken, { password: STRONG_PASSWORD });
    const { secret } = enabled.json<{ secret: string }>();
    const confirmed = await bearerPost(ctx, "2fa/verify-setup", first.accessToken, {
      code: await generateTotp(secret, ctx.clock.now()),
    });
    assert.equal(confirmed.statusCode, 200);
    assert.equal((await me(ctx, otherToken)).statusCode, 401);
    assert.equal((await me(ctx, first.accessToken)).statusCode, 200);
    const otherSid = String(decodeJwt(otherToken).payload.sid);
    assert.equal(await ctx.kv.get(revokedSessionKey(otherSid)), "1");
  });

  it("disable needs the password and a code, deletes secret and backup codes, ends other sessions, mails", async () => {
    const user = await twoFactorUser(ctx, "off@example.com");
    const other = await login(ctx, "off@example.com");
    assert.equal(other.statusCode, 200);
    const wrongPassword = await bearerPost(ctx, "2fa/disable", user.accessToken, {
      password: "definitely not it",
      code: await nextCode(ctx, user.secret),
    });
    assert.equal(wrongPassword.statusCode, 401);
    assert.equal(problem(wrongPassword).code, "INVALID_CURRENT_PASSWORD");
    const wrongCode = await bearerPost(ctx, "2fa/disable", user.accessToken, {
      password: STRONG_PASSWORD,
      code: "00000-00000",
    });
    assert.equal(wrongCode.statusCode, 400);
    assert.equal(problem(wrongCode).code, "INVALID_2FA_CODE");
    // A second session, opened through both steps, is ended by the disable.
    const token = other.json<{ twoFactorToken: string }>().twoFactorToken;
    const second = await bearerPost(ctx, "login/2fa", "", {
      twoFactorToken: token,
      code: await nextCode(ctx, user.secret),
    });
    assert.equal(second.statusCode, 200, second.body);
    const secondAccess = second.json<{ accessToken: string }>().accessToken;
    const off = await bearerPost(ctx, "2fa/disable", user.accessToken, {
      password: STRONG_PASSWORD,
      code: await nextCode(ctx, user.secret),
    });
    assert.equal(off.statusCode, 200, off.body);
    assert.deepEqual(off.json(), {
      enabled: false,
      two_factor_enabled: false,
      message: "Verificación en dos pasos desactivada.",
    });
    assert.equal((await me(ctx, secondAccess)).statusCode, 401);
    assert.equal((await me(ctx, user.accessToken)).statusCode, 200);
    const rows = await ctx.database.db
      .select()
      .from(twoFactorCredentials)
      .where(eq(twoFactorCredentials.userId, user.userId));
    assert.equal(rows.length, 0);
    const codes = await ctx.database.db.select().from(backupCodes).where(eq(backupCodes.userId, user.userId));
    assert.equal(codes.length, 0);
    assert.deepEqual((await status(ctx, user.accessToken)).json(), {
      enabled: false,
      pending: false,
      enabledAt: null,
      backupCodesRemaining: 0,
      is_enabled: false,
      two_factor_enabled: false,
      backup_codes_count: 0,
      backup_codes_remaining: 0,
    });
    assert.equal((await ctx.mails())[0]?.template, "two-factor-disabled");
    assert.ok((await ctx.events()).some((e) => e.topic === "user.2fa_disabled.v1" && e.key === user.userId));
    assert.ok((await login(ctx, "off@example.com")).json<{ accessToken?: string }>().accessToken);
  });

  it("disable accepts a backup code (a lost phone) and answers 409 TWO_FACTOR_NOT_ENABLED when off", async () => {
    const user = await twoFactorUser(ctx, "lost-phone@example.com");
    const off = await bearerPost(ctx, "2fa/disable", user.accessToken, {
      password: STRONG_PASSWORD,
      code: user.backupCodes[3]?.toUpperCase().replace("-", " "),
    });
    assert.equal(off.statusCode, 200, off.body);
    const again = await bearerPost(ctx, "2fa/disable", user.accessToken, {
      password: STRONG_PASSWORD,
      code: await nextCode(ctx, user.secret),
    });
    assert.equal(again.statusCode, 409);
    assert.equal(problem(again).code, "TWO_FACTOR_NOT_ENABLED");
  });

  it("regenerate-backup-codes returns 10 new codes and voids the old set; a wrong code is a 400", async () => {
    const user = await twoFactorUser(ctx, "regen@example.com");
    const wrong = await bearerPost(ctx, "2fa/regenerate-backup-codes", user.accessToken, {
      code: "99999-99999",
    });
    assert.equal(wrong.statusCode, 400);
    assert.equal(problem(wrong).code, "INVALID_2FA_CODE");
    const response = await bearerPost(ctx, "2fa/regenerate-backup-codes", user.accessToken, {
      code: await nextCode(ctx, user.secret),
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers["cache-control"], "no-store");
    const fresh = response.json<{ backupCodes: string[] }>().backupCodes;
    assert.equal(fresh.length, 10);
    assert.ok(fresh.every((c) => !user.backupCodes.includes(c)));
    assert.equal(
      (await status(ctx, user.accessToken)).json<{ backupCodesRemaining: number }>().backupCodesRemaining,
      10,
    );
    const old = await bearerPost(ctx, "2fa/regenerate-backup-codes", user.accessToken, {
      code: user.backupCodes[0],
    });
    assert.equal(old.statusCode, 400, "an old code no longer works");
    const usingNew = await bearerPost(ctx, "2fa/regenerate-backup-codes", user.accessToken, {
      code: fresh[0],
    });
    assert.equal(usingNew.statusCode, 200, usingNew.body);
  });

  it("wrong passwords on enable, disable and change-password share one limit per user; then 429 even for the right one", async () => {
    const user = await twoFactorUser(ctx, "adivino@example.com");
    const wrong = (i: number) => {
      const password = `not my password ${i}`;
      if (i % 3 === 0) return bearerPost(ctx, "2fa/enable", user.accessToken, { password });
      if (i % 3 === 1) return bearerPost(ctx, "2fa/disable", user.accessToken, { password, code: "123456" });
      return bearerPost(ctx, "change-password", user.accessToken, {
        currentPassword: password,
        newPassword: "cometa naranja sobre el tejado",
      });
    };
    for (let i = 0; i < ctx.config.lockout.threshold; i++) {
      const response = await wrong(i);
      assert.equal(problem(response).code, "INVALID_CURRENT_PASSWORD", `attempt ${i + 1}`);
    }
    const blocked = await bearerPost(ctx, "2fa/disable", user.accessToken, {
      password: STRONG_PASSWORD,
      code: await nextCode(ctx, user.secret),
    });
    assert.equal(blocked.statusCode, 429, blocked.body);
    assert.equal(problem(blocked).code, "TOO_MANY_ATTEMPTS");
    assert.equal(blocked.headers["retry-after"], String(ctx.config.lockout.windowMs / 1000));
    assert.equal((await status(ctx, user.accessToken)).json<{ enabled: boolean }>().enabled, true);
  });

  it("every 2FA endpoint but the login step needs a bearer token", async () => {
    for (const path of ["2fa/enable", "2fa/verify-setup", "2fa/disable", "2fa/regenerate-backup-codes"]) {
      const response = await ctx.app.inject({ method: "POST", url: `/api/v1/auth/${path}`, payload: {} });
      assert.equal(response.statusCode, 401, path);
      assert.equal(problem(response).code, "UNAUTHORIZED");
    }
    const statusResponse = await ctx.app.inject({ method: "GET", url: "/api/v1/auth/2fa/status" });
    assert.equal(statusResponse.statusCode, 401);
  });

  it("the OpenAPI document lists every 2FA endpoint with its error codes", async () => {
    const doc = (await ctx.app.inject({ method: "GET", url: "/openapi.json" })).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>();
    const codesOf = (path: string, method: string, status: string) =>
      JSON.stringify(doc.paths[`/api/v1/auth/${path}`]?.[method]?.responses[status] ?? {});
    const expected: [string, string, string, string][] = [
      ["2fa/enable", "post", "401", "INVALID_CURRENT_PASSWORD"],
      ["2fa/enable", "post", "409", "TWO_FACTOR_ALREADY_ENABLED"],
      ["2fa/enable", "post", "429", "TOO_MANY_ATTEMPTS"],
      ["2fa/verify-setup", "post", "400", "INVALID_2FA_CODE"],
      ["2fa/verify-setup", "post", "409", "TWO_FACTOR_NOT_PENDING"],
      ["2fa/verify-setup", "post", "429", "TOO_MANY_ATTEMPTS"],
      ["2fa/disable", "post", "400", "INVALID_2FA_CODE"],
      ["2fa/disable", "post", "401", "INVALID_CURRENT_PASSWORD"],
      ["2fa/disable", "post", "429", "TOO_MANY_ATTEMPTS"],
      ["2fa/regenerate-backup-codes", "post", "400", "INVALID_2FA_CODE"],
      ["2fa/status", "get", "401", "UNAUTHORIZED"],
      ["login/2fa", "post", "401", "INVALID_2FA_CODE"],
      ["login/2fa", "post", "401", "INVALID_2FA_TOKEN"],
      ["login/2fa", "post", "429", "TOO_MANY_ATTEMPTS"],
      ["login/2fa", "post", "400", "VALIDATION_ERROR"],
    ];
    for (const [path, method, status, code] of expected) {
      assert.ok(codesOf(path, method, status).includes(code), `${method} ${path} ${status} ${code}`);
    }
  });
});
