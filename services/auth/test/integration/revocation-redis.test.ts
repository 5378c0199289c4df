import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "redis";
import { UnitOfWork } from "@mimascota/shared/db/unit-of-work";
import { createLogger } from "@mimascota/shared/logger";
import { RedisKeyValueStore } from "@mimascota/shared/kv/redis-key-value-store";
import { serviceUrls, skipUnless, uniquePrefix } from "@mimascota/shared/testing/services";
import { AuthMetrics } from "../../src/metrics.ts";
import { SessionRepository } from "../../src/repositories/session.repository.ts";
import { SessionService, type SessionDeps } from "../../src/services/session.service.ts";
import { me, signedIn } from "../support/session-helpers.ts";
import { insertSession, sessionRevokedAt } from "../support/session-rows.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

/** Only what revoking and publishing touch; refresh/login collaborators are not needed here. */
function revoker(ctx: AuthTestContext, kv: RedisKeyValueStore): SessionService {
  const deps: Partial<SessionDeps> = {
    db: ctx.database.db,
    clock: ctx.clock,
    logger: createLogger("revocation-test", "silent"),
    settings: ctx.config,
    sessions: new SessionRepository({ db: ctx.database.db }),
    kv,
    metrics: new AuthMetrics({ defaultMetrics: false }),
  };
  return new SessionService(deps as SessionDeps);
}

/** What the gateway relies on: revocations land in the real Redis under `revoked-session:<sid>`. */
describe("revocations published to Redis", { skip: await skipUnless("postgres", "redis") }, () => {
  let ctx: AuthTestContext;
  let kv: RedisKeyValueStore;
  let redis: ReturnType<typeof createClient>;
  const prefix = `${uniquePrefix("auth-revocation")}:`;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
    kv = new RedisKeyValueStore({
      url: serviceUrls.redis,
      logger: createLogger("t", "silent"),
      keyPrefix: prefix,
    });
    redis = createClient({ url: serviceUrls.redis });
    await redis.connect();
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(keys);
    await redis.quit();
    await kv.close();
    await ctx.close();
  });

  it("revoking all of a user's sessions but one writes one key per revoked session, alive for TTL + 60 s", async () => {
    const { userId } = await signedIn(ctx, "redis-revoke@example.com");
    const keep = await insertSession(ctx, userId);
    const other = await insertSession(ctx, userId);
    const service = revoker(ctx, kv);
    // Published by the revocation itself once the unit of work has committed.
    const revoked = await new UnitOfWork({ db: ctx.database.db }).run((tx) =>
      service.revokeAllForUser(tx, userId, { exceptSessionId: keep, reason: "password_changed" }),
    );
    assert.equal(revoked.length, 2, "the login's session and the other one");
    assert.ok(revoked.includes(other) && !revoked.includes(keep));
    for (const sid of revoked) {
      assert.equal(await redis.get(`${prefix}revoked-session:${sid}`), "1");
      const ttl = await redis.pTTL(`${prefix}revoked-session:${sid}`);
      assert.ok(ttl > 955_000 && ttl <= 960_000, `ttl ${ttl}`);
    }
    assert.equal(await redis.get(`${prefix}revoked-session:${keep}`), null);
  });

  it("a Redis outage does not fail the revocation: the database says revoked and the service refuses the session", async () => {
    const { userId, accessToken } = await signedIn(ctx, "redis-down-revoke@example.com");
    assert.equal((await me(ctx, accessToken)).statusCode, 200);
    const down = new RedisKeyValueStore({
      url: "redis://127.0.0.1:1",
      logger: createLogger("t", "silent"),
      connectTimeoutMs: 200,
    });
    try {
      const service = revoker(ctx, down);
      // The after-commit publication fails quietly: the gateway's copy is best effort.
      const revoked = await new UnitOfWork({ db: ctx.database.db }).run((tx) =>
        service.revokeAllForUser(tx, userId, { reason: "password_changed" }),
      );
      assert.equal(revoked.length, 1);
      assert.ok(await sessionRevokedAt(ctx, revoked[0]!), "revoked in the database");
      assert.equal((await me(ctx, accessToken)).statusCode, 401, "and refused by the auth service at once");
    } finally {
      await down.close();
    }
  });
});
