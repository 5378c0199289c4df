import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { post, problem, verifiedUser } from "../support/account-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

const ENDPOINTS = [
  "register",
  "verify-email",
  "resend-verification",
  "forgot-password",
  "reset-password",
  "change-password",
];

/** Hostile or broken input on every account endpoint ends in the right 4xx problem, never a 500. */
describe("account endpoints and bad input", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  let bearer: Record<string, string>;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
    await verifiedUser(ctx, "input@example.com");
    const login = await post(ctx, "login", {
      email: "input@example.com",
      password: "tortuga violeta bajo la lluvia",
    });
    bearer = { authorization: `Bearer ${login.json<{ accessToken: string }>().accessToken}` };
  });
  after(() => ctx.close());

  const send = (endpoint: string, payload: string, contentType = "application/json") =>
    ctx.app.inject({
      method: "POST",
      url: `/api/v1/auth/${endpoint}`,
      headers: { "content-type": contentType, ...(endpoint === "change-password" ? bearer : {}) },
      payload,
    });

  for (const endpoint of ENDPOINTS) {
    it(`${endpoint}: malformed JSON, a wrong content type and a huge body get 400, 415 and 413`, async () => {
      const malformed = await send(endpoint, '{"email": ');
      const text = await send(endpoint, "email=a@example.com", "text/plain");
      const huge = await send(
        endpoint,
        JSON.stringify({ email: "a@example.com", token: "x".repeat(50_000) }),
      );
      assert.deepEqual(
        [malformed, text, huge].map((r) => problem(r).code),
        ["MALFORMED_JSON", "UNSUPPORTED_MEDIA_TYPE", "PAYLOAD_TOO_LARGE"],
      );
    });

    it(`${endpoint}: wrong types, SQL-injection strings and CRLF get a 4xx problem, never a 500`, async () => {
      const payloads: unknown[] = [
        {},
        [],
        "just a string",
        42,
        { email: "' OR '1'='1' --", token: "' OR '1'='1' --", password: 1, newPassword: null },
        { email: "a@example.com\r\nBcc: victim@example.com", token: ["x"], currentPassword: {} },
        { email: { $ne: null }, token: { $gt: "" }, newPassword: true },
        {
          email: "a@example.com\u0000",
          token: "x".repeat(300),
          password: "x".repeat(2000),
          newPassword: "y".repeat(2000),
        },
      ];
      for (const payload of payloads) {
        const response = await send(endpoint, JSON.stringify(payload));
        assert.ok(
          response.statusCode >= 400 && response.statusCode < 500,
          `${endpoint} ${JSON.stringify(payload)} → ${response.statusCode}`,
        );
        const code = problem(response).code;
        assert.ok(
          ["VALIDATION_ERROR", "INVALID_TOKEN", "WEAK_PASSWORD"].includes(code),
          `${endpoint}: ${code}`,
        );
      }
    });
  }

  it("change-password without a bearer token is 401 whatever the body, before the body is looked at", async () => {
    for (const [payload, contentType] of [
      ['{"currentPassword": ', "application/json"],
      ["x", "text/plain"],
      [JSON.stringify({ currentPassword: "x".repeat(50_000) }), "application/json"],
      [JSON.stringify({}), "application/json"],
    ]) {
      const response = await ctx.app.inject({
        method: "POST",
        url: "/api/v1/auth/change-password",
        headers: { "content-type": contentType! },
        payload: payload!,
      });
      assert.equal(problem(response).code, "UNAUTHORIZED");
    }
  });
});
