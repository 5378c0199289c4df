import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "redis";
import { base64url, exportJWK, generateKeyPair, SignJWT } from "jose";
import { serviceUrls, skipUnless } from "@mimascota/shared/testing/services";
import { startGatewayStack, type GatewayStack, type TestGateway } from "../support/test-gateway.ts";
import type { TokenIssuer } from "@mimascota/shared/testing/token-issuer";
import type { TestUpstream } from "../support/upstream.ts";

describe("access tokens at the gateway", { skip: await skipUnless("redis") }, () => {
  let stack: GatewayStack;
  let upstream: TestUpstream;
  let issuer: TokenIssuer;
  let gateway: TestGateway;
  const redis = createClient({ url: serviceUrls.redis });

  before(async () => {
    stack = await startGatewayStack({ RATE_LIMIT_IP: "100000", RATE_LIMIT_USER: "100000" });
    ({ upstream, issuer, gateway } = stack);
    await redis.connect();
  });
  after(async () => {
    await stack.close();
    await redis.close();
  });

  const call = (token: string, path = "/api/private") =>
    gateway.fetch(path, { headers: { authorization: `Bearer ${token}` } });

  async function expectRefused(token: string, label: string): Promise<void> {
    const before = upstream.calls().length;
    const response = await call(token);
    assert.equal(response.status, 401, label);
    const body = (await response.json()) as { code: string };
    assert.equal(body.code, "UNAUTHORIZED", label);
    assert.equal(upstream.calls().length, before, `${label}: the upstream was not called`);
  }

  it("passes a valid token and sets X-User-Id from its subject", async () => {
    const response = await call(await issuer.token({ sub: "user-42" }));
    assert.equal(response.status, 200);
    assert.equal(upstream.calls().at(-1)?.headers["x-user-id"], "user-42");
  });

  it("never forwards client-sent X-User-* headers, with or without a token", async () => {
    const headers = { "x-user-id": "admin", "x-user-roles": "admin", "X-User-Email": "a@b.c" };
    await gateway.fetch("/api/public", { headers });
    const anonymous = upstream.calls().at(-1)!;
    assert.equal(anonymous.headers["x-user-id"], undefined);
    assert.equal(anonymous.headers["x-user-roles"], undefined);
    assert.equal(anonymous.headers["x-user-email"], undefined);
    await gateway.fetch("/api/private", {
      headers: { ...headers, authorization: `Bearer ${await issuer.token({ sub: "user-7" })}` },
    });
    const authenticated = upstream.calls().at(-1)!;
    assert.equal(authenticated.headers["x-user-id"], "user-7");
    assert.equal(authenticated.headers["x-user-roles"], undefined);
  });

  it("refuses a missing token or a non-bearer scheme with 401 and WWW-Authenticate", async () => {
    const missing = await gateway.fetch("/api/private");
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
    const basic = await gateway.fetch("/api/private", { headers: { authorization: "Basic dXNlcjpwYXNz" } });
    assert.equal(basic.status, 401);
  });

  it("refuses alg none", async () => {
    const header = base64url.encode(JSON.stringify({ alg: "none", typ: "at+jwt", kid: issuer.kid }));
    const payload = base64url.encode(
      JSON.stringify({
        iss: "mimascota-auth",
        aud: "mimascota-api",
        sub: "u",
        sid: "s",
        jti: "j",
        iat: 1,
        exp: 9e9,
      }),
    );
    await expectRefused(`${header}.${payload}.`, "alg none, empty signature");
    await expectRefused(`${header}.${payload}.c2ln`, "alg none, junk signature");
  });

  it("refuses HS256 signed with the public key as the secret", async () => {
    const secret = new TextEncoder().encode(JSON.stringify(issuer.publicJwk));
    const raw = base64url.decode(issuer.publicJwk.x!);
    for (const key of [secret, raw]) {
      const token = await new SignJWT({ sub: "user-1", sid: "s", jti: "j" })
        .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: issuer.kid })
        .setIssuer("mimascota-auth")
        .setAudience("mimascota-api")
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(key);
      await expectRefused(token, "HS256 with the public key");
    }
  });

  it("refuses unknown, missing and path-like kids, and a key not in the JWKS", async () => {
    await expectRefused(await issuer.token({ kid: "unknown-key" }), "unknown kid");
    await expectRefused(await issuer.token({ kid: "" }), "no kid");
    await expectRefused(await issuer.token({ kid: "../../../etc/passwd" }), "path-like kid");
    await expectRefused(await issuer.token({ kid: "https://evil.example/jwks.json" }), "URL kid");
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const foreign = await new SignJWT({ sub: "user-1", sid: "s", jti: "j" })
      .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: issuer.kid })
      .setIssuer("mimascota-auth")
      .setAudience("mimascota-api")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(privateKey);
    await expectRefused(foreign, "signed by another key under the right kid");
  });

  it("refuses expired tokens and tokens not yet valid, beyond the leeway", async () => {
    await expectRefused(await issuer.token({ expiresIn: -120 }), "expired two minutes ago");
    await expectRefused(await issuer.token({ notBefore: 600 }), "nbf ten minutes ahead");
    const response = await call(await issuer.token({ expiresIn: -5 }));
    assert.equal(response.status, 200, "expired five seconds ago is within the 30 s leeway");
  });

  it("refuses a token issued in the future beyond the leeway, or living longer than MAX_TOKEN_LIFETIME", async () => {
    const now = Date.now();
    // Correctly signed by a trusted key, all other claims right.
    await expectRefused(await issuer.token({}, now + 3600_000), "iat an hour ahead");
    await expectRefused(await issuer.token({ expiresIn: 10 * 365 * 86400 }), "exp ten years out");
    await expectRefused(await issuer.token({ expiresIn: 961 }), "one second over 15 min + 60 s");
    assert.equal((await call(await issuer.token({ expiresIn: 960 }))).status, 200, "the longest allowed");
    assert.equal((await call(await issuer.token({}, now + 20_000))).status, 200, "iat within the leeway");
  });

  it("refuses the wrong issuer, audience or typ, and missing claims", async () => {
    await expectRefused(await issuer.token({ iss: "someone-else" }), "wrong iss");
    await expectRefused(await issuer.token({ aud: "another-api" }), "wrong aud");
    await expectRefused(await issuer.token({ typ: "JWT" }), "typ JWT");
    await expectRefused(await issuer.token({ typ: "2fa+jwt" }), "a two-factor token");
    await expectRefused(await issuer.token({ omit: ["sid"] }), "no sid");
    await expectRefused(await issuer.token({ omit: ["sub"] }), "no sub");
    await expectRefused(await issuer.token({ omit: ["exp"] }), "no exp");
  });

  it("refuses a tampered claim and malformed segments", async () => {
    const token = await issuer.token({ sub: "user-1" });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Record<string, unknown>;
    const tampered = base64url.encode(JSON.stringify({ ...claims, sub: "admin" }));
    await expectRefused(`${header}.${tampered}.${signature}`, "tampered sub");
    await expectRefused(`${header}.${payload}`, "two segments");
    await expectRefused(`${header}.${payload}.${signature}.x`, "four segments");
    await expectRefused(`${header}.%%%.${signature}`, "not base64url");
    await expectRefused(`${base64url.encode("{not json")}.${payload}.${signature}`, "header not JSON");
    await expectRefused("a".repeat(5000), "oversized");
    await expectRefused("", "empty bearer");
  });

  it("refuses opaque tokens (the refresh and two-factor tokens are opaque) and other shapes as bearer", async () => {
    await expectRefused(base64url.encode(crypto.getRandomValues(new Uint8Array(32))), "opaque refresh token");
    const key = await exportJWK((await generateKeyPair("ES256")).publicKey);
    await expectRefused(base64url.encode(JSON.stringify(key)), "a JWK as bearer");
  });

  it("refuses a token of a revoked session at once, even after it was accepted and cached", async () => {
    const sid = `session-${crypto.randomUUID()}`;
    const token = await issuer.token({ sid });
    assert.equal((await call(token)).status, 200);
    await redis.set(`${gateway.config.redis.revokedSessionPrefix}${sid}`, "1", { PX: 60_000 });
    await expectRefused(token, "revoked session");
    const refused = await call(token);
    assert.match(
      refused.headers.get("ratelimit") ?? "",
      /^"user";r=\d+;t=\d+$/,
      "the limit headers, as on every answer",
    );
    assert.match(refused.headers.get("x-ratelimit-remaining") ?? "", /^\d+$/);
    await redis.del(`${gateway.config.redis.revokedSessionPrefix}${sid}`);
  });

  it("refetches the JWKS for an unknown kid at most once per cooldown", async () => {
    await call(await issuer.token());
    const fetches = issuer.jwksFetches;
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => call(await issuer.token({ kid: `rotated-${i}` }))),
    );
    assert.ok(issuer.jwksFetches - fetches <= 1, `refetched ${issuer.jwksFetches - fetches} times`);
  });

  it("accepts a rotated key's tokens after one refetch", async () => {
    assert.equal((await call(await issuer.token())).status, 200);
    await issuer.rotate();
    await new Promise((resolve) =>
      setTimeout(resolve, gateway.config.tokens.jwksRefetchCooldownSeconds * 1000 + 100),
    );
    const fetches = issuer.jwksFetches;
    assert.equal((await call(await issuer.token())).status, 200, "the new kid, after a refetch");
    assert.equal(issuer.jwksFetches - fetches, 1);
    assert.equal((await call(await issuer.token())).status, 200);
    assert.equal(issuer.jwksFetches - fetches, 1, "known from now on");
  });

  it("knows a key published ahead of use by its first token: no refetch, even within the cooldown", async () => {
    const ahead = await startGatewayStack({ JWKS_CACHE_MAX_AGE: "1", JWKS_REFETCH_COOLDOWN: "60" });
    try {
      const send = async () =>
        ahead.gateway.fetch("/api/private", {
          headers: { authorization: `Bearer ${await ahead.issuer.token()}` },
        });
      assert.equal((await send()).status, 200);
      await ahead.issuer.publishNext();
      // The key set's cache age passes; the next verification reloads it and so learns the published key.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      assert.equal((await send()).status, 200);
      const fetches = ahead.issuer.jwksFetches;
      ahead.issuer.activateNext();
      assert.equal((await send()).status, 200, "the new key's first token");
      assert.equal(ahead.issuer.jwksFetches, fetches, "known already: nothing fetched");
    } finally {
      await ahead.close();
    }
  });

  it("matches public paths exactly: look-alikes need a token and unknown paths are 404", async () => {
    const before = upstream.calls().length;
    for (const path of [
      "/api/v1/auth/login/../me",
      "/api/v1/auth/loginX",
      "/api/v1/auth/login/",
      "/api/publicX",
    ]) {
      const response = await gateway.fetch(path, { method: "POST" });
      assert.equal(response.status, 401, path);
    }
    assert.equal((await gateway.fetch("/healthz")).status, 404);
    assert.equal((await gateway.fetch("/api")).status, 404);
    assert.equal(upstream.calls().length, before, "none of them reached the upstream");
    assert.equal((await gateway.fetch("/api/v1/auth/login", { method: "POST" })).status, 200);
  });
});

describe("access tokens while the JWKS cannot be fetched", { skip: await skipUnless("redis") }, () => {
  let stack: GatewayStack;
  let issuer: TokenIssuer;
  let gateway: TestGateway;
  before(async () => {
    stack = await startGatewayStack({
      RATE_LIMIT_IP: "100000",
      RATE_LIMIT_USER: "100000",
      JWKS_CACHE_MAX_AGE: "1",
      JWKS_REFETCH_COOLDOWN: "1",
    });
    ({ issuer, gateway } = stack);
  });
  after(() => stack.close());

  // A fresh token each time (its own jti), so no answer comes from the verified-token cache.
  const call = async (options = {}) =>
    gateway.fetch("/api/private", { headers: { authorization: `Bearer ${await issuer.token(options)}` } });
  const stale = () => new Promise((resolve) => setTimeout(resolve, 1_100));

  it("keeps verifying with the last published keys, retries at most once per cooldown, and recovers", async () => {
    assert.equal((await call()).status, 200);
    const fetched = issuer.jwksFetches;

    issuer.failing = true;
    await stale(); // past JWKS_CACHE_MAX_AGE: the next token asks for a refetch, which fails
    assert.equal((await call()).status, 200, "the last published keys still verify");
    assert.equal(issuer.jwksFetches, fetched + 1);
    for (let i = 0; i < 5; i++) assert.equal((await call()).status, 200);
    assert.equal(issuer.jwksFetches, fetched + 1, "no failing fetch in front of every request");

    const unknown = await call({ kid: "a-newer-key" });
    assert.equal(unknown.status, 503, "a kid the last keys lack may be newer: not the client's fault");
    assert.equal(((await unknown.json()) as { code: string }).code, "SERVICE_UNAVAILABLE");

    issuer.failing = false;
    await stale();
    assert.equal((await call()).status, 200);
    assert.ok(issuer.jwksFetches > fetched + 1, "fetched again once the cooldown passed");
    assert.equal((await call({ kid: "a-newer-key" })).status, 401, "unknown again once the JWKS answers");
  });
});
