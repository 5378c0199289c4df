import assert from "node:assert/strict";
import { generateTotp } from "../../src/two-factor/totp.ts";
import { post, STRONG_PASSWORD } from "./account-helpers.ts";
import { login, signedIn } from "./session-helpers.ts";
import type { AuthTestContext } from "./test-app.ts";

export function bearerPost(ctx: AuthTestContext, path: string, accessToken: string, payload: unknown = {}) {
  return ctx.app.inject({
    method: "POST",
    url: `/api/v1/auth/${path}`,
    headers: { authorization: `Bearer ${accessToken}` },
    payload: payload as object,
  });
}

export function status(ctx: AuthTestContext, accessToken: string) {
  return ctx.app.inject({
    method: "GET",
    url: "/api/v1/auth/2fa/status",
    headers: { authorization: `Bearer ${accessToken}` },
  });
}

/** The code an authenticator shows now, after moving the clock one step on (each step is accepted once). */
export async function nextCode(ctx: AuthTestContext, secret: string): Promise<string> {
  ctx.clock.advance(30_000);
  return generateTotp(secret, ctx.clock.now());
}

/** A verified, signed-in account with 2FA turned on through the endpoints. */
export async function twoFactorUser(ctx: AuthTestContext, email: string, password = STRONG_PASSWORD) {
  const session = await signedIn(ctx, email, password);
  const enabled = await bearerPost(ctx, "2fa/enable", session.accessToken, { password });
  assert.equal(enabled.statusCode, 200, enabled.body);
  const { secret } = enabled.json<{ secret: string }>();
  const confirmed = await bearerPost(ctx, "2fa/verify-setup", session.accessToken, {
    code: await generateTotp(secret, ctx.clock.now()),
  });
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  const { backupCodes } = confirmed.json<{ backupCodes: string[] }>();
  return { ...session, email, secret, backupCodes };
}

/** The first login step on a 2FA account: its twoFactorToken. */
export async function passwordStep(ctx: AuthTestContext, email: string, password?: string): Promise<string> {
  const response = await login(ctx, email, password);
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json<{ twoFactorRequired?: boolean; twoFactorToken?: string }>();
  assert.equal(body.twoFactorRequired, true, response.body);
  assert.ok(body.twoFactorToken);
  return body.twoFactorToken;
}

export function secondStep(ctx: AuthTestContext, twoFactorToken: string, code: unknown) {
  return post(ctx, "login/2fa", { twoFactorToken, code });
}
