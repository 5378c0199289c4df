import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "@mimascota/shared/clock";
import { skipUnless, uniquePrefix } from "@mimascota/shared/testing/services";
import { startTestGateway, testRoutes, type TestGateway } from "../support/test-gateway.ts";
import { TestUpstream } from "../support/upstream.ts";
import { TokenIssuer } from "@mimascota/shared/testing/token-issuer";

describe("rate limits shared through Redis", { skip: await skipUnless("redis") }, () => {
  let upstream: TestUpstream;
  let issuer: TokenIssuer;
  const clock = new ManualClock(new Date());
  const started: TestGateway[] = [];

  before(async () => {
    upstream = await new TestUpstream().start();
    issuer = await new TokenIssuer().start();
  });
  after(async () => {
    await Promise.all(started.map((g) => g.close()));
    await upstream.close();
    await issuer.close();
  });

  async function gateway(env: Record<string, string> = {}, keyPrefix = `${uniquePrefix("rl")}:`) {
    const g = await startTestGateway({
      routes: testRoutes(upstream.url),
      jwksUrl: issuer.jwksUrl,
      clock,
      env,
      keyPrefix,
    });
    started.push(g);
    return g;
  }

  it("admits exactly the limit out of 200 concurrent requests", async () => {
    const g = await gateway({ RATE_LIMIT_IP: "100" });
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () =>
        g.fetch("/api/public").then((r) => r.body?.cancel().then(() => r.status)),
      ),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 100);
    assert.equal(statuses.filter((s) => s === 429).length, 100);
  });

  it("sends the IETF and X-RateLimit headers on every response, and Retry-After with RATE_LIMITED on 429", async () => {
    const g = await gateway({ RATE_LIMIT_IP: "3", RATE_LIMIT_WINDOW: "60" });
    const first = await g.fetch("/api/public");
    assert.equal(first.headers.get("ratelimit-policy"), '"ip";q=3;w=60');
    assert.equal(first.headers.get("ratelimit"), '"ip";r=2;t=20');
    assert.equal(first.headers.get("x-ratelimit-limit"), "3");
    assert.equal(first.headers.get("x-ratelimit-remaining"), "2");
    assert.equal(first.headers.get("x-ratelimit-reset"), "20");
    await g.fetch("/api/public");
    const third = await g.fetch("/api/public");
    assert.equal(third.headers.get("x-ratelimit-remaining"), "0");
    const refused = await g.fetch("/api/public");
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get("retry-after"), "20");
    assert.equal(refused.headers.get("ratelimit"), '"ip";r=0;t=60');
    const body = (await refused.json()) as { code: string; status: number };
    assert.equal(body.code, "RATE_LIMITED");
    assert.equal(refused.headers.get("content-type"), "application/problem+json; charset=utf-8");
    const unauthorized = await g.fetch("/api/private");
    assert.equal(unauthorized.status, 429, "a request without a token spends the IP's quota too");

    clock.advance(20_000);
    assert.equal((await g.fetch("/api/public")).status, 200, "one request's worth came back after 20 s");
    assert.equal(
      (await g.fetch("/api/public")).status,
      429,
      "and only one: no fresh window, no double burst",
    );
  });

  it("applies a route's stricter policy on top of the IP limit", async () => {
    const g = await gateway({ RATE_LIMIT_IP: "100" });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await g.fetch("/api/v1/auth/login", { method: "POST" })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const last = await g.fetch("/api/v1/auth/login", { method: "POST" });
    assert.equal(last.headers.get("ratelimit-policy"), '"ip";q=100;w=60, "login";q=3;w=60');
    assert.match(last.headers.get("ratelimit") ?? "", /^"ip";r=\d+;t=\d+, "login";r=0;t=\d+$/);
    assert.equal(
      last.headers.get("x-ratelimit-limit"),
      "3",
      "the legacy headers describe the refusing policy",
    );
    assert.equal((await g.fetch("/api/public")).status, 200, "other routes are not affected");
  });

  it("counts per user when a valid token is presented, whatever the IP", async () => {
    const g = await gateway({ RATE_LIMIT_USER: "2", RATE_LIMIT_IP: "100" });
    const alice = await issuer.token({ sub: `alice-${crypto.randomUUID()}` }, clock.now().getTime());
    const bob = await issuer.token({ sub: `bob-${crypto.randomUUID()}` }, clock.now().getTime());
    const as = (token: string) => g.fetch("/api/private", { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(
      [(await as(alice)).status, (await as(alice)).status, (await as(alice)).status],
      [200, 200, 429],
    );
    const forBob = await as(bob);
    assert.equal(forBob.status, 200);
    assert.equal(forBob.headers.get("ratelimit-policy"), '"user";q=2;w=60');
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", async () => {
    const g = await gateway({ RATE_LIMIT_IP: "2" });
    const spoofed = async (ip: string) =>
      (await g.fetch("/api/public", { headers: { "x-forwarded-for": ip } })).status;
    assert.deepEqual(
      [await spoofed("10.0.0.1"), await spoofed("10.0.0.2"), await spoofed("10.0.0.3")],
      [200, 200, 429],
    );
    assert.equal(
      upstream.calls().at(-1)?.headers["x-forwarded-for"],
      "127.0.0.1",
      "the made-up chain is not passed on",
    );
  });

  it("uses X-Forwarded-For when the peer is a trusted proxy", async () => {
    const g = await gateway({ RATE_LIMIT_IP: "2", TRUSTED_PROXIES: "127.0.0.1" });
    const via = async (ip: string) =>
      (await g.fetch("/api/public", { headers: { "x-forwarded-for": ip } })).status;
    assert.deepEqual([await via("10.0.0.1"), await via("10.0.0.1"), await via("10.0.0.1")], [200, 200, 429]);
    assert.equal(await via("10.0.0.2"), 200, "another client behind the same proxy has its own quota");
    assert.equal(upstream.calls().at(-1)?.headers["x-forwarded-for"], "10.0.0.2, 127.0.0.1");
  });

  it("shares one limit between two gateway instances", async () => {
    const prefix = `${uniquePrefix("rl-shared")}:`;
    const one = await gateway({ RATE_LIMIT_IP: "10" }, prefix);
    const two = await gateway({ RATE_LIMIT_IP: "10" }, prefix);
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 ? one : two).fetch("/api/public").then((r) => r.status)),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 10);
  });

  it("admits paths no route matches per IP: the 404 carries the headers and a path scan spends the quota", async () => {
    const g = await gateway({ RATE_LIMIT_IP: "2", RATE_LIMIT_WINDOW: "60" });
    const missing = await g.fetch("/no/such/route");
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { code: string }).code, "NOT_FOUND");
    assert.equal(missing.headers.get("ratelimit-policy"), '"ip";q=2;w=60');
    assert.equal(missing.headers.get("x-ratelimit-remaining"), "1");
    assert.equal((await g.fetch("/api/public")).status, 200, "the same quota as routed requests");
    const refused = await g.fetch("/another/missing/path");
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { code: string }).code, "RATE_LIMITED");
    assert.ok(refused.headers.get("retry-after"));
    assert.equal(upstream.requests.filter((r) => r.url.includes("missing")).length, 0);
  });

  it("never rate limits the gateway's own endpoints", async () => {
    const g = await gateway({ RATE_LIMIT_IP: "1" });
    for (let i = 0; i < 3; i++) assert.equal((await g.fetch("/health")).status, 200);
    assert.equal((await g.fetch("/ready")).status, 200);
  });
});
