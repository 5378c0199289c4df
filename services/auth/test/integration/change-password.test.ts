import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { hash, type Algorithm } from "@node-rs/argon2";
import { eq } from "drizzle-orm";
import { skipUnless } from "@mimascota/shared/testing/services";
import { PasswordHasher } from "../../src/crypto/password-hasher.ts";
import { users } from "../../src/db/schema.ts";
import {
  OTHER_STRONG_PASSWORD,
  post,
  problem,
  STRONG_PASSWORD,
  tokenFromMail,
  userRow,
  verifiedUser,
} from "../support/account-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

const hasher = new PasswordHasher({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

describe("POST /change-password", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx.close());

  async function login(email: string, password = STRONG_PASSWORD): Promise<string> {
    const response = await post(ctx, "login", { email, password });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ accessToken: string }>().accessToken;
  }
  const me = (token: string) =>
    ctx.app.inject({ method: "GET", url: "/api/v1/auth/me", headers: { authorization: `Bearer ${token}` } });
  const change = (token: string | undefined, body: unknown) =>
    post(ctx, "change-password", body, token ? { authorization: `Bearer ${token}` } : {});

  it("changes the password, keeps the current session and ends the user's other sessions", async () => {
    const user = await verifiedUser(ctx, "changer@example.com");
    const current = await login("changer@example.com");
    const other = await login("changer@example.com");
    const response = await change(current, {
      currentPassword: STRONG_PASSWORD,
      newPassword: OTHER_STRONG_PASSWORD,
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(Object.keys(response.json()), ["message"]);
    assert.equal((await me(current)).statusCode, 200, "the session that changed it lives on");
    assert.equal((await me(other)).statusCode, 401, "other sessions end at once");
    const claims = JSON.parse(Buffer.from(other.split(".")[1]!, "base64url").toString()) as { sid: string };
    const otherSid = claims.sid;
    assert.equal(await ctx.kv.get(`revoked-session:${otherSid}`), "1", "the gateway is told");
    assert.equal(
      (await post(ctx, "login", { email: "changer@example.com", password: STRONG_PASSWORD })).statusCode,
      401,
    );
    await login("changer@example.com", OTHER_STRONG_PASSWORD);

    const event = (await ctx.events()).find(
      (e) => e.topic === "user.password_changed.v1" && e.key === user.id,
    );
    assert.ok(event);
    const row = await userRow(ctx, "changer@example.com");
    const json = JSON.stringify(event.data);
    for (const secret of [STRONG_PASSWORD, OTHER_STRONG_PASSWORD, row.passwordHash])
      assert.ok(!json.includes(secret));
    const notice = (await ctx.mails()).find(
      (m) => m.toAddress === "changer@example.com" && m.template === "password-changed",
    );
    assert.ok(notice, "the owner is notified by mail");
  });

  it("refuses a wrong current password with 401 INVALID_CURRENT_PASSWORD and changes nothing", async () => {
    await verifiedUser(ctx, "wrong-current@example.com");
    const token = await login("wrong-current@example.com");
    const before = await userRow(ctx, "wrong-current@example.com");
    const response = await change(token, {
      currentPassword: "not the password at all",
      newPassword: OTHER_STRONG_PASSWORD,
    });
    assert.equal(response.statusCode, 401);
    assert.equal(problem(response).code, "INVALID_CURRENT_PASSWORD");
    assert.equal((await userRow(ctx, "wrong-current@example.com")).passwordHash, before.passwordHash);
    assert.equal((await me(token)).statusCode, 200, "a wrong current password does not end the session");
  });

  it("refuses a weak new password with 400 WEAK_PASSWORD and its reason", async () => {
    await verifiedUser(ctx, "weak-change@example.com");
    const token = await login("weak-change@example.com");
    for (const [newPassword, reason] of [
      ["short", /al menos 12/],
      ["weak-change-is-me", /dirección de correo/],
      ["mimascota rocks 2024", /nombre del producto/],
    ] as const) {
      const response = await change(token, { currentPassword: STRONG_PASSWORD, newPassword });
      assert.equal(response.statusCode, 400);
      assert.equal(problem(response).code, "WEAK_PASSWORD");
      assert.match(problem(response).detail, reason);
    }
  });

  it("needs a valid bearer token", async () => {
    const body = { currentPassword: STRONG_PASSWORD, newPassword: OTHER_STRONG_PASSWORD };
    for (const token of [undefined, "garbage", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."]) {
      const response = await change(token, body);
      assert.equal(response.statusCode, 401);
      assert.equal(problem(response).code, "UNAUTHORIZED");
    }
  });

  it("accepts a current password stored with old argon2 parameters and stores the new one with today's", async () => {
    await verifiedUser(ctx, "oldhash@example.com");
    const token = await login("oldhash@example.com");
    // After login (which itself upgrades hashes): an old hash made with weaker parameters.
    const weak = await hash(STRONG_PASSWORD, {
      algorithm: 2 as Algorithm,
      memoryCost: 8192,
      timeCost: 1,
      parallelism: 1,
    });
    await ctx.database.db
      .update(users)
      .set({ passwordHash: weak })
      .where(eq(users.email, "oldhash@example.com"));
    const response = await change(token, {
      currentPassword: STRONG_PASSWORD,
      newPassword: OTHER_STRONG_PASSWORD,
    });
    assert.equal(response.statusCode, 200);
    const row = await userRow(ctx, "oldhash@example.com");
    assert.match(row.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok(await hasher.verify(row.passwordHash, OTHER_STRONG_PASSWORD));
  });

  it("voids a reset link sent before the change, so it cannot undo it", async () => {
    await verifiedUser(ctx, "reset-then-change@example.com");
    const token = await login("reset-then-change@example.com");
    assert.equal(
      (await post(ctx, "forgot-password", { email: "reset-then-change@example.com" })).statusCode,
      202,
    );
    const link = await tokenFromMail(ctx, "reset-then-change@example.com", "reset-password");
    const changed = await change(token, {
      currentPassword: STRONG_PASSWORD,
      newPassword: OTHER_STRONG_PASSWORD,
    });
    assert.equal(changed.statusCode, 200, changed.body);
    const reset = await post(ctx, "reset-password", { token: link, newPassword: "un pez rojo en la pecera" });
    assert.equal(reset.statusCode, 400);
    assert.equal(problem(reset).code, "INVALID_TOKEN");
    const row = await userRow(ctx, "reset-then-change@example.com");
    assert.ok(await hasher.verify(row.passwordHash, OTHER_STRONG_PASSWORD), "the changed password stands");
  });

  it("ignores mass-assignment fields and refuses malformed input with VALIDATION_ERROR", async () => {
    const user = await verifiedUser(ctx, "mass-change@example.com");
    const token = await login("mass-change@example.com");
    const ok = await change(token, {
      currentPassword: STRONG_PASSWORD,
      newPassword: OTHER_STRONG_PASSWORD,
      userId: "00000000-0000-4000-8000-000000000000",
      email: "attacker@example.com",
      twoFactorEnabled: false,
    });
    assert.equal(ok.statusCode, 200);
    const row = await userRow(ctx, "mass-change@example.com");
    assert.equal(row.id, user.id);
    for (const body of [
      {},
      { currentPassword: STRONG_PASSWORD },
      { currentPassword: 1, newPassword: OTHER_STRONG_PASSWORD },
    ]) {
      const response = await change(token, body);
      assert.equal(response.statusCode, 400);
      assert.equal(problem(response).code, "VALIDATION_ERROR");
    }
  });
  it("limits wrong current passwords per user (10 per 15 min, then 429 even for the right one); success clears the count", async () => {
    await verifiedUser(ctx, "guesser@example.com");
    const token = await login("guesser@example.com");
    const guess = (currentPassword: string) =>
      change(token, { currentPassword, newPassword: OTHER_STRONG_PASSWORD });
    const wrong = await Promise.all(Array.from({ length: 12 }, (_, i) => guess(`wrong guess number ${i}`)));
    const codes = wrong.map((r) => problem(r).code).sort();
    assert.equal(codes.filter((c) => c === "INVALID_CURRENT_PASSWORD").length, ctx.config.lockout.threshold);
    assert.equal(codes.filter((c) => c === "TOO_MANY_ATTEMPTS").length, 12 - ctx.config.lockout.threshold);
    const blocked = await guess(STRONG_PASSWORD);
    assert.equal(blocked.statusCode, 429);
    assert.equal(problem(blocked).code, "TOO_MANY_ATTEMPTS");
    assert.ok(blocked.headers["retry-after"]);
    ctx.clock.advance(ctx.config.lockout.windowMs);
    // The access token expired with the window too: sign in again.
    const later = await login("guesser@example.com");
    const after = await change(later, {
      currentPassword: STRONG_PASSWORD,
      newPassword: OTHER_STRONG_PASSWORD,
    });
    assert.equal(after.statusCode, 200, "the window passed");
  });

  it("a correct current password clears earlier wrong attempts", async () => {
    await verifiedUser(ctx, "forgiven@example.com");
    const token = await login("forgiven@example.com");
    for (let i = 0; i < ctx.config.lockout.threshold - 1; i++) {
      await change(token, { currentPassword: `nope ${i} nope nope`, newPassword: OTHER_STRONG_PASSWORD });
    }
    await change(token, { currentPassword: STRONG_PASSWORD, newPassword: OTHER_STRONG_PASSWORD });
    const wrong = await change(token, { currentPassword: "nope again nope", newPassword: STRONG_PASSWORD });
    assert.equal(problem(wrong).code, "INVALID_CURRENT_PASSWORD");
    const right = await change(token, {
      currentPassword: OTHER_STRONG_PASSWORD,
      newPassword: "tercera frase segura y larga",
    });
    assert.equal(right.statusCode, 200);
  });
});
