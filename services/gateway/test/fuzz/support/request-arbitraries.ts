import fc from "fast-check";
import { fieldValue, type Endpoint } from "./endpoints.ts";
import { contentType, headers } from "./header-arbitraries.ts";
import { anyJsonValue, HOSTILE_KEYS, hostileString } from "./hostile-values.ts";
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
