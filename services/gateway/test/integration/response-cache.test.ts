import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ManualClock } from "@mimascota/shared/clock";
import { serviceUrls, skipUnless } from "@mimascota/shared/testing/services";
import { createClient } from "redis";
import { startTestGateway, testRoutes, type TestGateway } from "../support/test-gateway.ts";
import { TestUpstream } from "../support/upstream.ts";
import { TokenIssuer } from "@mimascota/shared/testing/token-issuer";

describe("response cache in Redis", { skip: await skipUnless("redis") }, () => {
  let upstream: TestUpstream;
  let issuer: TokenIssuer;
  let gateway: TestGateway;
  const clock = new ManualClock(new Date());
  let cacheControl: string | undefined;
  let vary: string | undefined;
  let alice: string;
  let bob: string;
  let n = 0;

  before(async () => {
    upstream = await new TestUpstream().start();
    issuer = await new TokenIssuer().start();
    upstream.handler = async (request, response) => {
      if (request.method === "GET") await new Promise((r) => setTimeout(r, 20));
      if (cacheControl) response.setHeader("cache-control", cacheControl);
      if (vary) response.setHeader("vary", vary);
      response.setHeader("content-type", "application/json");
      response.end(
        JSON.stringify({
          user: request.headers["x-user-id"] ?? null,
          lang: request.headers["accept-language"] ?? null,
          call: ++n,
        }),
      );
    };
    gateway = await startTestGateway({
      routes: testRoutes(upstream.url),
      jwksUrl: issuer.jwksUrl,
      clock,
      env: { RATE_LIMIT_IP: "100000", RATE_LIMIT_USER: "100000", CACHE_MAX_TTL: "300" },
    });
    alice = await issuer.token({ sub: "alice" }, clock.now().getTime());
    bob = await issuer.token({ sub: "bob" }, clock.now().getTime());
  });
  beforeEach(() => {
    cacheControl = "max-age=60";
    vary = undefined;
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
    await issuer.close();
  });

  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    gateway.fetch(path, { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  const read = async (response: Response) => ({
    cache: response.headers.get("x-cache"),
    age: response.headers.get("age"),
    body: (await response.json()) as { user: string | null; lang: string | null; call: number },
  });
  const unique = (base: string) => `${base}?r=${crypto.randomUUID()}`;

  it("misses, then hits with a growing Age", async () => {
    const path = unique("/api/public-cached");
    const first = await read(await get(path));
    assert.equal(first.cache, "MISS");
    assert.equal(first.age, "0");
    clock.advance(10_000);
    const second = await read(await get(path));
    assert.equal(second.cache, "HIT");
    assert.equal(second.age, "10");
    assert.equal(second.body.call, first.body.call);
    const metrics = await (await gateway.fetch("/metrics")).text();
    assert.match(metrics, /^gateway_cache_hits_total\{path="\/api\/public-cached"\} [1-9]/m);
    assert.match(metrics, /^gateway_cache_misses_total\{path="\/api\/public-cached"\} [1-9]/m);
  });

  it("bypasses on request no-cache and never stores no-store, no-cache or lifetime-less responses", async () => {
    const path = unique("/api/public-cached");
    await get(path);
    assert.equal(
      (await get(path, undefined, { "cache-control": "no-cache" })).headers.get("x-cache"),
      "BYPASS",
    );
    for (const directive of ["no-store", "no-cache, max-age=60", "public"]) {
      cacheControl = directive;
      const other = unique("/api/public-cached");
      await get(other);
      assert.equal((await get(other)).headers.get("x-cache"), "MISS", directive);
    }
  });

  it("stores for the upstream's max-age, capped by CACHE_MAX_TTL", async () => {
    cacheControl = "max-age=86400";
    const path = unique("/api/public-cached");
    await get(path);
    const redis = createClient({ url: serviceUrls.redis });
    await redis.connect();
    try {
      const ttl = await redis.pTTL(`${gateway.config.redis.keyPrefix}c:anon:${path}`);
      assert.ok(ttl > 290_000 && ttl <= 300_000, `ttl ${ttl}`);
    } finally {
      await redis.close();
    }
  });

  it("never stores a private response in an anonymous entry, but keeps one per user", async () => {
    cacheControl = "private, max-age=300";
    const path = unique("/api/public-cached");
    await get(path);
    assert.equal((await get(path)).headers.get("x-cache"), "MISS", "anonymous private: not stored");
    const mine = unique("/api/cached/me");
    await get(mine, alice);
    const again = await read(await get(mine, alice));
    assert.equal(again.cache, "HIT");
    assert.equal(again.body.user, "alice");
  });

  it("never serves one user's entry to another, nor to an anonymous caller", async () => {
    const path = unique("/api/cached/me");
    assert.equal((await read(await get(path, alice))).body.user, "alice");
    const forBob = await read(await get(path, bob));
    assert.equal(forBob.cache, "MISS");
    assert.equal(forBob.body.user, "bob");
    assert.equal((await read(await get(path, alice))).body.user, "alice");
    assert.equal((await get(path)).status, 401);
  });

  it("keeps one entry per value of the headers named in Vary", async () => {
    vary = "Accept-Language";
    const path = unique("/api/public-cached");
    const es = await read(await get(path, undefined, { "accept-language": "es" }));
    const en = await read(await get(path, undefined, { "accept-language": "en" }));
    assert.equal(en.cache, "MISS");
    assert.equal(en.body.lang, "en");
    const esAgain = await read(await get(path, undefined, { "accept-language": "es" }));
    assert.equal(esAgain.cache, "HIT");
    assert.equal(esAgain.body.call, es.body.call);
    vary = "*";
    const star = unique("/api/public-cached");
    await get(star);
    assert.equal((await get(star)).headers.get("x-cache"), "MISS", "Vary: * is never reused");
  });

  it("answers HEAD with X-Cache and Age, and never lets a HEAD leave an empty entry for a GET", async () => {
    const path = unique("/api/cached/me");
    const head = () => gateway.fetch(path, { method: "HEAD", headers: { authorization: `Bearer ${alice}` } });
    const first = await head();
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("x-cache"), "MISS");
    assert.match(first.headers.get("age") ?? "", /^\d+$/);
    const get1 = await read(await get(path, alice));
    assert.equal(get1.cache, "MISS", "a HEAD miss stores nothing");
    assert.equal(get1.body.user, "alice");
    const second = await head();
    assert.equal(second.headers.get("x-cache"), "HIT");
    assert.match(second.headers.get("age") ?? "", /^\d+$/);
    const get2 = await read(await get(path, alice));
    assert.equal(get2.cache, "HIT");
    assert.equal(get2.body.call, get1.body.call, "the GET's entry, body and all");
  });

  it("coalesces 50 concurrent misses into one upstream call", async () => {
    const path = unique("/api/cached/me");
    const before = upstream.calls().length;
    const results = await Promise.all(Array.from({ length: 50 }, async () => read(await get(path, alice))));
    assert.equal(upstream.calls().length - before, 1);
    assert.equal(new Set(results.map((r) => r.body.call)).size, 1);
    assert.equal(results.filter((r) => r.cache === "MISS").length, 1);
  });

  it("purges a user's entries after their successful write, and only theirs", async () => {
    const path = unique("/api/cached/me");
    await get(path, alice);
    await get(path, bob);
    assert.equal((await get(path, alice)).headers.get("x-cache"), "HIT");
    const write = await gateway.fetch("/api/cached/change-password", {
      method: "POST",
      headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(write.status, 200);
    assert.equal((await get(path, alice)).headers.get("x-cache"), "MISS");
    assert.equal((await get(path, bob)).headers.get("x-cache"), "HIT");
  });

  it("never stores nor shares a response fetched before the user's write", async () => {
    const path = unique("/api/cached/me");
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const original = upstream.handler;
    let held = false;
    upstream.handler = async (request, response) => {
      if (request.method === "GET" && request.url === path && !held) {
        held = true; // the first read of the page is slow: it is still on its way when the write lands
        await gate;
      }
      return original(request, response);
    };
    try {
      const first = get(path, alice);
      while (upstream.calls(path).length === 0) await new Promise((r) => setTimeout(r, 5));
      const write = await gateway.fetch("/api/cached/change-password", {
        method: "POST",
        headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(write.status, 200);
      const second = get(path, alice);
      // It reaches the upstream on its own (a read that joined the older fill never would: then the check
      // below fails once the older one is let go).
      for (let i = 0; i < 400 && upstream.calls(path).length < 2; i++)
        await new Promise((r) => setTimeout(r, 5));
      release();
      const [before, after] = [await read(await first), await read(await second)];
      assert.notEqual(
        after.body.call,
        before.body.call,
        "the read after the write did not wait for the older one",
      );
      const third = await read(await get(path, alice));
      assert.equal(third.cache, "HIT");
      assert.equal(third.body.call, after.body.call, "what is cached is the answer fetched after the write");
    } finally {
      upstream.handler = original;
    }
  });

  it("does not purge after a failed write", async () => {
    const path = unique("/api/cached/me");
    await get(path, alice);
    upstream.handler = ((original) => (request, response) => {
      if (request.method === "POST") {
        response.statusCode = 400;
        response.end("{}");
        return;
      }
      return original(request, response);
    })(upstream.handler);
    await gateway.fetch("/api/other", {
      method: "POST",
      headers: { authorization: `Bearer ${alice}` },
      body: "{}",
    });
    assert.equal((await get(path, alice)).headers.get("x-cache"), "HIT");
  });
});

describe("a cacheable route whose upstream stalls mid-body", { skip: await skipUnless("redis") }, () => {
  it("answers 504 GATEWAY_TIMEOUT (not 500) and stores nothing", async () => {
    const upstream = await new TestUpstream().start();
    let calls = 0;
    upstream.handler = (_request, response) => {
      calls += 1;
      // Chunked (no length), a first piece, then nothing: the body timeout fires while the cache reads it.
      response.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=60" });
      response.write("the start of a body");
    };
    const gateway = await startTestGateway({
      routes: testRoutes(upstream.url),
      env: { RATE_LIMIT_IP: "100000", UPSTREAM_TIMEOUT_MS: "300" },
    });
    try {
      for (let i = 1; i <= 2; i++) {
        const response = await gateway.fetch("/api/public-cached");
        assert.equal(response.status, 504);
        assert.equal(((await response.json()) as { code: string }).code, "GATEWAY_TIMEOUT");
        assert.equal(calls, i, "nothing was stored: every request goes to the upstream");
      }
      const metrics = await (await gateway.fetch("/metrics")).text();
      assert.match(
        metrics,
        /^gateway_http_errors_total\{method="GET",path="\/api\/public-cached",error_type="timeout"\} 2$/m,
      );
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
