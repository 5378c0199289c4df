import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { createHttpServer } from "@mimascota/shared/http";
import { createLogger } from "@mimascota/shared/logger";
import { skipUnless } from "@mimascota/shared/testing/services";
import { startTestGateway, type TestGateway } from "../support/test-gateway.ts";

/**
 * An upstream with a smaller body limit than the route's refuses a large upload before reading it and closes
 * the connection. That is the client's doing: the breaker must not count it, and the client's connection
 * must not be left waiting for a body nobody reads.
 */
describe("an upstream refusing an upload early", { skip: await skipUnless("redis") }, () => {
  let upstream: FastifyInstance;
  let gateway: TestGateway;

  before(async () => {
    upstream = createHttpServer({ logger: createLogger("upstream", "silent"), bodyLimit: 16 * 1024 });
    upstream.post("/api/upload", async () => ({ ok: true }));
    await upstream.listen({ port: 0, host: "127.0.0.1" });
    const address = upstream.server.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    gateway = await startTestGateway({
      routes: {
        upstreams: { app: { url, healthPath: "/health" } },
        policies: {},
        routes: [{ path: "/api/upload", upstream: "app", public: true, rateLimits: [], cache: false }],
      },
      env: { RATE_LIMIT_IP: "100000" },
    });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  const upload = (bytes: number) =>
    gateway.fetch("/api/upload", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: "x".repeat(bytes) }),
    });

  it("never opens the breaker, whatever the gateway can relay of the refusal", async () => {
    for (const bytes of [100_000, 600_000]) {
      for (let i = 0; i < 6; i++) {
        const response = await upload(bytes);
        assert.ok([413, 502].includes(response.status), `${bytes} bytes: ${response.status}`);
        await response.body?.cancel();
      }
    }
    const breakers = (await (await gateway.fetch("/circuit-breakers")).json()) as {
      app: { state: string; totalFailures: number };
    };
    assert.equal(breakers.app.state, "closed");
    assert.equal(breakers.app.totalFailures, 0);
    assert.equal((await upload(100)).status, 200, "small uploads still go through");
  });
});
