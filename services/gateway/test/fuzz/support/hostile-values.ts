import fc from "fast-check";

/** Strings an attacker tries first: SQL and NoSQL injection, script and template injection, path tricks. */
export const INJECTIONS = [
  "' OR '1'='1' --",
  "'; DROP TABLE users; --",
  '" OR ""="',
  "1; SELECT pg_sleep(5)",
  "admin'/*",
  "' UNION SELECT password_hash FROM users --",
  "$1",
  "%s%s%s%n",
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "javascript:alert(1)",
  "{{7*7}}",
  "${7*7}",
  "#{7*7}",
  "../../../../etc/passwd",
  "..%2f..%2fetc%2fpasswd",
  "\\u0000",
  "\u0000",
  "null",
  "undefined",
  "NaN",
  "true",
  "[object Object]",
  "__proto__",
  "constructor",
  "a@example.com\r\nBcc: victim@example.com",
  "a@example.com\nSubject: hi",
  "\uFEFFa@example.com",
  "ＡＢＣ＠ｅｘａｍｐｌｅ．ｃｏｍ",
  "\u202Emoc.elpmaxe@a",
  "😀😀😀@example.com",
  "test@[127.0.0.1]",
  '"very.unusual.@.unusual.com"@example.com',
];

/** Field names that must never take effect: prototype pollution and mass assignment. */
export const HOSTILE_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "emailVerified",
  "emailVerifiedAt",
  "twoFactorEnabled",
  "id",
  "userId",
  "role",
  "isAdmin",
  "passwordHash",
  "$where",
  "",
];

const controlChars = fc
  .array(fc.integer({ min: 0, max: 0x1f }), { minLength: 1, maxLength: 4 })
  .map((codes) => String.fromCharCode(...codes));

/** Any string a client can put in a JSON value: hostile, unicode, control characters, huge. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...INJECTIONS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), controlChars).map(([a, b]) => a + b + a) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ minLength: 1, maxLength: 3 }), fc.integer({ min: 200, max: 20_000 }))
      .map(([s, n]) => s.repeat(Math.ceil(n / s.length)).slice(0, n)),
  },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
);

/** JSON values of every type, strings included. */
export const anyJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1e308, 123456, Number.MAX_SAFE_INTEGER + 2) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc.dictionary(fc.constantFrom(...HOSTILE_KEYS, "$ne", "$gt"), fc.jsonValue({ maxDepth: 1 }), {
      maxKeys: 3,
    }),
  },
);
