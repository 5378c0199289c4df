import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import type { InjectOptions } from "fastify";
import { problem, STRONG_PASSWORD, verifiedUser } from "../support/account-helpers.ts";
import { login, signedIn } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

type Inject = InjectOptions;

/** Hostile or broken input on the session endpoints: always the right 4xx problem, never a 500. */
describe("session endpoints under bad input", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
    await verifiedUser(ctx, "victim@example.com");
  });
  after(() => ctx.close());

  async function expectProblem(request: Inject, status: number, code: string) {
    const response = await ctx.app.inject(request);
    assert.equal(response.statusCode, status, `${JSON.stringify(request).slice(0, 200)} → ${response.body}`);
    assert.equal(problem(response).code, code);
    return response;
  }

  const loginWith = (payload: unknown, headers: Record<string, string> = {}): Inject => ({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: payload as string,
    headers,
  });

  it("login: wrong types and missing fields are VALIDATION_ERROR naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ password: STRONG_PASSWORD }, "email"],
      [{ email: "victim@example.com" }, "password"],
      [{ email: 42, password: STRONG_PASSWORD }, "email"],
      [{ email: "victim@example.com", password: ["a"] }, "password"],
      [{ email: { $ne: null }, password: STRONG_PASSWORD }, "email"],
      [{ email: "victim@example.com", password: "" }, "password"],
      [{ email: "not-an-email", password: STRONG_PASSWORD }, "email"],
      [[], ""],
    ];
    for (const [payload, field] of cases) {
      const response = await expectProblem(loginWith(payload), 400, "VALIDATION_ERROR");
      const { errors } = response.json<{ errors: { path: string }[] }>();
      assert.ok(
        errors.some((e) => e.path.includes(field)),
        `${JSON.stringify(payload)}: ${JSON.stringify(errors)}`,
      );
    }
  });

  it("login: CRLF and other control characters in the email are refused", async () => {
    for (const email of [
      "victim@example.com\r\nBcc: x@evil.example",
      "victim@example.com\n",
      "vic\u0000tim@example.com",
    ]) {
      await expectProblem(loginWith({ email, password: STRONG_PASSWORD }), 400, "VALIDATION_ERROR");
    }
  });

  it("login: over-long emails and passwords are refused before any hashing", async () => {
    await expectProblem(
      loginWith({ email: `${"a".repeat(65)}@example.com`, password: "x" }),
      400,
      "VALIDATION_ERROR",
    );
    await expectProblem(
      loginWith({ email: `a@${"b".repeat(250)}.com`, password: "x" }),
      400,
      "VALIDATION_ERROR",
    );
    await expectProblem(
      loginWith({ email: "victim@example.com", password: "x".repeat(1025) }),
      400,
      "VALIDATION_ERROR",
    );
  });

  it("login: SQL-injection strings are just wrong credentials", async () => {
    for (const payload of [
      { email: "victim@example.com' --", password: STRONG_PASSWORD },
      { email: "victim@example.com", password: "' OR '1'='1" },
      { email: "x@example.com'; drop table users; --", password: "' OR 1=1 --" },
    ]) {
      const response = await ctx.app.inject(loginWith(payload));
      assert.ok([400, 401].includes(response.statusCode), response.body);
      assert.ok(["VALIDATION_ERROR", "INVALID_CREDENTIALS"].includes(problem(response).code));
    }
    assert.equal((await login(ctx, "victim@example.com")).statusCode, 200, "the users table is intact");
  });

  it("login: malformed JSON, wrong content type and huge bodies", async () => {
    await expectProblem(
      {
        method: "POST",
        url: "/api/v1/auth/login",
        payload: '{"email": "victim@example.com",',
        headers: { "content-type": "application/json" },
      },
      400,
      "MALFORMED_JSON",
    );
    await expectProblem(
      {
        method: "POST",
        url: "/api/v1/auth/login",
        payload: "email=victim@example.com&password=x",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      },
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    await expectProblem(
      {
        method: "POST",
        url: "/api/v1/auth/login",
        payload: "victim@example.com",
        headers: { "content-type": "text/plain" },
      },
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    await expectProblem(
      loginWith({ email: "victim@example.com", password: "x".repeat(ctx.config.http.bodyLimitBytes + 1) }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    await expectProblem(
      { method: "POST", url: "/api/v1/auth/login", headers: { "content-type": "application/json" } },
      400,
      "MALFORMED_JSON",
    );
  });

  it("refresh and logout: hostile cookies and bodies never cause a 500", async () => {
    const cookies = ["", "a".repeat(3000), "' or 1=1 --", "%00%0d%0a", "😀"];
    for (const value of cookies) {
      const refresh = await ctx.app.inject({
        method: "POST",
        url: "/api/v1/auth/refresh",
        cookies: { refresh_token: value },
      });
      assert.equal(refresh.statusCode, 401, refresh.body);
      assert.equal(problem(refresh).code, "INVALID_REFRESH_TOKEN");
      const logout = await ctx.app.inject({
        method: "POST",
        url: "/api/v1/auth/logout",
        cookies: { refresh_token: value },
      });
      assert.equal(logout.statusCode, 204);
    }
    await expectProblem(
      {
        method: "POST",
        url: "/api/v1/auth/refresh",
        payload: "{oops",
        headers: { "content-type": "application/json" },
      },
      400,
      "MALFORMED_JSON",
    );
    await expectProblem(
      { method: "POST", url: "/api/v1/auth/logout", payload: "x", headers: { "content-type": "text/plain" } },
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
  });

  it("me: hostile Authorization headers are 401, wrong methods 405", async () => {
    const { accessToken } = await signedIn(ctx, "me-input@example.com");
    for (const authorization of [
      "",
      "Bearer",
      "Bearer ",
      `Basic ${accessToken}`,
      `bearer${accessToken}`,
      "Bearer a.b.c",
      `Bearer ${"a".repeat(5000)}.b.c`,
      "Bearer ' or 1=1 --",
    ]) {
      await expectProblem(
        { method: "GET", url: "/api/v1/auth/me", headers: { authorization } },
        401,
        "UNAUTHORIZED",
      );
    }
    const withBody = await ctx.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      payload: "{oops",
      headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
    });
    assert.ok(withBody.statusCode < 500, withBody.body);
    // DELETE is account deletion (bearer, so a 401 here); PUT is no method of /me.
    const wrongMethod = await expectProblem(
      { method: "PUT", url: "/api/v1/auth/me" },
      405,
      "METHOD_NOT_ALLOWED",
    );
    assert.match(String(wrongMethod.headers.allow), /GET/);
    assert.match(String(wrongMethod.headers.allow), /DELETE/);
    await expectProblem({ method: "GET", url: "/api/v1/auth/login" }, 405, "METHOD_NOT_ALLOWED");
  });

  it("the OpenAPI document lists each session endpoint's error codes", async () => {
    const doc = (await ctx.app.inject({ method: "GET", url: "/openapi.json" })).body;
    const spec = JSON.parse(doc) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const codes = (path: string, method: string) =>
      JSON.stringify(spec.paths[path]?.[method]?.responses ?? {});
    assert.match(
      codes("/api/v1/auth/login", "post"),
      /INVALID_CREDENTIALS[\s\S]*EMAIL_NOT_VERIFIED|EMAIL_NOT_VERIFIED[\s\S]*INVALID_CREDENTIALS/,
    );
    for (const code of [
      "INVALID_REFRESH_TOKEN",
      "REFRESH_TOKEN_REUSED",
      "REFRESH_TOKEN_STALE",
      "CROSS_SITE_REQUEST",
    ]) {
      assert.ok(codes("/api/v1/auth/refresh", "post").includes(code), code);
    }
    assert.ok(codes("/api/v1/auth/logout", "post").includes("CROSS_SITE_REQUEST"));
    assert.ok(codes("/api/v1/auth/me", "get").includes("UNAUTHORIZED"));
    assert.ok(spec.paths["/.well-known/jwks.json"]?.get);
  });
});
