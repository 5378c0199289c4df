import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { skipUnless } from "@mimascota/shared/testing/services";
import { loginThrottles, twoFactorCredentials } from "../../src/db/schema.ts";
import { generateTotp } from "../../src/two-factor/totp.ts";
import { problem, STRONG_PASSWORD } from "../support/account-helpers.ts";
import { me } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import {
  bearerPost,
  nextCode,
  passwordStep,
  secondStep,
  status,
  twoFactorUser,
} from "../support/two-factor-helpers.ts";

/** A six-digit code that is not `code`. */
const other = (code: string) => (code === "000000" ? "000001" : "000000");

describe("2FA codes under attack", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx.close());

  it("a used TOTP code is refused when replayed, on the login step and on the management endpoints", async () => {
    const user = await twoFactorUser(ctx, "replay@example.com");
    const code = await nextCode(ctx, user.secret);
    assert.equal((await secondStep(ctx, await passwordStep(ctx, user.email), code)).statusCode, 200);
    const replay = await secondStep(ctx, await passwordStep(ctx, user.email), code);
    assert.equal(replay.statusCode, 401);
    assert.equal(problem(replay).code, "INVALID_2FA_CODE");
    const elsewhere = await bearerPost(ctx, "2fa/regenerate-backup-codes", user.accessToken, { code });
    assert.equal(elsewhere.statusCode, 400);
    assert.equal(problem(elsewhere).code, "INVALID_2FA_CODE");
    // Nor does the previous step's code work after a later one was accepted.
    const earlier = await generateTotp(user.secret, new Date(ctx.clock.now().getTime() - 30_000));
    const older = await secondStep(ctx, await passwordStep(ctx, user.email), earlier);
    assert.equal(older.statusCode, 401);
  });

  it("two logins racing with the same code: exactly one wins", async () => {
    const user = await twoFactorUser(ctx, "race@example.com");
    const tokens = [await passwordStep(ctx, user.email), await passwordStep(ctx, user.email)];
    const code = await nextCode(ctx, user.secret);
    const results = await Promise.all(tokens.map((token) => secondStep(ctx, token, code)));
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 401]);
    assert.equal(problem(results.find((r) => r.statusCode === 401)!).code, "INVALID_2FA_CODE");
  });

  it("one token sent twice at once with its good code: one session, the copy is a used token, not a wrong code", async () => {
    const user = await twoFactorUser(ctx, "double-submit@example.com");
    const token = await passwordStep(ctx, user.email);
    const code = await nextCode(ctx, user.secret);
    const results = await Promise.all([secondStep(ctx, token, code), secondStep(ctx, token, code)]);
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 401]);
    assert.equal(problem(results.find((r) => r.statusCode === 401)!).code, "INVALID_2FA_TOKEN");
    assert.equal(await failureCount(ctx, user.email), 0, "the copy counts toward no lock");
    const [credential] = await ctx.database.db
      .select({ failureCount: twoFactorCredentials.failureCount })
      .from(twoFactorCredentials)
      .where(eq(twoFactorCredentials.userId, user.userId));
    assert.equal(credential?.failureCount, 0, "nor toward the account's code limit");
  });

  it("a backup code racing a TOTP code on one token is spent only if it wins", async () => {
    for (let round = 0; round < 3; round++) {
      const user = await twoFactorUser(ctx, `backup-vs-totp-${round}@example.com`);
      const token = await passwordStep(ctx, user.email);
      const [totp, backup] = await Promise.all([
        secondStep(ctx, token, await nextCode(ctx, user.secret)),
        secondStep(ctx, token, user.backupCodes[0]),
      ]);
      assert.deepEqual([totp.statusCode, backup.statusCode].sort(), [200, 401]);
      const loser = totp.statusCode === 401 ? totp : backup;
      assert.equal(problem(loser).code, "INVALID_2FA_TOKEN");
      const remaining = (await status(ctx, user.accessToken)).json<{ backupCodesRemaining: number }>();
      assert.equal(remaining.backupCodesRemaining, backup.statusCode === 200 ? 9 : 10);
      assert.equal(await failureCount(ctx, user.email), 0);
    }
  });

  it("codes from the neighbouring steps are accepted, codes two steps away are not", async () => {
    const user = await twoFactorUser(ctx, "window@example.com");
    ctx.clock.advance(10 * 60_000);
    const at = (steps: number) => new Date(ctx.clock.now().getTime() + steps * 30_000);
    for (const steps of [-2, 2]) {
      const response = await secondStep(
        ctx,
        await passwordStep(ctx, user.email),
        await generateTotp(user.secret, at(steps)),
      );
      assert.equal(response.statusCode, 401, `step ${steps}`);
    }
    // -1 first: once +1 is used, every earlier step counts as replayed.
    for (const steps of [-1, 1]) {
      const response = await secondStep(
        ctx,
        await passwordStep(ctx, user.email),
        await generateTotp(user.secret, at(steps)),
      );
      assert.equal(response.statusCode, 200, `step ${steps}`);
    }
  });

  it("malformed codes are 400 VALIDATION_ERROR everywhere and cost no attempt", async () => {
    const user = await twoFactorUser(ctx, "malformed@example.com");
    const token = await passwordStep(ctx, user.email);
    const bad: unknown[] = ["12345", "1234567", "abcdef", "12 345", "", 123456, null, ["123456"]];
    for (const code of bad) {
      const label = JSON.stringify(code);
      const login = await secondStep(ctx, token, code);
      assert.equal(login.statusCode, 400, `login/2fa ${label}`);
      assert.equal(problem(login).code, "VALIDATION_ERROR");
      for (const [path, extra] of [
        ["2fa/verify-setup", {}],
        ["2fa/disable", { password: STRONG_PASSWORD }],
        ["2fa/regenerate-backup-codes", {}],
      ] as const) {
        const response = await bearerPost(ctx, path, user.accessToken, { ...extra, code });
        assert.equal(response.statusCode, 400, `${path} ${label}`);
        assert.equal(problem(response).code, "VALIDATION_ERROR");
      }
    }
    // A backup code is no TOTP code: verify-setup takes six digits only.
    const backup = await bearerPost(ctx, "2fa/verify-setup", user.accessToken, { code: user.backupCodes[0] });
    assert.equal(problem(backup).code, "VALIDATION_ERROR");
    // None of that counted: the token and the account still take a good code.
    assert.equal((await secondStep(ctx, token, await nextCode(ctx, user.secret))).statusCode, 200);
  });

  it("the twoFactorToken is no bearer token", async () => {
    const user = await twoFactorUser(ctx, "bearer@example.com");
    const token = await passwordStep(ctx, user.email);
    const meResponse = await me(ctx, token);
    assert.equal(meResponse.statusCode, 401);
    assert.equal(problem(meResponse).code, "UNAUTHORIZED");
    assert.equal((await status(ctx, token)).statusCode, 401);
    // And it is still good for what it is for.
    assert.equal((await secondStep(ctx, token, await nextCode(ctx, user.secret))).statusCode, 200);
  });

  it("one backup code used by two logins at once works for exactly one", async () => {
    const user = await twoFactorUser(ctx, "backup-race@example.com");
    const tokens = [await passwordStep(ctx, user.email), await passwordStep(ctx, user.email)];
    const code = user.backupCodes[2] ?? "";
    const results = await Promise.all(tokens.map((token) => secondStep(ctx, token, code)));
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 401]);
    assert.equal(
      (await status(ctx, user.accessToken)).json<{ backupCodesRemaining: number }>().backupCodesRemaining,
      9,
    );
  });

  it("backup codes from before a regeneration no longer sign in", async () => {
    const user = await twoFactorUser(ctx, "regenerated@example.com");
    const regenerated = await bearerPost(ctx, "2fa/regenerate-backup-codes", user.accessToken, {
      code: await nextCode(ctx, user.secret),
    });
    assert.equal(regenerated.statusCode, 200);
    const old = await secondStep(ctx, await passwordStep(ctx, user.email), user.backupCodes[0]);
    assert.equal(old.statusCode, 401);
    assert.equal(problem(old).code, "INVALID_2FA_CODE");
    const fresh = regenerated.json<{ backupCodes: string[] }>().backupCodes[0];
    assert.equal((await secondStep(ctx, await passwordStep(ctx, user.email), fresh)).statusCode, 200);
  });

  it("a twoFactorToken takes at most 5 codes: of 10 parallel wrong guesses only 5 are checked", async () => {
    const user = await twoFactorUser(ctx, "token-guess@example.com");
    const token = await passwordStep(ctx, user.email);
    const good = await nextCode(ctx, user.secret);
    const results = await Promise.all(Array.from({ length: 10 }, () => secondStep(ctx, token, other(good))));
    const codes = results.map((r) => problem(r).code).sort();
    assert.deepEqual(codes, [
      ...Array<string>(5).fill("INVALID_2FA_CODE"),
      ...Array<string>(5).fill("INVALID_2FA_TOKEN"),
    ]);
    const after = await secondStep(ctx, token, good);
    assert.equal(problem(after).code, "INVALID_2FA_TOKEN", "the token is void, even for the right code");
  });

  it("5 wrong codes in 15 minutes across endpoints block every code for 15 minutes, then it lifts", async () => {
    const user = await twoFactorUser(ctx, "account-limit@example.com");
    const good = await nextCode(ctx, user.secret);
    for (let i = 0; i < 3; i++) {
      const r = await bearerPost(ctx, "2fa/regenerate-backup-codes", user.accessToken, { code: other(good) });
      assert.equal(r.statusCode, 400);
    }
    const token = await passwordStep(ctx, user.email);
    for (let i = 0; i < 2; i++) assert.equal((await secondStep(ctx, token, other(good))).statusCode, 401);
    // Blocked: even the right code is refused unchecked, on the login step and the management endpoints.
    const blocked = await secondStep(ctx, await passwordStep(ctx, user.email), good);
    assert.equal(blocked.statusCode, 429);
    assert.equal(problem(blocked).code, "TOO_MANY_ATTEMPTS");
    assert.equal(blocked.headers["retry-after"], "900");
    const managed = await bearerPost(ctx, "2fa/regenerate-backup-codes", user.accessToken, { code: good });
    assert.equal(managed.statusCode, 429);
    assert.equal(problem(managed).code, "TOO_MANY_ATTEMPTS");
    const backup = await secondStep(ctx, await passwordStep(ctx, user.email), user.backupCodes[0]);
    assert.equal(backup.statusCode, 429, "backup codes are blocked too");
    // The failures also counted toward the account lock (5 of its 10), and the password logins since then
    // did not wipe them: on a 2FA account only both factors together do.
    const [throttle] = await ctx.database.db
      .select()
      .from(loginThrottles)
      .where(eq(loginThrottles.email, user.email));
    assert.equal(throttle?.failureCount, 5);
    ctx.clock.advance(14 * 60_000);
    const stillBlocked = await secondStep(
      ctx,
      await passwordStep(ctx, user.email),
      await nextCode(ctx, user.secret),
    );
    assert.equal(stillBlocked.statusCode, 429);
    assert.equal(stillBlocked.headers["retry-after"], "30");
    ctx.clock.advance(60_000);
    const lifted = await secondStep(
      ctx,
      await passwordStep(ctx, user.email),
      await nextCode(ctx, user.secret),
    );
    assert.equal(lifted.statusCode, 200, lifted.body);
    const [cleared] = await ctx.database.db
      .select()
      .from(loginThrottles)
      .where(eq(loginThrottles.email, user.email));
    assert.equal(cleared?.failureCount, 0, "both factors passed: the failures are forgotten");
  });

  it("20 parallel wrong codes on the management endpoints: exactly 5 are checked, the rest get 429", async () => {
    const user = await twoFactorUser(ctx, "parallel-limit@example.com");
    const good = await nextCode(ctx, user.secret);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        bearerPost(ctx, "2fa/regenerate-backup-codes", user.accessToken, { code: other(good) }),
      ),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    assert.deepEqual(statuses, [...Array<number>(5).fill(400), ...Array<number>(15).fill(429)]);
  });
});

async function failureCount(ctx: AuthTestContext, email: string): Promise<number> {
  const [row] = await ctx.database.db
    .select({ failureCount: loginThrottles.failureCount })
    .from(loginThrottles)
    .where(eq(loginThrottles.email, email));
  return row?.failureCount ?? 0;
}
