import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createProfileTestContext, type ProfileTestContext } from "../support/test-profiles.ts";

/** The database gone is an outage the client may retry (503 with Retry-After), as in the auth service. */
describe("profile service without its database", () => {
  let ctx: ProfileTestContext;
  before(async () => {
    ctx = await createProfileTestContext({ database: "pglite" });
  });
  // The database is closed by the test itself; the rest is closed here.
  after(async () => {
    await ctx.app.close();
    await ctx.issuer.close();
    await ctx.kv.close();
    await ctx.store.close();
  });

  test("answers 503 SERVICE_UNAVAILABLE with Retry-After, not 500", async () => {
    const token = await ctx.token(randomUUID());
    await ctx.database.close();
    const response = await ctx.app.inject({
      method: "GET",
      url: "/api/v1/profiles/me",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json<{ code: string }>().code, "SERVICE_UNAVAILABLE");
    assert.equal(response.headers["retry-after"], "5");
  });
});
