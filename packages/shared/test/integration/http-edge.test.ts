import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { createHttpServer } from "../../src/http.ts";
import { createLogger } from "../../src/logger.ts";

/** Writes raw bytes (fetch refuses to send what these tests need) and reads until the server closes. */
function raw(port: number, bytes: string): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(5_000, () => reject(new Error("no answer")));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      resolve({ head: text.slice(0, end).toLowerCase(), body: text.slice(end + 4) });
    });
    socket.write(bytes, "latin1");
  });
}

const ID = /\r\nx-request-id: [A-Za-z0-9._-]{1,128}\r\n/;

/**
 * Requests refused before any route runs, found by the gateway fuzz suite: fastify's defaults answered
 * them with their own JSON (no problem+json, no X-Request-Id, and for a bad URL the path echoed back).
 */
describe("the HTTP edge and requests refused before routing", () => {
  let app: FastifyInstance;
  let port = 0;
  before(async () => {
    app = createHttpServer({ logger: createLogger("edge-test", "silent") });
    app.get("/items/:id", async () => ({ ok: true }));
    app.all("/*", async () => ({ ok: true }));
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    port = typeof address === "object" && address ? address.port : 0;
  });
  after(() => app.close());

  function assertProblem(answer: { head: string; body: string }, status: number, code: string): void {
    assert.match(answer.head, new RegExp(`^http/1.1 ${status} `));
    assert.match(answer.head, /\r\ncontent-type: application\/problem\+json/);
    assert.match(answer.head, /\r\nx-content-type-options: nosniff\r\n/);
    assert.match(`${answer.head}\r\n`, ID);
    const body = JSON.parse(answer.body) as { code: string; status: number; requestId: string };
    assert.equal(body.code, code);
    assert.equal(body.status, status);
    assert.ok(answer.head.includes(`x-request-id: ${body.requestId.toLowerCase()}`));
  }

  it("headers over the size limit get 431 HEADERS_TOO_LARGE as problem+json", async () => {
    const answer = await raw(port, `GET /x HTTP/1.1\r\nhost: a\r\ncookie: ${"x".repeat(20_000)}\r\n\r\n`);
    assertProblem(answer, 431, "HEADERS_TOO_LARGE");
  });

  it("a CR in a header value, a bare LF, an unknown method or broken framing get 400 MALFORMED_REQUEST", async () => {
    for (const bytes of [
      "GET /x HTTP/1.1\r\nhost: a\r\nx-a: b\rc\r\n\r\n",
      "GET /x HTTP/1.1\nhost: a\n\n",
      "FOO /x HTTP/1.1\r\nhost: a\r\n\r\n",
      "GET /x y HTTP/1.1\r\nhost: a\r\n\r\n",
      "POST /x HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
      "POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab",
    ]) {
      assertProblem(await raw(port, bytes), 400, "MALFORMED_REQUEST");
    }
  });

  it("a path with broken percent-encoding gets 400 MALFORMED_REQUEST, the caller's id, and no echo", async () => {
    const answer = await raw(
      port,
      "GET /items/%E0%A4%A HTTP/1.1\r\nhost: a\r\nconnection: close\r\nx-request-id: abc-1\r\n\r\n",
    );
    assertProblem(answer, 400, "MALFORMED_REQUEST");
    assert.match(answer.head, /\r\nx-request-id: abc-1\r\n/);
    assert.doesNotMatch(answer.body, /%E0|FST_ERR|valid url component/);
  });

  it("a path with route-pattern characters gets 404, never a 500 (the 405 check reads paths as patterns)", async () => {
    const strict = createHttpServer({ logger: createLogger("edge-test", "silent") });
    strict.get("/items/:id", async () => ({ ok: true }));
    strict.get("/static", async () => ({ ok: true }));
    try {
      for (const url of ["/api/*/x", "/items/*/" + "a".repeat(300), "/a*b", "/x/:id", "/items/:id/(x)"]) {
        const response = await strict.inject({ method: "POST", url });
        assert.equal(response.statusCode, 404, url);
        assert.equal(response.json<{ code: string }>().code, "NOT_FOUND", url);
      }
      const wrongMethod = await strict.inject({ method: "POST", url: "/static" });
      assert.equal(wrongMethod.statusCode, 405);
      assert.equal(wrongMethod.headers.allow, "GET, HEAD");
    } finally {
      await strict.close();
    }
  });
});
