import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "@mimascota/shared/config";
import { loadGatewayConfig } from "../../src/config.ts";
import { Router } from "../../src/routing/router.ts";

describe("route table", () => {
  const config = loadGatewayConfig({});
  const router = new Router(config.routeTable, { bodyLimit: 1024 });

  it("routes the auth API and the JWKS to AUTH_SERVICE_URL by default", () => {
    assert.equal(config.routeTable.upstreams.auth?.url, "http://127.0.0.1:8006");
    assert.equal(config.tokens.jwksUrl, "http://127.0.0.1:8006/.well-known/jwks.json");
    assert.equal(router.match("/.well-known/jwks.json")?.public, true);
    assert.equal(router.match("/api/v1/auth/sessions")?.upstream, "auth");
  });

  it("matches public paths exactly: no prefix, no normalisation", () => {
    assert.equal(router.match("/api/v1/auth/login")?.public, true);
    for (const path of [
      "/api/v1/auth/login/../me",
      "/api/v1/auth/loginX",
      "/api/v1/auth/login/",
      "/api/v1/auth//login",
    ]) {
      assert.equal(router.match(path)?.public, false, path);
    }
    assert.equal(router.match("/healthz"), undefined);
    assert.equal(router.match("/api/v1/auth"), undefined);
  });

  it("gives credential endpoints their stricter policies and caches /me per user", () => {
    assert.deepEqual(
      router.match("/api/v1/auth/login")?.policies.map((p) => p.name),
      ["login"],
    );
    assert.deepEqual(
      router.match("/api/v1/auth/register")?.policies.map((p) => p.name),
      ["register"],
    );
    assert.deepEqual(
      router.match("/api/v1/auth/reset-password")?.policies.map((p) => p.name),
      ["password-reset"],
    );
    assert.deepEqual(
      router.match("/api/v1/auth/2fa/disable")?.policies.map((p) => p.name),
      ["two-factor"],
    );
    const me = router.match("/api/v1/auth/me");
    assert.equal(me?.public, false);
    assert.equal(me?.cache, true);
    assert.equal(me?.template, "/api/v1/auth/me");
    assert.equal(router.match("/api/v1/auth/anything/else")?.template, "/api/v1/auth/*");
  });

  it("takes the table from GATEWAY_ROUTES, so a new service is configuration only", () => {
    const custom = loadGatewayConfig({
      GATEWAY_ROUTES: JSON.stringify({
        upstreams: { pets: { url: "http://127.0.0.1:8010" } },
        routes: [{ prefix: "/api/v1/pets/", upstream: "pets", cache: true }],
      }),
    });
    const route = new Router(custom.routeTable, { bodyLimit: 1024 }).match("/api/v1/pets/12");
    assert.equal(route?.upstream, "pets");
    assert.equal(route?.public, false, "routes need a token unless marked public");
  });

  it("fails fast naming the problem in a bad table", () => {
    const bad = (routes: unknown) => () =>
      loadGatewayConfig({ GATEWAY_ROUTES: typeof routes === "string" ? routes : JSON.stringify(routes) });
    assert.throws(
      bad("{not json"),
      (e: Error) => e instanceof ConfigError && /GATEWAY_ROUTES: not valid JSON/.test(e.message),
    );
    assert.throws(
      bad({ upstreams: { a: { url: "http://x" } }, routes: [{ prefix: "/x/", upstream: "b" }] }),
      /unknown "b"/,
    );
    assert.throws(
      bad({
        upstreams: { a: { url: "http://x" } },
        routes: [{ path: "/x", upstream: "a", rateLimits: ["nope"] }],
      }),
      /unknown policy "nope"/,
    );
    assert.throws(
      bad({ upstreams: { a: { url: "http://x" } }, routes: [{ path: "/x", prefix: "/x/", upstream: "a" }] }),
      /exactly one of path and prefix/,
    );
  });

  it("refuses a JWT leeway over 60 s and algorithms outside the allow-list", () => {
    assert.throws(() => loadGatewayConfig({ JWT_CLOCK_TOLERANCE: "61" }), /JWT_CLOCK_TOLERANCE/);
    assert.throws(() => loadGatewayConfig({ JWT_ALGORITHMS: "HS256" }), /JWT_ALGORITHMS/);
    assert.equal(loadGatewayConfig({ NODE_ENV: "production" }).devMailbox, false);
  });
});
