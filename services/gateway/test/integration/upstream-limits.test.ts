import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { createHttpServer } from "@mimascota/shared/http";
import { createLogger } from "@mimascota/shared/logger";
import { skipUnless } from "@mimascota/shared/testing/services";
import { defaultRouteTable } from "../../src/routing/default-routes.ts";
import { sendRaw } from "../fuzz/support/raw-http.ts";
import { startTestGateway, type TestGateway } from "../support/test-gateway.ts";

const AUTH_LIMIT = 16 * 1024;

/**
 * Found by the gateway fuzz suite. Bodies: a body between the auth service's limit (16 KiB) and the gateway's
 * (1 MiB) made the auth service answer 413 before reading it and close the connection; the gateway saw a
 * reset mid-upload and answered 500 or 502, and five such requests opened the breaker for everyone.
 * Headers: a head just under Node's 16 KiB passed the gateway, and with the headers the gateway adds came
 * back as the upstream's 431, whose requestId was not the gateway's X-Request-Id.
 */
describe("requests over the auth service's limits", { skip: await skipUnless("redis") }, () => {
  let upstream: FastifyInstance;
  let gateway: TestGateway;
  let upstreamCalls = 0;
  let port = 0;

  before(async () => {
    // The auth service's HTTP edge with its default limit: it refuses a large body unread, as in production.
    upstream = createHttpServer({ logger: createLogger("upstream", "silent"), bodyLimit: AUTH_LIMIT });
    upstream.post("/api/v1/auth/verify-email", async () => {
      upstreamCalls++;
      return { message: "ok" };
    });
    await upstream.listen({ port: 0, host: "127.0.0.1" });
    const address = upstream.server.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    gateway = await startTestGateway({
      routes: defaultRouteTable({
        AUTH_SERVICE_URL: url,
        RATE_LIMIT_WINDOW: 60,
        RATE_LIMIT_LOGIN: 1000,
        RATE_LIMIT_REGISTER: 1000,
        RATE_LIMIT_PASSWORD_RESET: 1000,
        RATE_LIMIT_RESEND: 1000,
        RATE_LIMIT_TWO_FACTOR: 1000,
        AUTH_BODY_LIMIT_BYTES: AUTH_LIMIT,
        // No profile service here: its routes are not what these tests are about.
        PROFILES_SERVICE_URL: "http://127.0.0.1:9",
        PROFILES_BODY_LIMIT_BYTES: 16 * 1024,
        PROFILES_UPLOAD_LIMIT_BYTES: 5 * 1024 * 1024,
      }),
      env: { RATE_LIMIT_IP: "1000" },
    });
    port = Number(new URL(gateway.url).port);
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  const post = (body: string) =>
    gateway.fetch("/api/v1/auth/verify-email", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });

  it("are refused by the gateway with 413, sized or chunked, and never count against the breaker", async () => {
    const big = `{"token":"${"a".repeat(200 * 1024)}"}`;
    for (let i = 0; i < 8; i++) {
      const sized = await post(big);
      assert.equal(sized.status, 413);
      assert.equal(((await sized.json()) as { code: string }).code, "PAYLOAD_TOO_LARGE");
      // Sent whole before the answer is read: fetch would still be uploading when the gateway closes.
      const chunked = await sendRaw(port, {
        method: "POST",
        target: "/api/v1/auth/verify-email",
        headers: [["content-type", "application/json"]],
        body: Buffer.from(big),
        chunked: true,
      });
      assert.equal(chunked.status, 413);
      assert.equal((JSON.parse(chunked.body) as { code: string }).code, "PAYLOAD_TOO_LARGE");
    }
    const breakers = (await (await gateway.fetch("/circuit-breakers")).json()) as {
      auth: { state: string; totalFailures: number };
    };
    assert.equal(breakers.auth.state, "closed");
    assert.equal(breakers.auth.totalFailures, 0);
    assert.equal(upstreamCalls, 0);
  });

  it("a head the upstream could not take is refused by the gateway itself with 431, under its own id", async () => {
    const answer = await sendRaw(port, {
      method: "POST",
      target: "/api/v1/auth/verify-email",
      headers: [
        ["content-type", "application/json"],
        ["cookie", `a=${"x".repeat(16_150)}`],
      ],
      body: Buffer.from('{"token":"x"}'),
    });
    assert.equal(answer.status, 431);
    const body = JSON.parse(answer.body) as { code: string; requestId: string };
    assert.equal(body.code, "HEADERS_TOO_LARGE");
    assert.equal(body.requestId, answer.headers["x-request-id"]);
    assert.equal(upstreamCalls, 0);
  });

  it("still passes bodies and heads within the limits", async () => {
    const response = await post(`{"token":"${"a".repeat(AUTH_LIMIT - 100)}"}`);
    assert.equal(response.status, 200);
    const head = await gateway.fetch("/api/v1/auth/verify-email", {
      method: "POST",
      headers: { "content-type": "application/json", cookie: `a=${"x".repeat(14_000)}` },
      body: '{"token":"x"}',
    });
    assert.equal(head.status, 200);
    assert.equal(upstreamCalls, 2);
  });
});
