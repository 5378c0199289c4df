import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createLogger } from "@mimascota/shared/logger";
import { RedisKeyValueStore } from "@mimascota/shared/kv/redis-key-value-store";
import { serviceUrls, skipUnless, uniquePrefix } from "@mimascota/shared/testing/services";
import { OTHER_STRONG_PASSWORD, problem, STRONG_PASSWORD } from "../support/account-helpers.ts";
import { signedIn } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

const logger = createLogger("current-password-redis", "silent");

const change = (ctx: AuthTestContext, accessToken: string, currentPassword: string) =>
  ctx.app.inject({
    method: "POST",
    url: "/api/v1/auth/change-password",
    headers: { authorization: `Bearer ${accessToken}` },
    payload: { currentPassword, newPassword: OTHER_STRONG_PASSWORD },
  });

/**
 * The current-password limit (change-password, 2FA on/off) counts in the key-value store, which in
 * production is Redis shared by every replica: the count must be atomic there, and a Redis outage must not
 * turn these endpoints into 500s (the documented choice: the attempt is allowed, the password still checked).
 */
describe(
  "the current-password limit on the real Redis",
  { skip: await skipUnless("postgres", "redis") },
  () => {
    let ctx: AuthTestContext;
    before(async () => {
      ctx = await createAuthTestContext({
        env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" },
        kv: new RedisKeyValueStore({
          url: serviceUrls.redis,
          logger,
          keyPrefix: `${uniquePrefix("auth-cp")}:`,
        }),
      });
    });
    after(() => ctx.close());

    it("refuses exactly the attempts past the threshold among parallel wrong passwords", async () => {
      const { accessToken } = await signedIn(ctx, "parallel-current@example.com");
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => change(ctx, accessToken, "not my current password")),
      );
      const codes = answers.map((a) => problem(a).code);
      assert.equal(codes.filter((c) => c === "TOO_MANY_ATTEMPTS").length, 12 - ctx.config.lockout.threshold);
      assert.equal(
        codes.filter((c) => c === "INVALID_CURRENT_PASSWORD").length,
        ctx.config.lockout.threshold,
      );
      assert.equal(
        (await change(ctx, accessToken, STRONG_PASSWORD)).statusCode,
        429,
        "even the right one, now",
      );
    });
  },
);

describe("the current-password limit while Redis is down", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({
      env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" },
      // Port 1 on loopback never answers: every command fails at once.
      kv: new RedisKeyValueStore({ url: "redis://127.0.0.1:1", logger, connectTimeoutMs: 200 }),
    });
  });
  after(() => ctx.close());

  it("still checks the password, answering 401 or 200 and never a 500", async () => {
    const { accessToken } = await signedIn(ctx, "redis-down-current@example.com");
    const wrong = await change(ctx, accessToken, "not my current password");
    assert.equal(wrong.statusCode, 401);
    assert.equal(problem(wrong).code, "INVALID_CURRENT_PASSWORD");
    const right = await change(ctx, accessToken, STRONG_PASSWORD);
    assert.equal(right.statusCode, 200, right.body);
  });
});
