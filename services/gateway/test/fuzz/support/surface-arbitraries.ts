import fc from "fast-check";
import { ENDPOINTS } from "./endpoints.ts";
import { contentType, headers } from "./header-arbitraries.ts";
import { anyBody, queryString, type Credentials, type FuzzCase } from "./request-arbitraries.ts";

/**
 * Methods a client can send: the routed ones, ones fastify knows but no route takes, lower case, and tokens
 * no parser knows. CONNECT is left out: it asks for a tunnel, and a server without one closes the socket
 * (Node's documented behaviour), which is no answer to check.
 */
export const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "TRACE",
      "PROPFIND",
      "SEARCH",
      "PURGE",
      "LOCK",
      "MKCOL",
      "COPY",
      "REPORT",
      "QUERY",
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom("get", "Post", "FOO", "G E T", "GET\u0000", "POST;", "ÄÖÜ") },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,12}$/) },
);

const BASES = [
  "/api/v1/auth/",
  "/api/v1/auth",
  "/api/v1/",
  "/api/",
  "/",
  "/.well-known/",
  "/health",
  "/ready",
  "/metrics",
  "/circuit-breakers",
  "/_dev/mail",
  "/docs",
  "/openapi.json",
  ...ENDPOINTS.map((e) => e.path),
];

/** Path segments: traversal, encoded separators and NULs, broken percent-encoding, unicode, very long. */
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~-]{0,12}$/) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "..",
      ".",
      "%2e%2e",
      "%2E%2E%2F",
      "%2f",
      "%00",
      "%zz",
      "%",
      "%E0%A4%A",
      "%C0%AE%C0%AE",
      "me",
      "login",
      "2fa",
      "ME",
      "login;jsessionid=1",
      "login%20",
      "login.json",
      "%u002e",
      "~",
      "*",
      "@",
      ":",
      "!$&'()*+,;=",
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }).map((s) => encodeURIComponent(s)) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: "binary-ascii", maxLength: 6 }).map((s) => encodeURIComponent(s)),
  },
  { weight: 1, arbitrary: fc.integer({ min: 300, max: 6_000 }).map((n) => "a".repeat(n)) },
);

/** A path under one of the gateway's routes or endpoints, with generated segments after it. */
export const path = fc
  .tuple(fc.constantFrom(...BASES), fc.array(segment, { maxLength: 4 }), fc.constantFrom("", "/", "//"))
  .map(([base, segments, tail]) => {
    const rest = segments.join("/");
    const joined = rest === "" ? base : `${base}${base.endsWith("/") ? "" : "/"}${rest}`;
    return segments.length > 0 ? joined + tail : joined;
  });

/** Any method on any path near the routes, with any query, headers and (sometimes) body. */
export function surfaceCase(creds: Credentials): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      method,
      path,
      query: queryString,
      headers: headers(creds, true),
      body: fc.option(anyBody(ENDPOINTS[0]!, creds), { freq: 2 }),
      type: fc.option(contentType, { freq: 4 }),
      preflight: fc.option(fc.constantFrom("POST", "GET", "DELETE", "X"), { freq: 6 }),
    })
    .map(({ method, path, query, headers, body, type, preflight }) => {
      const list = [...headers.list];
      if (type !== null) list.push(["content-type", type]);
      if (preflight !== null) list.push(["access-control-request-method", preflight]);
      return {
        request: { method, target: path + query, headers: list, ...(body ? { body } : {}) },
        validBearer: headers.validBearer,
      };
    });
}
