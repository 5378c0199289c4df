import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { startTestGateway, type TestGateway } from "../support/test-gateway.ts";
import { TestUpstream } from "../support/upstream.ts";

/**
 * A client that sends its head and then dribbles (or stalls) its body. On routes with small bodies (every
 * auth route) the gateway reads the body in full before calling the upstream, so such clients hold gateway
 * sockets only: with a single upstream connection, everyone else is still served. The request timeout then
 * answers 408 and closes the slow connection.
 */
describe("a client that never finishes its body", { skip: await skipUnless("redis") }, () => {
  let upstream: TestUpstream;
  let gateway: TestGateway;

  before(async () => {
    upstream = await new TestUpstream().start();
    gateway = await startTestGateway({
      routes: {
        upstreams: { app: { url: upstream.url, healthPath: "/health" } },
        policies: {},
        routes: [
          {
            path: "/api/small",
            upstream: "app",
            public: true,
            rateLimits: [],
            cache: false,
            bodyLimit: 16_384,
          },
        ],
      },
      env: { RATE_LIMIT_IP: "100000", UPSTREAM_CONNECTIONS: "1", REQUEST_TIMEOUT_MS: "1000" },
    });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  /** Sends a head announcing 1,000 bytes and 10 of them; resolves with what the gateway wrote back. */
  const stalledUpload = () =>
    new Promise<string>((resolve) => {
      let received = "";
      const socket = connect(Number(new URL(gateway.url).port), "127.0.0.1", () => {
        socket.write(
          "POST /api/small HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" +
            '{"a":"12',
        );
      });
      socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
      socket.on("close", () => resolve(received));
      socket.on("error", () => undefined);
    });

  it("holds no upstream connection while it waits, and is cut off with 408", async () => {
    let cutOff = 0;
    const stalled = Array.from({ length: 3 }, () => stalledUpload().finally(() => (cutOff += 1)));
    // The three heads are in; with one upstream connection, a streamed body would now block every other call.
    const response = await gateway.fetch("/api/small", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ hello: "world" }),
    });
    assert.equal(response.status, 200);
    assert.equal(cutOff, 0, "answered while the slow clients were still connected");
    assert.deepEqual(
      upstream.calls("/api/small").map((r) => r.body),
      ['{"hello":"world"}'],
      "the upstream saw the complete request only",
    );

    for (const answer of await Promise.all(stalled)) {
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.match(answer, /"code":"REQUEST_TIMEOUT"/);
    }
    assert.equal(upstream.calls("/api/small").length, 1, "no partial body ever reached the upstream");
    const metrics = await (await gateway.fetch("/metrics")).text();
    assert.match(
      metrics,
      /^gateway_http_errors_total\{method="POST",path="\/api\/small",error_type="client_gone"\} 3$/m,
    );
    const breakers = (await (await gateway.fetch("/circuit-breakers")).json()) as {
      app: { state: string; totalFailures: number };
    };
    assert.deepEqual([breakers.app.state, breakers.app.totalFailures], ["closed", 0]);
  });
});
