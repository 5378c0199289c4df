import assert from "node:assert/strict";
import { listDevMail } from "@mimascota/shared/mail/dev-mailbox";
import { until } from "./processes.ts";

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

/**
 * The token in the newest mail to `email` linking to `page` (e.g. `/verify-email`), as delivered: the
 * service's mail worker writes it to the dev mailbox under its data folder (the queue row's copy of the link
 * is blanked once sent). Waits for the delivery.
 */
export async function tokenFromMailbox(dataDir: string, email: string, page: string): Promise<string> {
  const link = new RegExp(`${page}\\?token=([A-Za-z0-9_-]+)`);
  let token: string | undefined;
  await until(async () => {
    const mail = (await listDevMail(dataDir, 10_000)).find((m) => m.to === email && link.test(m.text));
    token = mail && link.exec(mail.text)?.[1];
    return token !== undefined;
  }, `a mail to ${email} with a ${page} link`);
  assert.ok(token);
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
