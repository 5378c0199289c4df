import fc from "fast-check";
import { INJECTIONS } from "./hostile-values.ts";
import type { Credentials } from "./request-arbitraries.ts";

const JSON_TYPES = ["application/json", "application/json; charset=utf-8", "Application/JSON"];
export const contentType = fc.oneof(
  { weight: 24, arbitrary: fc.constantFrom(...JSON_TYPES) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "text/plain",
      "text/html",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=fuzz",
      "application/problem+json",
      "application/json; charset=latin1",
      "application/json; charset=utf-16",
      "application/jsonp",
      "json",
      "*/*",
      "",
      ";;;",
      "application/json; boundary=",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).filter(isHeaderSafe) },
);

/** Header values as a well-formed request carries them: visible ASCII, spaces and tabs (and latin-1). */
export function isHeaderSafe(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value) && value.trim() === value;
}
const headerText = (max: number) => fc.string({ maxLength: max }).filter(isHeaderSafe);
const jwtLike = fc
  .tuple(
    fc.base64String({ maxLength: 40 }),
    fc.base64String({ maxLength: 80 }),
    fc.base64String({ maxLength: 40 }),
  )
  .map((parts) => parts.map((p) => p.replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_")).join("."));

function authorization(creds: Credentials, guarded: boolean): fc.Arbitrary<string | undefined> {
  const [token = ""] = creds.accessTokens;
  return fc.oneof(
    {
      weight: guarded ? 10 : 1,
      arbitrary: fc.constantFrom(...creds.accessTokens).map((token) => `Bearer ${token}`),
    },
    { weight: 3, arbitrary: fc.constant(undefined) },
    {
      weight: 3,
      arbitrary: fc.oneof(
        jwtLike.map((t) => `Bearer ${t}`),
        headerText(60).map((t) => `Bearer ${t}`),
        fc.constantFrom(
          "Bearer",
          "Bearer ",
          "bearer x.y.z",
          "Basic YWRtaW46YWRtaW4=",
          "Bearer null",
          "Token 1",
        ),
        fc.constant(`Bearer ${token}x`),
        fc.constant(`Bearer ${token.split(".").slice(0, 2).join(".")}.`),
        fc.constant(`Bearer ${"A".repeat(6000)}`),
        headerText(80),
      ),
    },
  );
}

const ip = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom("unknown", "127.0.0.1, 10.0.0.1", "", "::ffff:1.2.3.4"),
);
const requestId = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._-]{1,128}$/),
  fc.constantFrom("a b", "x".repeat(129), "é", "<script>", "id;drop", "", "../../x"),
  headerText(200),
);

/** The headers of a request: authorization and cookies good or garbage, spoofing and tracing headers. */
export function headers(
  creds: Credentials,
  guarded: boolean,
): fc.Arbitrary<{ list: [string, string][]; validBearer: boolean }> {
  const optional = <T>(a: fc.Arbitrary<T>, freq = 2) => fc.option(a, { freq });
  return fc
    .record({
      authorization: authorization(creds, guarded),
      cookie: optional(
        fc.oneof(
          headerText(80).map((v) => `refresh_token=${v}`),
          fc.base64String({ maxLength: 60 }).map((v) => `refresh_token=${v}; refresh_token=x`),
          headerText(100),
          fc.constant(`refresh_token=${"x".repeat(5000)}`),
        ),
      ),
      forwardedFor: optional(fc.array(ip, { maxLength: 5 }).map((ips) => ips.join(", "))),
      requestId: optional(requestId),
      userId: optional(
        fc.oneof(fc.constant(creds.userId), fc.uuid(), fc.constantFrom(...INJECTIONS).filter(isHeaderSafe)),
      ),
      origin: optional(
        fc.constantFrom(
          "http://localhost:3000",
          "https://evil.example",
          "null",
          "http://localhost:3000.evil",
          "",
        ),
      ),
      acceptLanguage: optional(
        fc.oneof(fc.constantFrom("en", "es-ES,es;q=0.9", "*", "xx;q=abc", ";;,,"), headerText(40)),
      ),
      fetchSite: optional(fc.constantFrom("same-origin", "cross-site", "none", "garbage")),
      extra: fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), headerText(60)), {
        maxLength: 3,
      }),
    })
    .map((h) => {
      const list: [string, string][] = [];
      if (h.authorization !== undefined) list.push(["authorization", h.authorization]);
      if (h.cookie !== null) list.push(["cookie", h.cookie]);
      if (h.forwardedFor !== null) list.push(["x-forwarded-for", h.forwardedFor]);
      if (h.requestId !== null) list.push(["x-request-id", h.requestId]);
      if (h.userId !== null) list.push(["x-user-id", h.userId]);
      if (h.origin !== null) list.push(["origin", h.origin]);
      if (h.acceptLanguage !== null) list.push(["accept-language", h.acceptLanguage]);
      if (h.fetchSite !== null) list.push(["sec-fetch-site", h.fetchSite]);
      for (const [name, value] of h.extra) {
        // Framing and hop-by-hop headers are the raw client's business.
        if (!/^(content-length|transfer-encoding|connection|host|expect|upgrade|te|trailer)$/.test(name)) {
          list.push([name, value]);
        }
      }
      return { list, validBearer: creds.accessTokens.some((t) => h.authorization === `Bearer ${t}`) };
    });
}
