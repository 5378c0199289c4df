import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { rawRequest } from "../support/raw-request.ts";
import { startGatewayStack, type GatewayStack } from "../support/test-gateway.ts";

/** A POST with a JSON body to the gateway, its request target sent exactly as written. */
const send = (url: string, target: string, headers: Record<string, string>) =>
  rawRequest(url, { method: "POST", target, headers, body: ["{}"] });

/**
 * Routes are matched on the path as the upstream reads it. With a valid token (anyone can register one), a
 * differently spelt login path used to run the login handler under the per-user limit instead of login's
 * per-IP one; now every spelling gets the route, the limits and the forwarded path its decoded form names,
 * and what cannot be decoded unambiguously is a 400 that reaches no upstream.
 */
describe("request paths are normalised before routing", { skip: await skipUnless("redis") }, () => {
  let stack: GatewayStack;
  let token: string;

  before(async () => {
    stack = await startGatewayStack({ RATE_LIMIT_IP: "100000", RATE_LIMIT_USER: "100000" });
    token = await stack.issuer.token();
  });
  after(() => stack?.close());

  const headers = () => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

  it("gives encoded and dotted spellings of the login path the login route, its limit and its path", async () => {
    for (const [index, spelling] of [
      "/api/v1/auth/l%6fgin",
      "/api/v1/auth/l%6Fgin",
      "/api/v1/auth/%6c%6F%67%69%6e",
      "/api/v1/auth/x/%2e%2e/login",
      "/api/v1/auth/x/%2E%2E/login",
      "/api/v1/auth/./login",
      "/api/v1/%61uth/login?next=1",
    ].entries()) {
      const response = await send(stack.gateway.url, spelling, headers());
      assert.match(
        String(response.headers["ratelimit-policy"]),
        /"login";q=3;w=60/,
        `${spelling}: login's limit`,
      );
      if (index >= 3) {
        // Login's own limit (3 per minute per IP here) counts every spelling: the fourth is refused.
        assert.equal(response.status, 429, spelling);
        assert.equal((JSON.parse(response.body) as { code: string }).code, "RATE_LIMITED");
        continue;
      }
      assert.equal(response.status, 200, spelling);
      const seen = stack.upstream.calls().at(-1);
      assert.equal(seen?.url.split("?")[0], "/api/v1/auth/login", `${spelling}: forwarded normalised`);
    }
  });

  it("refuses what cannot be normalised unambiguously with 400, before any upstream", async () => {
    const before = stack.upstream.calls().length;
    for (const spelling of [
      "/api/v1/auth%2Flogin",
      "/api/v1/auth%2flogin",
      "/api/v1/auth%5Clogin",
      "/api/v1/auth/login%00",
      "/api/v1/auth/login%zz",
      "/api/v1/auth/login%4",
    ]) {
      const response = await send(stack.gateway.url, spelling, headers());
      assert.equal(response.status, 400, spelling);
      const body = JSON.parse(response.body) as { code: string };
      assert.equal(body.code, "MALFORMED_REQUEST", spelling);
      if (!/%(zz|4$)/.test(spelling)) {
        // (An invalid escape is refused by the HTTP framework before any hook, as a malformed URL.)
        assert.ok(response.headers["ratelimit"], `${spelling}: still admitted per IP`);
      }
    }
    assert.equal(stack.upstream.calls().length, before, "none reached the upstream");
  });

  it("keeps the query string as sent and forwards a normalised guarded path", async () => {
    const response = await send(stack.gateway.url, "/api/%70rivate/./x?a=%2F&b=%2e%2e", headers());
    assert.equal(response.status, 200);
    assert.equal(stack.upstream.calls().at(-1)?.url, "/api/private/x?a=%2F&b=%2e%2e");
  });
});
