import assert from "node:assert/strict";
import type { LightMyRequestResponse } from "fastify";
import { post, STRONG_PASSWORD, verifiedUser } from "./account-helpers.ts";
import type { AuthTestContext } from "./test-app.ts";

export interface ResponseCookie {
  name: string;
  value: string;
  path?: string;
  maxAge?: number;
  expires?: Date;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: string;
}

/** The refresh cookie a response sets. */
export function refreshCookie(ctx: AuthTestContext, response: LightMyRequestResponse): ResponseCookie {
  const cookie = (response.cookies as ResponseCookie[]).find(
    (c) => c.name === ctx.config.cookies.refreshName,
  );
  assert.ok(
    cookie,
    `no ${ctx.config.cookies.refreshName} cookie in ${JSON.stringify(response.headers["set-cookie"])}`,
  );
  return cookie;
}

export function login(ctx: AuthTestContext, email: string, password = STRONG_PASSWORD, headers = {}) {
  return post(ctx, "login", { email, password }, headers);
}

/** A verified account signed in once: its id, access token and refresh token. */
export async function signedIn(ctx: AuthTestContext, email: string, password = STRONG_PASSWORD) {
  const user = await verifiedUser(ctx, email, password);
  const response = await login(ctx, email, password);
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json<{ accessToken: string }>();
  return { userId: user.id, accessToken: body.accessToken, refreshToken: refreshCookie(ctx, response).value };
}

export function refresh(
  ctx: AuthTestContext,
  token: string | undefined,
  headers: Record<string, string> = {},
) {
  return ctx.app.inject({
    method: "POST",
    url: "/api/v1/auth/refresh",
    ...(token ? { cookies: { [ctx.config.cookies.refreshName]: token } } : {}),
    headers,
  });
}

export function logout(
  ctx: AuthTestContext,
  token: string | undefined,
  headers: Record<string, string> = {},
) {
  return ctx.app.inject({
    method: "POST",
    url: "/api/v1/auth/logout",
    ...(token ? { cookies: { [ctx.config.cookies.refreshName]: token } } : {}),
    headers,
  });
}

export function me(ctx: AuthTestContext, accessToken: string) {
  return ctx.app.inject({
    method: "GET",
    url: "/api/v1/auth/me",
    headers: { authorization: `Bearer ${accessToken}` },
  });
}

/** Decodes a JWT's header and payload without verifying (tests inspect what was signed). */
export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = token.split(".");
  const decode = (part: string | undefined) =>
    JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  return { header: decode(header), payload: decode(payload) };
}
