import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import type { LightMyRequestResponse } from "fastify";
import { users } from "../../src/db/schema.ts";
import type { AuthTestContext } from "./test-app.ts";

export const STRONG_PASSWORD = "tortuga violeta bajo la lluvia";
export const OTHER_STRONG_PASSWORD = "cometa naranja sobre el tejado";

export function post(
  ctx: AuthTestContext,
  url: string,
  payload: unknown,
  headers: Record<string, string> = {},
) {
  return ctx.app.inject({ method: "POST", url: `/api/v1/auth/${url}`, payload: payload as object, headers });
}

/** The token from the newest queued mail of a template to an address, read from the link in its text. */
export async function tokenFromMail(ctx: AuthTestContext, to: string, template: string): Promise<string> {
  const mail = (await ctx.mails()).find((m) => m.toAddress === to && m.template === template);
  assert.ok(mail, `no ${template} mail to ${to}`);
  const match = /[?&]token=([A-Za-z0-9_-]+)/.exec(mail.textBody);
  assert.ok(match?.[1], "the mail carries a link with a token");
  return match[1];
}

export async function register(ctx: AuthTestContext, email: string, password = STRONG_PASSWORD, extra = {}) {
  const response = await post(ctx, "register", { email, password, ...extra });
  assert.equal(response.statusCode, 202, response.body);
  return response;
}

/** Registers and verifies an account through the endpoints; returns its id. */
export async function verifiedUser(ctx: AuthTestContext, email: string, password = STRONG_PASSWORD) {
  await register(ctx, email, password);
  const token = await tokenFromMail(ctx, email, "verify-email");
  const verified = await post(ctx, "verify-email", { token });
  assert.equal(verified.statusCode, 200, verified.body);
  return userRow(ctx, email);
}

export async function userRow(ctx: AuthTestContext, email: string) {
  const [row] = await ctx.database.db.select().from(users).where(eq(users.email, email));
  assert.ok(row, `user ${email} exists`);
  return row;
}

export function problem(response: LightMyRequestResponse): { code: string; detail: string; status: number } {
  assert.match(String(response.headers["content-type"]), /^application\/problem\+json/);
  return response.json();
}

/** Headers that must not differ between two answers meant to be indistinguishable. */
export function comparableHeaders(response: LightMyRequestResponse): Record<string, unknown> {
  const { "x-request-id": _id, date: _date, ...rest } = response.headers;
  return rest;
}
