import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { startGatewayStack, type GatewayStack, type TestGateway } from "../support/test-gateway.ts";
import { rawRequest as raw } from "../support/raw-request.ts";
import type { TestUpstream } from "../support/upstream.ts";

describe("proxying", { skip: await skipUnless("redis") }, () => {
  let stack: GatewayStack;
  let upstream: TestUpstream;
  let gateway: TestGateway;
  let token: string;

  before(async () => {
    stack = await startGatewayStack({
      RATE_LIMIT_IP: "100000",
      RATE_LIMIT_USER: "100000",
      UPSTREAM_TIMEOUT_MS: "300",
      CORS_ORIGINS: "https://app.mimascota.test",
    });
    ({ upstream, gateway } = stack);
    token = await stack.issuer.token();
  });
  after(async () => {
    await stack.close();
  });

  const auth = () => ({ authorization: `Bearer ${token}` });

  it("answers 405 with Allow for a method it never forwards, without calling the upstream", async () => {
    const before = upstream.calls().length;
    const answer = await new Promise<{ status: number; allow: string; type: string }>((resolve, reject) => {
      const req = httpRequest(`${gateway.url}/api/public`, { method: "TRACE", headers: auth() }, (res) => {
        res.resume();
        resolve({
          status: res.statusCode ?? 0,
          allow: String(res.headers.allow),
          type: String(res.headers["content-type"]),
        });
      });
      req.on("error", reject);
      req.end();
    });
    assert.deepEqual(answer, {
      status: 405,
      allow: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
      type: "application/problem+json; charset=utf-8",
    });
    assert.equal(upstream.calls().length, before);
  });

  it("answers 413 for a declared body over the route's limit without calling the upstream", async () => {
    const before = upstream.calls().length;
    const response = await gateway.fetch("/api/upload", {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      body: JSON.stringify({ data: "x".repeat(2000) }),
    });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { code: string }).code, "PAYLOAD_TOO_LARGE");
    assert.equal(upstream.calls().length, before);
  });

  it("cuts off a chunked body once it passes the limit, and passes a small one through untouched", async () => {
    const big = await raw(`${gateway.url}/api/upload`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/octet-stream" },
      body: ["a".repeat(600), "b".repeat(600)],
    });
    assert.equal(big.status, 413);
    const small = await raw(`${gateway.url}/api/upload`, {
      method: "POST",
      headers: { ...auth(), "content-type": "text/plain" },
      body: ["hello ", "world"],
    });
    assert.equal(small.status, 200);
    assert.equal(upstream.calls().at(-1)?.body, "hello world");
    assert.equal(
      upstream.calls().at(-1)?.headers["content-type"],
      "text/plain",
      "no parsing, any content type",
    );
  });

  it("streams the upstream's response instead of buffering it", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    upstream.handler = async (_request, response) => {
      response.write("first;");
      await gate;
      response.end("second");
    };
    const response = await gateway.fetch("/api/stream", { headers: auth() });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    assert.equal(
      new TextDecoder().decode(first.value),
      "first;",
      "arrived while the upstream still held the rest",
    );
    release();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      rest += new TextDecoder().decode(chunk.value);
    }
    assert.equal(rest, "second");
  });

  it("drops hop-by-hop headers both ways, and banner headers from the upstream", async () => {
    upstream.handler = (_request, response) => {
      response.setHeader("connection", "x-internal");
      response.setHeader("x-internal", "secret");
      response.setHeader("server", "upstream/1.0");
      response.setHeader("x-powered-by", "Express");
      response.end("ok");
    };
    const response = await raw(`${gateway.url}/api/hop`, {
      headers: {
        ...auth(),
        connection: "keep-alive, x-client-only",
        "x-client-only": "1",
        "proxy-authorization": "x",
      },
    });
    const seen = upstream.calls().at(-1)!.headers;
    assert.equal(seen["x-client-only"], undefined);
    assert.equal(seen["proxy-authorization"], undefined);
    assert.equal(response.headers["x-internal"], undefined);
    assert.equal(response.headers.server, undefined);
    assert.equal(response.headers["x-powered-by"], undefined);
    assert.equal(response.headers["x-content-type-options"], "nosniff");
  });

  it("passes X-Request-Id and a valid traceparent through, and replaces invalid ones", async () => {
    upstream.handler = (_request, response) => {
      response.end("ok");
    };
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const ok = await gateway.fetch("/api/trace", {
      headers: { ...auth(), "x-request-id": "req-123.abc", traceparent },
    });
    assert.equal(ok.headers.get("x-request-id"), "req-123.abc");
    assert.equal(upstream.calls().at(-1)?.headers["x-request-id"], "req-123.abc");
    assert.equal(upstream.calls().at(-1)?.headers.traceparent, traceparent);
    const bad = await gateway.fetch("/api/trace", {
      headers: { ...auth(), "x-request-id": "bad id <script>", traceparent: "garbage" },
    });
    const id = bad.headers.get("x-request-id")!;
    assert.notEqual(id, "bad id <script>");
    assert.equal(upstream.calls().at(-1)?.headers["x-request-id"], id);
    assert.equal(upstream.calls().at(-1)?.headers.traceparent, undefined);
  });

  it("answers 504 when the upstream does not answer in time", async () => {
    upstream.handler = async (_request, response) => {
      await new Promise((r) => setTimeout(r, 1_000));
      response.end("late");
    };
    const response = await gateway.fetch("/api/slow", { headers: auth() });
    assert.equal(response.status, 504);
    assert.equal(((await response.json()) as { code: string }).code, "GATEWAY_TIMEOUT");
    upstream.handler = (_request, res) => {
      res.end("ok");
    };
  });

  it("allows listed origins with credentials, never reflects others, and varies by Origin", async () => {
    const allowed = await gateway.fetch("/api/public", { headers: { origin: "https://app.mimascota.test" } });
    assert.equal(allowed.headers.get("access-control-allow-origin"), "https://app.mimascota.test");
    assert.equal(allowed.headers.get("access-control-allow-credentials"), "true");
    assert.match(allowed.headers.get("vary") ?? "", /Origin/);
    const other = await gateway.fetch("/api/public", { headers: { origin: "https://evil.test" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    assert.match(other.headers.get("vary") ?? "", /Origin/);
    const preflight = await gateway.fetch("/api/private", {
      method: "OPTIONS",
      headers: {
        origin: "https://app.mimascota.test",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    assert.equal(preflight.status, 204, "a preflight needs no token");
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /Authorization/);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.mimascota.test");
  });
});
