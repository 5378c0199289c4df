import fc from "fast-check";
import { ENDPOINTS } from "./endpoints.ts";

const CONTROL = fc.constantFrom("\r", "\n", "\r\n", "\u0000", "\u0001", "\u001b", "\u007f", "\u000b", "\f");

/** Ways to break an HTTP/1.1 message: each yields the bytes of a whole request, broken in one place. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("header-value" as const), bad: CONTROL }),
  fc.record({
    kind: fc.constant("header-name" as const),
    bad: fc.constantFrom(" ", "(", "@", "\u0000", "é"),
  }),
  fc.record({
    kind: fc.constant("method" as const),
    bad: fc.constantFrom("G\u0000T", "", "(", "P OST"),
  }),
  fc.record({
    kind: fc.constant("target" as const),
    bad: fc.constantFrom(" x", "\u0000", "\t", "#frag", "\u007f", "é"),
  }),
  fc.record({
    kind: fc.constant("version" as const),
    bad: fc.constantFrom("HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/1", "http/1.1", ""),
  }),
  fc.record({
    kind: fc.constant("framing" as const),
    bad: fc.constantFrom(
      "content-length: 5\r\ncontent-length: 6",
      "content-length: -1",
      "content-length: 1e3",
      "content-length: 0x10",
      "transfer-encoding: chunked\r\ncontent-length: 3",
      "transfer-encoding: gzip, chunked",
      "transfer-encoding: xchunked",
      "content-length: 99999999999999999999",
    ),
  }),
  fc.record({
    kind: fc.constant("obs-fold" as const),
    bad: fc.constantFrom("\r\n continued", "\r\n\tcontinued"),
  }),
  fc.record({ kind: fc.constant("no-colon" as const), bad: fc.constantFrom("x-broken", "x-broken value") }),
  fc.record({
    kind: fc.constant("huge-header" as const),
    bad: fc.integer({ min: 17_000, max: 70_000 }).map((n) => "x".repeat(n)),
  }),
  fc.record({ kind: fc.constant("bare-lf" as const), bad: fc.constant("\n") }),
  fc.record({
    kind: fc.constant("chunk" as const),
    bad: fc.constantFrom(
      "zz\r\nab\r\n0\r\n\r\n",
      "3\r\nabcdef\r\n0\r\n\r\n",
      "-1\r\n\r\n",
      "5;\u0000\r\nabcde\r\n0\r\n\r\n",
    ),
  }),
);

export interface MalformedCase {
  bytes: Buffer;
  /** What was broken, for the failure message. */
  kind: string;
}

/** A request to a real endpoint, broken in one way, always complete: the server never waits for more. */
export const malformedRequest: fc.Arbitrary<MalformedCase> = fc
  .tuple(fc.constantFrom(...ENDPOINTS), mutation, fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/))
  .map(([endpoint, { kind, bad }, requestId]) => {
    let method = endpoint.method as string;
    let target = endpoint.path;
    let version = "HTTP/1.1";
    const lines = ["host: 127.0.0.1", `x-request-id: ${requestId}`, "content-type: application/json"];
    let body = '{"email":"a@example.com"}';
    let framing = `content-length: ${Buffer.byteLength(body)}`;
    let separator = "\r\n";
    switch (kind) {
      case "header-value":
        lines.push(`x-fuzz: a${bad}b`);
        break;
      case "header-name":
        lines.push(`x${bad}fuzz: 1`);
        break;
      case "method":
        method = bad;
        break;
      case "target":
        target = `${target}${bad}`;
        break;
      case "version":
        version = bad;
        break;
      case "framing":
        framing = bad;
        break;
      case "obs-fold":
        lines.push(`x-fuzz: a${bad}`);
        break;
      case "no-colon":
        lines.push(bad);
        break;
      case "huge-header":
        lines.push(`cookie: ${bad}`);
        break;
      case "bare-lf":
        separator = bad;
        break;
      case "chunk":
        framing = "transfer-encoding: chunked";
        body = bad;
        break;
    }
    const head = [`${method} ${target} ${version}`.trimEnd(), ...lines, framing, "connection: close"];
    const text = `${head.join(separator)}${separator}${separator}${body}`;
    return { bytes: Buffer.from(text, "latin1"), kind };
  });
