import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AUTH_PREFIX, PUBLIC_AUTH_ROUTES } from "@mimascota/shared/auth-contract";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

/**
 * The gateway's built-in table makes exactly these auth endpoints public (each with its limit), from the
 * shared contract module: each must be a POST route of the auth service, answering without a token.
 */
describe("the public auth routes of the shared contract", () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ database: "pglite" });
  });
  after(() => ctx?.close());

  it("are POST routes of the auth service that need no bearer token", async () => {
    for (const { path } of PUBLIC_AUTH_ROUTES) {
      const url = `${AUTH_PREFIX}${path}`;
      assert.ok(ctx.app.hasRoute({ method: "POST", url }), url);
      const response = await ctx.app.inject({ method: "POST", url, payload: {} });
      // (refresh answers its own 401 for the missing cookie; never the bearer guard's UNAUTHORIZED)
      const code = response.body ? (response.json<{ code?: string }>().code ?? "") : "";
      assert.notEqual(code, "UNAUTHORIZED", `${url} answered without asking for a bearer token`);
    }
  });
});
