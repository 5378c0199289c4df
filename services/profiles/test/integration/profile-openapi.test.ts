import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createProfileTestContext, type ProfileTestContext } from "../support/test-profiles.ts";

interface OpenApi {
  paths: Record<
    string,
    Record<
      string,
      {
        security?: unknown[];
        responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
      }
    >
  >;
  components: { schemas: Record<string, { properties: Record<string, unknown> }> };
}

/** The profile service's OpenAPI document describes the contract's table, with the original's names. */
describe("profile service OpenAPI", () => {
  let ctx: ProfileTestContext;
  before(async () => {
    ctx = await createProfileTestContext({ database: "pglite" });
  });
  after(() => ctx.close());

  test("lists every operation, bearer-protected except the public photo", async () => {
    const doc = (await ctx.app.inject({ method: "GET", url: "/openapi.json" })).json<OpenApi>();
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
    );
    const keys = operations.map((o) => o.key).filter((k) => k.includes("/api/v1/profiles"));
    assert.deepEqual(keys.sort(), [
      "GET /api/v1/profiles",
      "GET /api/v1/profiles/me",
      "GET /api/v1/profiles/photos/{file}",
      "POST /api/v1/profiles",
      "POST /api/v1/profiles/{id}/photo",
      "PUT /api/v1/profiles/{id}",
    ]);
    for (const { key, op } of operations.filter((o) => o.key.includes("/api/v1/profiles"))) {
      // Public operations say so (`security: []`), so a generated client sends no token there.
      if (key.includes("/photos/")) assert.deepEqual(op.security, [], key);
      else assert.deepEqual(op.security, [{ bearer: [] }], key);
    }
    // A named component schema (`Profile`), so generated clients get a named type.
    const ok = doc.paths["/api/v1/profiles/me"]?.get?.responses["200"];
    assert.equal(ok?.content?.["application/json"]?.schema.$ref, "#/components/schemas/Profile");
    const me = doc.components.schemas.Profile ?? { properties: {} };
    for (const field of [
      "id",
      "user_id",
      "email",
      "name",
      "second_name",
      "display_name",
      "role",
      "photo_url",
      "document_type",
      "document",
      "birth_date",
      "ubication",
      "created_at",
      "updated_at",
    ]) {
      assert.ok(field in me.properties, field);
    }
  });
});
