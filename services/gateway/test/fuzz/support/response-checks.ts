import assert from "node:assert/strict";
import { KNOWN_CODES } from "./fuzz-platform.ts";
import type { RawRequest, RawResponse } from "./raw-http.ts";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * What must never reach a client: stack frames and file paths, SQL text and driver errors, validator and
 * framework internals, upstream client errors. Case-sensitive where the word is also plain English.
 */
const LEAKS: [string, RegExp][] = [
  ["stack frame", /\n\s*at |\bat [\w$.<>]+ \(|\bat (?:file|node):/],
  ["source location", /\.(?:ts|js|mjs|cjs):\d+/],
  ["node_modules path", /node_modules/],
  [
    "SQL text",
    /\b(?:SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|syntax error|relation "|violates|duplicate key|Failed query/,
  ],
  ["driver error", /\b(?:ECONNREFUSED|ECONNRESET|SQLSTATE|PostgresError|DatabaseError|pglite)\b/i],
  ["validator internals", /ZodError|"issues"|invalid_type/],
  ["framework error code", /FST_ERR|ERR_[A-Z_]{4,}|UND_ERR/],
  [
    "library message",
    /Client Error|is not a valid url component|Unexpected token|JSON at position|in JSON at/,
  ],
];

/** The reply's headers must not carry internals either (e.g. a reflected bad URL or a server banner). */
const HEADER_LEAKS = /node_modules|\bat [\w$.<>]+ \(|FST_ERR|x-powered-by/i;

export interface CheckOptions {
  /** The request carried the fuzz account's real access token. */
  validBearer: boolean;
  /** The route needs a bearer token at the gateway. */
  guarded: boolean;
}

/**
 * The properties every answer has, whatever was sent: no 5xx, a well-formed X-Request-Id (the caller's when
 * it was well-formed), nosniff, no internals anywhere, and for every error a problem+json body whose `code`
 * is in a catalogue with the status that catalogue gives it.
 */
export function checkResponse(request: RawRequest, response: RawResponse, options: CheckOptions): void {
  const where = `${request.method} ${request.target.slice(0, 200)} → ${response.status}\n${response.raw.slice(0, 800)}`;
  assert.ok(response.status < 500, `a 5xx: ${where}`);

  const id = response.headers["x-request-id"];
  assert.ok(id !== undefined && REQUEST_ID.test(id), `X-Request-Id missing or malformed: ${where}`);
  const sent = request.headers.find(([name]) => name === "x-request-id")?.[1];
  // A request the HTTP parser refused may never have had its headers read: a fresh id is right there.
  const parsed = !/"code":"(?:HEADERS_TOO_LARGE|REQUEST_TIMEOUT|MALFORMED_REQUEST)"/.test(response.body);
  if (sent !== undefined && !REQUEST_ID.test(sent)) {
    assert.notEqual(id, sent, `a malformed id is never echoed: ${where}`);
  } else if (sent !== undefined && parsed) {
    assert.equal(id, sent, `the caller's id is echoed: ${where}`);
  }
  assert.equal(response.headers["x-content-type-options"], "nosniff", `nosniff: ${where}`);

  for (const [what, pattern] of LEAKS)
    assert.doesNotMatch(response.body, pattern, `${what} leaked: ${where}`);
  const headerText = Object.entries(response.headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
  assert.doesNotMatch(headerText, HEADER_LEAKS, `internals in headers: ${where}`);

  if (options.guarded && !options.validBearer && request.method !== "OPTIONS") {
    assert.ok(response.status >= 400, `a guarded route answered without a valid token: ${where}`);
  }
  if (response.status >= 400) checkProblem(request, response, id, where);
}

/**
 * The catalogue's status, except where the contract gives a code another one on some routes: a wrong code on
 * the 2FA management endpoints is 400 (the caller is signed in), on the login step 401.
 */
function catalogueStatus(code: string, request: RawRequest): number | undefined {
  const path = request.target.split("?")[0] ?? "";
  if (code === "INVALID_2FA_CODE" && /\/2fa\/(?:verify-setup|disable|regenerate-backup-codes)$/.test(path)) {
    return 400;
  }
  return KNOWN_CODES.get(code);
}

function checkProblem(request: RawRequest, response: RawResponse, id: string, where: string): void {
  assert.match(
    response.headers["content-type"] ?? "",
    /^application\/problem\+json/,
    `not problem+json: ${where}`,
  );
  if (request.method === "HEAD") return; // no body on HEAD; the headers above still had to be right
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(response.body) as Record<string, unknown>;
  } catch {
    assert.fail(`the problem body is not JSON: ${where}`);
  }
  const code = String(body.code);
  assert.ok(KNOWN_CODES.has(code), `unknown code ${code}: ${where}`);
  assert.equal(body.status, response.status, `body status matches: ${where}`);
  assert.equal(catalogueStatus(code, request), response.status, `${code} has its catalogue status: ${where}`);
  assert.equal(body.requestId, id, `requestId matches the header: ${where}`);
  for (const field of ["type", "title", "detail"]) {
    assert.equal(typeof body[field], "string", `${field} is a string: ${where}`);
  }
}
