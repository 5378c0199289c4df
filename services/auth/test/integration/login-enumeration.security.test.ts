import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { statementsOf } from "@mimascota/shared/testing/statements";
import { comparableHeaders, register, STRONG_PASSWORD, verifiedUser } from "../support/account-helpers.ts";
import { login } from "../support/session-helpers.ts";
import { lockEmail } from "../support/session-rows.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import { twoFactorUser } from "../support/two-factor-helpers.ts";
import { median, sameTiming, timeAlternately } from "../support/timing.ts";

const ROUNDS = 30;
const WRONG = "certainly not the password";

/**
 * Login must not tell an unknown email from a known one with a wrong password, nor from a locked account
 * (even with the right password): same status, body and headers, and response-time distributions that do not
 * differ beyond the measured noise. The threshold is raised here so the known account does not lock midway
 * (locking is covered by login-lockout.test.ts; the locked case is compared on its own).
 */
describe("login enumeration", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({
      env: { ACCOUNT_RESPONSE_FLOOR_MS: "0", LOCKOUT_THRESHOLD: "100000" },
    });
    await verifiedUser(ctx, "known@example.com");
    await verifiedUser(ctx, "locked@example.com");
    await register(ctx, "unverified@example.com");
    await lockEmail(ctx, "locked@example.com");
    await twoFactorUser(ctx, "locked-2fa@example.com");
    await lockEmail(ctx, "locked-2fa@example.com");
    // Warm-up: the dummy hash, the key and connection pool are made before anything is timed.
    for (const email of ["known@example.com", "unknown@example.com", "locked@example.com"]) {
      await login(ctx, email, WRONG);
    }
  });
  after(() => ctx.close());

  function assertSameTiming(label: string, a: number[], b: number[]) {
    const verdict = sameTiming(a, b);
    const detail = `${label}: medians ${median(a).toFixed(2)} / ${median(b).toFixed(2)} ms, gap ${verdict.gap.toFixed(2)} ms, tolerance ${verdict.tolerance.toFixed(2)} ms`;
    assert.ok(verdict.ok, detail);
  }

  it("answers unknown email, wrong password, unverified-with-wrong-password and locked account alike", async () => {
    const responses = [
      await login(ctx, "unknown@example.com", WRONG),
      await login(ctx, "known@example.com", WRONG),
      await login(ctx, "unverified@example.com", WRONG),
      await login(ctx, "locked@example.com", WRONG),
      await login(ctx, "locked@example.com", STRONG_PASSWORD),
    ];
    const [first] = responses;
    assert.equal(first!.statusCode, 401);
    assert.equal(first!.json<{ code: string }>().code, "INVALID_CREDENTIALS");
    const strip = (body: string) => body.replace(/"requestId":"[^"]+"/, "");
    for (const response of responses) {
      assert.equal(response.statusCode, first!.statusCode);
      assert.equal(strip(response.body), strip(first!.body));
      assert.deepEqual(comparableHeaders(response), comparableHeaders(first!));
    }
  });

  it("sends the database the same statements for every refusal, locked or not, right password or wrong", async () => {
    const refusals = {
      "unknown email": () => login(ctx, "unknown@example.com", WRONG),
      "wrong password": () => login(ctx, "known@example.com", WRONG),
      "unverified, wrong password": () => login(ctx, "unverified@example.com", WRONG),
      "locked, wrong password": () => login(ctx, "locked@example.com", WRONG),
      "locked, right password": () => login(ctx, "locked@example.com", STRONG_PASSWORD),
      "locked with 2FA, right password": () => login(ctx, "locked-2fa@example.com", STRONG_PASSWORD),
    };
    const sent: Record<string, string[]> = {};
    for (const [label, attempt] of Object.entries(refusals)) {
      sent[label] = await statementsOf(async () => {
        const response = await attempt();
        assert.equal(response.statusCode, 401, label);
      });
    }
    // A refusal of an email that is not locked records the failure: one statement more than a locked one.
    const unlocked = sent["unknown email"]!;
    const locked = sent["locked, wrong password"]!;
    assert.ok(unlocked.length >= 5, unlocked.join("\n---\n"));
    assert.deepEqual(sent["wrong password"], unlocked);
    assert.deepEqual(sent["unverified, wrong password"], unlocked);
    assert.deepEqual(sent["locked, right password"], locked);
    assert.deepEqual(sent["locked with 2FA, right password"], locked);
    assert.equal(locked.length, unlocked.length - 1);
  });

  it("takes as long for an unknown email as for a known one with a wrong password", async () => {
    const times = await timeAlternately(
      ROUNDS,
      () => login(ctx, "known@example.com", WRONG),
      () => login(ctx, "unknown@example.com", WRONG),
    );
    assertSameTiming("known vs unknown", times.a, times.b);
  });

  it("takes as long for a locked account (right password) as for an unknown email", async () => {
    const times = await timeAlternately(
      ROUNDS,
      () => login(ctx, "locked@example.com", STRONG_PASSWORD),
      () => login(ctx, "unknown@example.com", WRONG),
    );
    assertSameTiming("locked vs unknown", times.a, times.b);
  });
});
