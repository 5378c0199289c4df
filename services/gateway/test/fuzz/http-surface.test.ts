import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { skipUnless } from "@mimascota/shared/testing/services";
import { Router } from "../../src/routing/router.ts";
import { startFuzzPlatform, type FuzzPlatform } from "./support/fuzz-platform.ts";
import { Outcomes, fuzzRequests } from "./support/fuzz-run.ts";
import { fuzzParameters } from "./support/fuzz-settings.ts";
import { malformedRequest } from "./support/malformed-http.ts";
import { sendBytes } from "./support/raw-http.ts";
import { checkResponse } from "./support/response-checks.ts";
import { surfaceCase } from "./support/surface-arbitraries.ts";

/**
 * The gateway's whole HTTP surface: any method on any path near the routes, and requests broken at the
 * protocol level. Every one gets an answer in the envelope, with a request id, and changes nothing.
 */
describe("fuzzing the gateway's HTTP surface", { skip: await skipUnless("postgres", "redis") }, () => {
  let platform: FuzzPlatform;
  let router: Router;
  before(async () => {
    // Loopback is a trusted proxy here, so the generated X-Forwarded-For chains are parsed and used as the
    // client address (rate-limit keys, the address passed on), not ignored.
    platform = await startFuzzPlatform({ gatewayEnv: { TRUSTED_PROXIES: "127.0.0.1" } });
    router = new Router(platform.gateway.config.routeTable, {
      bodyLimit: platform.gateway.config.http.bodyLimitBytes,
    });
  });
  after(() => platform?.close());

  it("any method on any path under the routes, with any query, headers and body, gets a clean answer", async (t) => {
    const cases = surfaceCase(platform.user).map((c) => {
      const path = c.request.target.split("?")[0] ?? "";
      const route = router.match(path);
      return { ...c, guarded: route !== undefined && !route.public };
    });
    await fuzzRequests(t, platform, cases, 1);
  });

  it("requests broken at the protocol level get a 4xx problem with a request id, and change nothing", async (t) => {
    const outcomes = new Outcomes();
    let state = await platform.fingerprint();
    await fc.assert(
      fc.asyncProperty(malformedRequest, async ({ bytes, kind }) => {
        const response = await sendBytes(platform.port, bytes);
        outcomes.add(response.status, response.body);
        const target = `(${kind}) ${bytes.subarray(0, 80).toString("latin1")}`;
        checkResponse({ method: "?", target, headers: [] }, response, { validBearer: false, guarded: false });
        // Node's parser takes any HTTP/d.d version; everything else broken here must be refused.
        if (kind !== "version") assert.ok(response.status >= 400, `a broken request was accepted: ${target}`);
        const after = await platform.fingerprint();
        if (response.status >= 400) assert.equal(after, state, `a refused request changed state: ${target}`);
        state = after;
      }),
      fuzzParameters(t, 0.5),
    );
    t.diagnostic(`answers: ${outcomes.summary()}`);
  });

  it("the gateway still serves after the fuzz: the breaker is closed and the account's token works", async () => {
    const breakers = (await (await platform.gateway.fetch("/circuit-breakers")).json()) as {
      auth: { state: string };
    };
    assert.equal(breakers.auth.state, "closed");
    const me = await platform.gateway.fetch("/api/v1/auth/me", {
      headers: { authorization: `Bearer ${platform.user.accessTokens[0]}` },
    });
    assert.equal(me.status, 200);
  });
});
