import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { startTestGateway, testRoutes, type TestGateway } from "../support/test-gateway.ts";
import { TokenIssuer } from "@mimascota/shared/testing/token-issuer";
import { TestUpstream } from "../support/upstream.ts";

/**
 * Two route-table features the original Mi Mascota front end needs: a route may require a role from the
 * token's `roles` claim (403 FORBIDDEN_ROLE otherwise, without reaching the upstream), and an alias route
 * forwards its paths under another prefix (the original gateway's `/api/v1/2fa/*`).
 */
describe("route roles and alias routes", { skip: await skipUnless("redis") }, () => {
  let upstream: TestUpstream;
  let issuer: TokenIssuer;
  let gateway: TestGateway;

  before(async () => {
    upstream = await new TestUpstream().start();
    issuer = await new TokenIssuer().start();
    gateway = await startTestGateway({
      routes: testRoutes(upstream.url, {
        routes: [
          {
            path: "/api/providers/agenda",
            upstream: "app",
            public: false,
            rateLimits: [],
            cache: false,
            roles: ["provider"],
          },
          {
            prefix: "/api/v1/2fa/",
            upstream: "app",
            public: false,
            rateLimits: [],
            cache: false,
            rewrite: { from: "/api/v1/2fa/", to: "/api/v1/auth/2fa/" },
          },
        ],
      }),
      jwksUrl: issuer.jwksUrl,
    });
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
    await issuer?.close();
  });

  const get = async (path: string, roles?: unknown) => {
    const token = await issuer.token(roles === undefined ? {} : { extra: { roles } });
    return gateway.fetch(path, { headers: { authorization: `Bearer ${token}`, "accept-language": "en" } });
  };

  it("lets a token with the required role through and refuses one without it with 403 FORBIDDEN_ROLE", async () => {
    const before = upstream.requests.length;
    for (const roles of [["client"], undefined, "provider", [42]]) {
      const refused = await get("/api/providers/agenda", roles);
      assert.equal(refused.status, 403, JSON.stringify(roles));
      const body = (await refused.json()) as { code: string; detail: string };
      assert.equal(body.code, "FORBIDDEN_ROLE");
      assert.equal(refused.headers.get("content-type"), "application/problem+json; charset=utf-8");
      assert.ok(refused.headers.get("ratelimit"), "still admitted and counted");
    }
    assert.equal(upstream.requests.length, before, "a refused role never reaches the upstream");
    const allowed = await get("/api/providers/agenda", ["client", "provider"]);
    assert.equal(allowed.status, 200);
    assert.equal(upstream.requests.at(-1)?.url, "/api/providers/agenda");
  });

  it("answers FORBIDDEN_ROLE in Spanish by default", async () => {
    const token = await issuer.token({ extra: { roles: ["client"] } });
    const refused = await gateway.fetch("/api/providers/agenda", {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await refused.json()) as { title: string; detail: string };
    assert.equal(body.title, "Rol no autorizado");
    assert.match(body.detail, /rol necesario/);
  });

  it("forwards an alias route under the upstream's prefix, keeping the rest of the path and the query", async () => {
    const response = await get("/api/v1/2fa/status?verbose=1");
    assert.equal(response.status, 200);
    assert.equal(upstream.requests.at(-1)?.url, "/api/v1/auth/2fa/status?verbose=1");
    assert.equal(await get("/api/v1/2fa/status", undefined).then((r) => r.status), 200);
    const anonymous = await gateway.fetch("/api/v1/2fa/status");
    assert.equal(anonymous.status, 401, "an alias route is guarded like any other");
  });
});
