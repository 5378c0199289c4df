import fc from "fast-check";
import { fieldValue, type Endpoint } from "./endpoints.ts";
import { anyJsonValue, HOSTILE_KEYS, hostileString, INJECTIONS } from "./hostile-values.ts";
import type { RawRequest } from "./raw-http.ts";

export interface Credentials {
  userId: string;
  /** Real access tokens: the plain account's first, then the 2FA account's. */
  accessTokens: string[];
  /** Real pending second-step tokens of the 2FA account, so login/2fa gets past the token check. */
  twoFactorTokens: string[];
}

export interface FuzzCase {
  request: RawRequest;
  /** Whether the request carries the fuzz account's real access token. */
  validBearer: boolean;
}

/** Written by hand so duplicate keys and `__proto__` stay literal keys in the text. */
function objectText(entries: [string, unknown][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}`).join(",")}}`;
}

/** A JSON object for the endpoint: its fields present or missing, of any type, plus hostile extra keys. */
export function objectBody(endpoint: Endpoint, creds: Credentials): fc.Arbitrary<string> {
  const own = Object.entries(endpoint.fields).map(([name, kind]) =>
    fc
      .option(fieldValue(kind, anyJsonValue, kind === "token" ? creds.twoFactorTokens : []), { freq: 5 })
      .map((v) => (v === null ? [] : [[name, v]])),
  );
  const extra = fc.array(
    fc.tuple(fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 12 })), anyJsonValue),
    { maxLength: 3 },
  );
  return fc.tuple(fc.tuple(...own), extra, fc.boolean()).map(([fields, more, extraFirst]) => {
    const mine = fields.flat() as [string, unknown][];
    return objectText(extraFirst ? [...more, ...mine] : [...mine, ...more]);
  });
}

/** Text that is not valid JSON: truncated, mangled, or JavaScript rather than JSON. */
const brokenJson = fc.oneof(
  fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.nat()).map(([v, n]) => {
    const text = JSON.stringify(v) ?? "null";
    return text.length > 1 ? text.slice(0, n % text.length) : "{";
  }),
  fc.constantFrom(
    "{",
    "}",
    '{"email": ',
    "{'email': 'a@example.com'}",
    '{"email": "a@example.com",}',
    "{email: 1}",
    '{"a": NaN}',
    '{"a": Infinity}',
    '{"a": undefined}',
    "// comment\n{}",
    '{"a": 1} {"b": 2}',
    '{"a": "\\ud800"}',
    '{"a": "\\x41"}',
    "\uFEFF{}",
    '{"__proto__": {"polluted": true}}',
    '{"constructor": {"prototype": {"polluted": true}}}',
  ),
  fc.string({ maxLength: 60 }),
);

const binary = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes));

/** Arrays or objects nested deeper than any parser's recursion should be trusted with. */
const deepNesting = fc
  .tuple(fc.constantFrom("[", '{"a":'), fc.integer({ min: 100, max: 7_000 }), fc.boolean())
  .map(([open, depth, closed]) => {
    const close = open === "[" ? "]" : "}";
    return open.repeat(depth) + "1" + (closed ? close.repeat(depth) : "");
  });

/** Above the auth service's 16 KiB body limit, or above the gateway's 1 MiB. */
const oversized = fc
  .tuple(fc.constantFrom(17 * 1024, 40 * 1024, 1024 * 1024 + 10), fc.constantFrom("a", "é", " "))
  .map(([size, ch]) => `{"email":"${ch.repeat(size)}"}`);

export function anyBody(endpoint: Endpoint, creds: Credentials): fc.Arbitrary<Buffer | undefined> {
  return fc.oneof(
    { weight: 12, arbitrary: objectBody(endpoint, creds).map((t) => Buffer.from(t)) },
    { weight: 2, arbitrary: anyJsonValue.map((v) => Buffer.from(JSON.stringify(v) ?? "null")) },
    { weight: 3, arbitrary: brokenJson.map((t) => Buffer.from(t)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 1, arbitrary: binary },
    { weight: 1, arbitrary: deepNesting.map((t) => Buffer.from(t)) },
    { weight: 1, arbitrary: oversized.map((t) => Buffer.from(t)) },
  );
}

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

/** A query string: none, plausible, hostile, or with broken percent-encoding. */
export const queryString = fc.oneof(
  { weight: 4, arbitrary: fc.constant("") },
  {
    weight: 2,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom("token", "email", "__proto__[x]", "a[]", "constructor"),
            fc.string({ maxLength: 8 }),
          ),
          hostileString,
        ),
        {
          minLength: 1,
          maxLength: 3,
        },
      )
      .map(
        (pairs) => `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("?", "?&&", "?a=%zz", "?a=%", "?%00=%00", "?a=1&a=2&a=3", "?;", "?a=%E0%A4%A"),
  },
);

/** One request for an endpoint: its method, body, content type, query and headers all generated. */
export function endpointCase(endpoint: Endpoint, creds: Credentials): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      body:
        endpoint.method === "GET"
          ? fc.option(anyBody(endpoint, creds), { freq: 4 })
          : anyBody(endpoint, creds),
      type: fc.option(contentType, { freq: 16 }),
      query: queryString,
      headers: headers(creds, endpoint.guarded),
      chunked: fc.boolean(),
    })
    .map(({ body, type, query, headers, chunked }) => {
      const list = [...headers.list];
      if (type !== null) list.push(["content-type", type]);
      const request: RawRequest = {
        method: endpoint.method,
        target: endpoint.path + query,
        headers: list,
        ...(body ? { body, chunked } : {}),
      };
      return { request, validBearer: headers.validBearer };
    });
}
