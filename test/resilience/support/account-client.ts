import assert from "node:assert/strict";
import type pg from "pg";

/** What a client does over HTTP, against the auth service or the gateway at `baseUrl`. */
export function postJson(baseUrl: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${baseUrl}/api/v1/auth/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

export function register(baseUrl: string, email: string, password: string) {
  return postJson(baseUrl, "register", { email, password });
}

export interface SignedIn {
  accessToken: string;
  /** The refresh token, from the Set-Cookie of the login answer. */
  refreshToken: string;
}

export async function login(baseUrl: string, email: string, password: string): Promise<Response> {
  return postJson(baseUrl, "login", { email, password });
}

export async function signedIn(response: Response, cookieName = "refresh_token"): Promise<SignedIn> {
  assert.equal(response.status, 200);
  const { accessToken } = (await response.json()) as { accessToken: string };
  const cookie = response.headers
    .getSetCookie()
    .map((header) => header.split(";")[0] ?? "")
    .find((pair) => pair.startsWith(`${cookieName}=`));
  assert.ok(cookie, "the login answer sets the refresh cookie");
  return { accessToken, refreshToken: cookie.slice(cookieName.length + 1) };
}

export function refresh(baseUrl: string, refreshToken: string) {
  return fetch(`${baseUrl}/api/v1/auth/refresh`, {
    method: "POST",
    headers: { cookie: `refresh_token=${refreshToken}`, origin: "http://localhost:3000" },
  });
}

/** The token in the link of the newest queued mail of `template` to `email`, read from the queue table. */
export async function tokenFromQueue(sql: pg.Client, email: string, template: string): Promise<string> {
  const { rows } = await sql.query<{ text_body: string }>(
    "select text_body from mail_queue where to_address = $1 and template = $2 order by created_at desc limit 1",
    [email, template],
  );
  const token = /[?&]token=([A-Za-z0-9_-]+)/.exec(rows[0]?.text_body ?? "")?.[1];
  assert.ok(token, `a ${template} mail to ${email} with a token link`);
  return token;
}

/** Registers every address, `limit` at a time; the answers' statuses in input order. */
export function registerAll(baseUrl: string, emails: string[], password: string, limit: number) {
  return mapLimit(emails, limit, async (email) => (await register(baseUrl, email, password)).status);
}

/** Runs `task` over `items` with at most `limit` at a time, results in input order. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
) {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
