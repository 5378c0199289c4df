import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { RedisKeyValueStore } from "@mimascota/shared/kv/redis-key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import { serviceUrls, skipUnless, uniquePrefix } from "@mimascota/shared/testing/services";
import { register, userRow } from "../support/account-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

const COOLDOWN_SECONDS = 2;

/**
 * The "already registered" notice cooldown lives in the key-value store, Redis in production, shared by
 * every replica: its expiry is Redis's own (PX), not the test clock's. The other registration tests use the
 * in-memory store (and a stalled one for the 50 ms deadline).
 */
describe(
  "the already-registered notice cooldown on the real Redis",
  { skip: await skipUnless("postgres", "redis") },
  () => {
    let ctx: AuthTestContext;
    before(async () => {
      ctx = await createAuthTestContext({
        env: { ACCOUNT_RESPONSE_FLOOR_MS: "0", RESEND_COOLDOWN: String(COOLDOWN_SECONDS) },
        kv: new RedisKeyValueStore({
          url: serviceUrls.redis,
          logger: createLogger("registration-redis", "silent"),
          keyPrefix: `${uniquePrefix("auth-reg")}:`,
        }),
      });
    });
    after(() => ctx.close());

    it("sends one notice per cooldown, and the next once Redis has expired the claim", async () => {
      const email = "owner-redis@example.com";
      const notices = async () =>
        (await ctx.mails()).filter((m) => m.toAddress === email && m.template === "already-registered");
      await register(ctx, email);
      const { id } = await userRow(ctx, email);
      for (let i = 0; i < 3; i++) await register(ctx, email);
      assert.equal((await notices()).length, 1, "one notice for three sign-ups within the cooldown");
      const claim = `already-registered-notice:${id}`;
      assert.equal(await ctx.kv.get(claim), "1", "the claim is held in Redis");

      const deadline = Date.now() + (COOLDOWN_SECONDS + 3) * 1000;
      while ((await ctx.kv.get(claim)) !== null) {
        assert.ok(Date.now() < deadline, "Redis expires the claim after the cooldown");
        await sleep(100);
      }
      await register(ctx, email);
      assert.equal((await notices()).length, 2, "a new cooldown, a new notice");
    });
  },
);
