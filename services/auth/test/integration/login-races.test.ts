import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { and, eq, isNull } from "drizzle-orm";
import { skipUnless } from "@mimascota/shared/testing/services";
import { PasswordHasher } from "../../src/crypto/password-hasher.ts";
import { sessions, users } from "../../src/db/schema.ts";
import {
  OTHER_STRONG_PASSWORD,
  post,
  problem,
  STRONG_PASSWORD,
  tokenFromMail,
  userRow,
  verifiedUser,
} from "../support/account-helpers.ts";
import { decodeJwt, login, signedIn } from "../support/session-helpers.ts";
import { lockEmail } from "../support/session-rows.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

/**
 * A hasher that counts its work and whose next verification can be made to wait for the test: a login is
 * held between reading the user and opening the session, and the test commits a reset, a change or a 2FA
 * activation in that gap.
 */
class HeldHasher extends PasswordHasher {
  #held: { entered: () => void; released: Promise<void> } | undefined;
  verifications = 0;
  hashes = 0;

  override hash(password: string): Promise<string> {
    this.hashes += 1;
    return super.hash(password);
  }

  /** The next verification waits until `release()`; `entered` settles once a login is waiting there. */
  holdNext(): { entered: Promise<void>; release: () => void } {
    let entered!: () => void;
    let release!: () => void;
    const enteredPromise = new Promise<void>((resolve) => (entered = resolve));
    this.#held = { entered, released: new Promise<void>((resolve) => (release = resolve)) };
    return { entered: enteredPromise, release };
  }

  override async verify(passwordHash: string, password: string): Promise<boolean> {
    this.verifications += 1;
    const held = this.#held;
    this.#held = undefined;
    if (held) {
      held.entered();
      await held.released;
    }
    return super.verify(passwordHash, password);
  }
}

describe("a login racing an account change", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  let hasher: HeldHasher;
  before(async () => {
    ctx = await createAuthTestContext({
      env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" },
      hasher: (config) => (hasher = new HeldHasher(config.argon2.params)),
    });
  });
  after(() => ctx.close());

  const liveSessions = async (userId: string) =>
    ctx.database.db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));

  it("opens no session when a password reset commits while the old password is being checked", async () => {
    const user = await verifiedUser(ctx, "reset-race@example.com");
    await post(ctx, "forgot-password", { email: "reset-race@example.com" });
    const token = await tokenFromMail(ctx, "reset-race@example.com", "reset-password");

    const held = hasher.holdNext();
    const attempt = login(ctx, "reset-race@example.com", STRONG_PASSWORD);
    await held.entered;
    const reset = await post(ctx, "reset-password", { token, newPassword: OTHER_STRONG_PASSWORD });
    assert.equal(reset.statusCode, 200, reset.body);
    held.release();

    const response = await attempt;
    assert.equal(response.statusCode, 401, "the password it proved is no longer the account's");
    assert.equal(problem(response).code, "INVALID_CREDENTIALS");
    assert.equal(response.headers["set-cookie"], undefined);
    assert.deepEqual(await liveSessions(user.id), []);
    assert.equal((await login(ctx, "reset-race@example.com", OTHER_STRONG_PASSWORD)).statusCode, 200);
  });

  it("opens no session when a password change commits meanwhile", async () => {
    const session = await signedIn(ctx, "change-race@example.com");
    const held = hasher.holdNext();
    const attempt = login(ctx, "change-race@example.com", STRONG_PASSWORD);
    await held.entered;
    const changed = await ctx.app.inject({
      method: "POST",
      url: "/api/v1/auth/change-password",
      headers: { authorization: `Bearer ${session.accessToken}` },
      payload: { currentPassword: STRONG_PASSWORD, newPassword: OTHER_STRONG_PASSWORD },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    held.release();

    assert.equal((await attempt).statusCode, 401);
    const user = await userRow(ctx, "change-race@example.com");
    assert.deepEqual(
      (await liveSessions(user.id)).map((s) => s.id),
      [decodeJwt(session.accessToken).payload.sid],
      "only the session that made the change is left",
    );
  });

  it("asks for the second factor when 2FA is turned on meanwhile, instead of opening a password-only session", async () => {
    const email = "twofactor-race@example.com";
    await verifiedUser(ctx, email);
    const user = await userRow(ctx, email);
    const held = hasher.holdNext();
    const attempt = login(ctx, email, STRONG_PASSWORD);
    await held.entered;
    await ctx.database.db
      .update(users)
      .set({ twoFactorEnabledAt: ctx.clock.now() })
      .where(eq(users.id, user.id));
    held.release();

    const response = await attempt;
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json<{ twoFactorRequired?: boolean }>().twoFactorRequired, true);
    assert.equal(response.headers["set-cookie"], undefined);
    assert.deepEqual(await liveSessions(user.id), []);
  });

  it("leaves a locked account's old hash alone: the right password costs no extra hash to time", async () => {
    const user = await verifiedUser(ctx, "locked-rehash@example.com");
    const weak = new PasswordHasher({ memoryCost: 8192, timeCost: 1, parallelism: 1 });
    const old = await weak.hash(STRONG_PASSWORD);
    await ctx.database.db.update(users).set({ passwordHash: old }).where(eq(users.id, user.id));
    await lockEmail(ctx, "locked-rehash@example.com");
    const hashesBefore = hasher.hashes;
    const response = await login(ctx, "locked-rehash@example.com");
    assert.equal(response.statusCode, 401);
    assert.equal(problem(response).code, "INVALID_CREDENTIALS");
    assert.equal(hasher.hashes, hashesBefore, "no rehash while locked");
    assert.equal((await userRow(ctx, "locked-rehash@example.com")).passwordHash, old);
  });

  it("still signs in with the right password when nothing changed, after one verification", async () => {
    const before = hasher.verifications;
    await verifiedUser(ctx, "plain@example.com");
    const response = await login(ctx, "plain@example.com");
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(hasher.verifications - before, 1);
  });
});
