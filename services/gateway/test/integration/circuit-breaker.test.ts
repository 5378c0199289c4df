import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "@mimascota/shared/clock";
import { skipUnless } from "@mimascota/shared/testing/services";
import { startTestGateway, testRoutes, type TestGateway } from "../support/test-gateway.ts";
import { TestUpstream } from "../support/upstream.ts";

interface Snapshot {
  state: string;
  consecutiveFailures: number;
  openedAt: string | null;
  nextAttemptAt: string | null;
}

describe("circuit breaker per upstream", { skip: await skipUnless("redis") }, () => {
  let upstream: TestUpstream;
  let gateway: TestGateway;
  const clock = new ManualClock(new Date());
  let status = 500;

  before(async () => {
    upstream = await new TestUpstream().start();
    upstream.handler = async (_request, response) => {
      response.statusCode = status;
      response.end();
    };
    gateway = await startTestGateway({
      routes: testRoutes(upstream.url),
      clock,
      env: { RATE_LIMIT_IP: "100000", BREAKER_OPEN_DURATION: "60" },
    });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  const call = () => gateway.fetch("/api/public");
  const breaker = async () =>
    ((await (await gateway.fetch("/circuit-breakers")).json()) as { app: Snapshot }).app;
  const stateMetric = async () =>
    /^gateway_circuit_breaker_state\{service="app"\} (\d)$/m.exec(
      await (await gateway.fetch("/metrics")).text(),
    )?.[1];

  it("never trips on 4xx answers", async () => {
    status = 404;
    for (let i = 0; i < 10; i++) assert.equal((await call()).status, 404);
    assert.equal((await breaker()).state, "closed");
  });

  it("opens after five consecutive failures and then fails fast without calling the upstream", async () => {
    status = 500;
    for (let i = 0; i < 5; i++) assert.equal((await call()).status, 500, "upstream 5xx passes through");
    const snapshot = await breaker();
    assert.equal(snapshot.state, "open");
    assert.equal(snapshot.openedAt, clock.now().toISOString());
    assert.equal(snapshot.nextAttemptAt, new Date(clock.now().getTime() + 60_000).toISOString());
    assert.equal(await stateMetric(), "1");

    const calls = upstream.calls().length;
    const refused = await call();
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "60");
    assert.equal(((await refused.json()) as { code: string }).code, "SERVICE_UNAVAILABLE");
    clock.advance(30_000);
    assert.equal((await call()).headers.get("retry-after"), "30");
    assert.equal(upstream.calls().length, calls, "no call reached the upstream while open");
    const metrics = await (await gateway.fetch("/metrics")).text();
    assert.match(metrics, /^gateway_circuit_breaker_failures_total\{service="app"\} 5$/m);
    assert.match(metrics, /^gateway_backend_errors_total\{service="app",error_type="circuit_open"\} 2$/m);
  });

  it("goes half-open after the open period, and a failed probe opens it again", async () => {
    clock.advance(30_000);
    assert.equal((await breaker()).state, "half-open");
    assert.equal(await stateMetric(), "2");
    assert.equal((await call()).status, 500, "the probe reached the upstream");
    assert.equal((await breaker()).state, "open");
  });

  it("lets at most three probes through at once while half-open", async () => {
    clock.advance(60_000);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    upstream.handler = async (_request, response) => {
      await gate;
      response.end("ok");
    };
    const calls = upstream.calls().length;
    const pending = Array.from({ length: 3 }, () => call());
    while (upstream.calls().length < calls + 3) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await call()).status, 503, "a fourth concurrent call is refused");
    release();
    assert.deepEqual(await Promise.all(pending.map(async (p) => (await p).status)), [200, 200, 200]);
  });

  it("closes after two successful probes, not one", async () => {
    upstream.handler = async (_request, response) => {
      response.statusCode = status;
      response.end();
    };
    status = 500;
    for (let i = 0; i < 5; i++) await call();
    assert.equal((await breaker()).state, "open");
    clock.advance(60_000);
    status = 200;
    assert.equal((await call()).status, 200);
    assert.equal((await breaker()).state, "half-open", "one success is not enough");
    assert.equal((await call()).status, 200);
    assert.equal((await breaker()).state, "closed");
    assert.equal(await stateMetric(), "0");
  });

  it("opens when half of at least twenty calls in ten seconds fail, without five in a row", async () => {
    clock.advance(11_000); // earlier calls leave the rolling window
    for (let i = 0; i < 20; i++) {
      status = i % 2 ? 500 : 200;
      await call();
    }
    assert.equal((await breaker()).state, "open");
    clock.advance(60_000);
    status = 200;
    await call();
    await call();
    assert.equal((await breaker()).state, "closed");
  });

  it("never counts a client's aborted upload or an Expect header against the upstream", async () => {
    status = 200;
    const before = (await breaker()).consecutiveFailures;
    for (let i = 0; i < 6; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(new URL(gateway.url).port), "127.0.0.1", () => {
          socket.write(
            "POST /api/public HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\npartial",
          );
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on("close", () => resolve());
        socket.on("error", () => undefined);
      });
    }
    await new Promise((r) => setTimeout(r, 100));
    const snapshot = await breaker();
    assert.equal(snapshot.state, "closed");
    assert.equal(snapshot.consecutiveFailures, before);
    const expect = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${gateway.url}/api/public`,
        { method: "POST", headers: { expect: "100-continue", "content-type": "text/plain" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.on("continue", () => req.end("body"));
    });
    assert.equal(expect, 200);
  });

  it("counts connection failures and answers 502 while closed", async () => {
    const dead = await startTestGateway({
      routes: testRoutes("http://127.0.0.1:9"),
      clock,
      env: { RATE_LIMIT_IP: "100000" },
    });
    try {
      const response = await dead.fetch("/api/public");
      assert.equal(response.status, 502);
      assert.equal(((await response.json()) as { code: string }).code, "BAD_GATEWAY");
      const metrics = await (await dead.fetch("/metrics")).text();
      assert.match(metrics, /^gateway_backend_errors_total\{service="app",error_type="connection"\} 1$/m);
    } finally {
      await dead.close();
    }
  });
});
