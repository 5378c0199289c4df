import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { PrivateRedis } from "@mimascota/shared/testing/private-redis";
import { skipUnlessPrograms } from "@mimascota/shared/testing/services";
import { startTestGateway, testRoutes, type TestGateway } from "../support/test-gateway.ts";
import { TestUpstream } from "../support/upstream.ts";
import { TokenIssuer } from "@mimascota/shared/testing/token-issuer";

const skip = await skipUnlessPrograms(["redis-server", "--version"]);

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe("when Redis goes down", { skip }, () => {
  const redis = new PrivateRedis();
  let upstream: TestUpstream;
  let issuer: TokenIssuer;
  let gateway: TestGateway;

  before(async () => {
    await redis.start();
    upstream = await new TestUpstream().start();
    upstream.handler = (_request, response) => {
      response.setHeader("cache-control", "max-age=60");
      response.end("cacheable");
    };
    issuer = await new TokenIssuer().start();
    gateway = await startTestGateway({
      routes: testRoutes(upstream.url),
      jwksUrl: issuer.jwksUrl,
      redisUrl: redis.url,
      env: { RATE_LIMIT_IP: "5", REDIS_TIMEOUT_MS: "200" },
    });
  });
  after(async () => {
    await gateway.close();
    await redis.stop();
    await upstream.close();
    await issuer.close();
  });

  const ready = async () => (await (await gateway.fetch("/ready")).json()) as Record<string, unknown>;
  const metrics = async () => (await gateway.fetch("/metrics")).text();

  it("keeps serving with per-instance limits, bypasses the cache, and says so in /ready and /metrics", async () => {
    assert.equal((await ready()).rateLimits, "redis");
    assert.equal((await gateway.fetch("/api/public-cached")).headers.get("x-cache"), "MISS");
    assert.equal((await gateway.fetch("/api/public-cached")).headers.get("x-cache"), "HIT");

    await redis.stop();
    await until(async () => (await ready()).rateLimits !== "redis", "/ready notices");
    const status = await ready();
    assert.equal(status.status, "degraded");
    assert.deepEqual((status.checks as { redis: string }).redis, "down");
    assert.equal(status.rateLimits, "in-memory (per instance)");
    assert.equal(status.cache, "bypassed");

    const cached = await gateway.fetch("/api/public-cached");
    assert.equal(cached.status, 200);
    assert.equal(cached.headers.get("x-cache"), "BYPASS");
    const token = await issuer.token();
    const authed = await gateway.fetch("/api/private", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(authed.status, 200, "revocation cannot be checked: fail open, counted in metrics");

    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await gateway.fetch("/api/public")).status);
    // Five per instance in the fallback; the BYPASS request above spent one of them.
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429, 429], "the fallback still enforces the limit");

    const text = await metrics();
    assert.match(text, /^gateway_redis_up 0$/m);
    assert.match(text, /^gateway_degraded_decisions_total\{decision="rate_limit"\} [1-9]/m);
    assert.match(text, /^gateway_degraded_decisions_total\{decision="revocation"\} [1-9]/m);
    assert.match(text, /^gateway_degraded_decisions_total\{decision="cache"\} [1-9]/m);
  });

  it("returns to Redis when it is back", async () => {
    await redis.start();
    await until(async () => (await ready()).rateLimits === "redis", "the gateway reconnects");
    assert.match(await metrics(), /^gateway_redis_up 1$/m);
    assert.equal(
      (await gateway.fetch("/api/public-cached")).headers.get("x-cache"),
      "MISS",
      "a fresh server, empty",
    );
  });

  it("serves on the fallback when Redis hangs instead of failing fast (the command deadline decides)", async () => {
    const token = await issuer.token({ sub: "hung-redis-user" });
    const degraded = async () =>
      Number(
        /^gateway_degraded_decisions_total\{decision="rate_limit"\} (\d+)$/m.exec(await metrics())?.[1] ?? 0,
      );
    const before = await degraded();
    redis.freeze(true);
    try {
      // No duration asserted: a request stuck on the hung Redis would fail this fetch's own (long) deadline.
      const response = await gateway.fetch("/api/private", {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(30_000),
      });
      assert.equal(response.status, 200, "served on the fallback");
      assert.ok((await degraded()) > before, "decided without Redis: the REDIS_TIMEOUT_MS deadline fired");
    } finally {
      redis.freeze(false);
    }
  });
});

describe("when Redis is down at start", { skip }, () => {
  it("starts on the fallbacks and switches to Redis once it answers", async () => {
    const redis = new PrivateRedis();
    const upstream = await new TestUpstream().start();
    await redis.start();
    await redis.stop(); // a port that is known free and now refuses connections
    const gateway = await startTestGateway({ routes: testRoutes(upstream.url), redisUrl: redis.url });
    try {
      assert.equal((await gateway.fetch("/api/public")).status, 200);
      const ready = async () => (await (await gateway.fetch("/ready")).json()) as { rateLimits: string };
      assert.equal((await ready()).rateLimits, "in-memory (per instance)");
      await redis.start();
      await until(async () => (await ready()).rateLimits === "redis", "the gateway connects");
    } finally {
      await gateway.close();
      await upstream.close();
      await redis.stop();
    }
  });
});

describe("a purge made while Redis is down", { skip }, () => {
  it("is made when Redis is back, before the user's next lookup: the entry kept on disk is not served", async () => {
    const redis = await new PrivateRedis({ persistent: true }).start();
    const upstream = await new TestUpstream().start();
    let version = 1;
    upstream.handler = (request, response) => {
      if (request.method === "POST") version++;
      response.setHeader("cache-control", "max-age=60");
      response.end(`version ${version}`);
    };
    const issuer = await new TokenIssuer().start();
    const gateway = await startTestGateway({
      routes: testRoutes(upstream.url),
      jwksUrl: issuer.jwksUrl,
      redisUrl: redis.url,
      env: { REDIS_TIMEOUT_MS: "200" },
    });
    try {
      const auth = { authorization: `Bearer ${await issuer.token({ sub: "owed-purge-user" })}` };
      const profile = () => gateway.fetch("/api/cached/profile", { headers: auth });
      const ready = async () => (await (await gateway.fetch("/ready")).json()) as { rateLimits: string };
      assert.equal((await profile()).headers.get("x-cache"), "MISS");
      assert.equal((await profile()).headers.get("x-cache"), "HIT");

      await redis.stop();
      await until(async () => (await ready()).rateLimits !== "redis", "the gateway notices");
      const write = await gateway.fetch("/api/cached/profile", { method: "POST", headers: auth });
      assert.equal(write.status, 200);
      assert.equal(await write.text(), "version 2");

      await redis.start();
      await until(async () => (await ready()).rateLimits === "redis", "the gateway reconnects");
      const after = await profile();
      assert.notEqual(after.headers.get("x-cache"), "HIT");
      assert.equal(await after.text(), "version 2", "not the entry stored before the write");
      const again = await profile();
      assert.equal(again.headers.get("x-cache"), "HIT", "the owed purge was made: caching resumes");
      assert.equal(await again.text(), "version 2");
    } finally {
      await gateway.close();
      await redis.remove();
      await upstream.close();
      await issuer.close();
    }
  });
});
