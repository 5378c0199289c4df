import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

interface Operation {
  tags?: string[];
  security?: unknown[];
  requestBody?: unknown;
  responses: Record<
    string,
    { content?: Record<string, { schema?: { properties?: { code?: { enum?: string[] } } } }> }
  >;
}

/** The OpenAPI document is generated from the route schemas; each account endpoint lists its error codes. */
describe("OpenAPI for the account endpoints", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  let paths: Record<string, Record<string, Operation>>;
  before(async () => {
    ctx = await createAuthTestContext();
    paths = (await ctx.app.inject({ method: "GET", url: "/openapi.json" })).json<{ paths: typeof paths }>()
      .paths;
  });
  after(() => ctx.close());

  const codes = (path: string, status: string): string[] => {
    const response = paths[path]?.post?.responses[status];
    const content = Object.values(response?.content ?? {})[0];
    return content?.schema?.properties?.code?.enum ?? [];
  };

  const expected: Record<string, { success: string; errors: Record<string, string[]> }> = {
    "/api/v1/auth/register": { success: "202", errors: { "400": ["VALIDATION_ERROR", "WEAK_PASSWORD"] } },
    "/api/v1/auth/verify-email": { success: "200", errors: { "400": ["INVALID_TOKEN"] } },
    "/api/v1/auth/resend-verification": { success: "202", errors: { "400": ["VALIDATION_ERROR"] } },
    "/api/v1/auth/forgot-password": { success: "202", errors: { "400": ["VALIDATION_ERROR"] } },
    "/api/v1/auth/reset-password": { success: "200", errors: { "400": ["INVALID_TOKEN", "WEAK_PASSWORD"] } },
    "/api/v1/auth/change-password": {
      success: "200",
      errors: {
        "400": ["WEAK_PASSWORD"],
        "401": ["UNAUTHORIZED", "INVALID_CURRENT_PASSWORD"],
        "429": ["TOO_MANY_ATTEMPTS"],
      },
    },
  };

  for (const [path, spec] of Object.entries(expected)) {
    it(`${path} documents its success status, request body and every error code`, () => {
      const operation = paths[path]?.post;
      assert.ok(operation, `${path} is in the document`);
      assert.ok(operation.requestBody);
      assert.ok(operation.responses[spec.success]);
      for (const [status, list] of Object.entries(spec.errors)) {
        for (const code of list)
          assert.ok(codes(path, status).includes(code), `${path} ${status} lists ${code}`);
      }
      for (const [status, code] of [
        ["413", "PAYLOAD_TOO_LARGE"],
        ["415", "UNSUPPORTED_MEDIA_TYPE"],
        ["500", "INTERNAL_ERROR"],
        ["503", "SERVICE_UNAVAILABLE"],
      ] as const) {
        assert.ok(codes(path, status).includes(code), `${path} ${status} lists ${code}`);
      }
    });
  }

  it("marks change-password as needing a bearer token", () => {
    assert.deepEqual(paths["/api/v1/auth/change-password"]?.post?.security, [{ bearer: [] }]);
  });
});
