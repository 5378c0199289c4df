import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { skipUnless, skipUnlessPrograms } from "@mimascota/shared/testing/services";
import { CONTRACT_GATEWAY_METRICS } from "../support/contract-metrics.ts";
import { startTestGateway, testRoutes, type TestGateway } from "../support/test-gateway.ts";
import { TestUpstream } from "../support/upstream.ts";

const noPromtool = await skipUnlessPrograms(["promtool", "--version"]);

describe("/metrics", { skip: await skipUnless("redis") }, () => {
  let upstream: TestUpstream;
  let gateway: TestGateway;
  let text: string;

  before(async () => {
    upstream = await new TestUpstream().start();
    upstream.handler = (request, response) => {
      if (request.url?.startsWith("/api/public-cached")) response.setHeader("cache-control", "max-age=60");
      response.statusCode = request.url?.includes("boom") ? 503 : 200;
      response.end("{}");
    };
    gateway = await startTestGateway({
      routes: testRoutes(upstream.url),
      env: { RATE_LIMIT_IP: "30" },
      processMetrics: true,
    });
    for (let i = 0; i < 25; i++) await gateway.fetch(`/api/users/${crypto.randomUUID()}?q=${i}`);
    for (let i = 0; i < 3; i++) await gateway.fetch("/api/public-cached");
    await gateway.fetch("/api/public?boom=1");
    await gateway.fetch(`/unknown/${crypto.randomUUID()}`);
    for (let i = 0; i < 3; i++) await gateway.fetch("/api/public");
    text = await (await gateway.fetch("/metrics")).text();
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  it("exposes the contract's twelve metrics", () => {
    for (const name of CONTRACT_GATEWAY_METRICS)
      assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), name);
  });

  it("labels requests by route template, never by raw URL", () => {
    assert.match(
      text,
      /^gateway_http_requests_total\{method="GET",path="\/api\/\*",status_code="401"\} 25$/m,
    );
    assert.match(text, /gateway_http_requests_total\{method="GET",path="unmatched",status_code="404"\} 1/);
    assert.match(
      text,
      /^gateway_http_errors_total\{method="GET",path="\/api\/\*",error_type="unauthorized"\} 25$/m,
    );
    assert.match(
      text,
      /gateway_http_errors_total\{method="GET",path="\/api\/public",error_type="rate_limited"\}/,
    );
    assert.match(text, /^gateway_rate_limit_rejections_total\{policy="ip"\} [1-9]/m);
    assert.match(text, /^gateway_backend_requests_total\{service="app",status_code="503"\} 1$/m);
    assert.match(text, /^gateway_backend_errors_total\{service="app",error_type="upstream_5xx"\} 1$/m);
    assert.match(text, /^gateway_cache_hits_total\{path="\/api\/public-cached"\} 2$/m);
    assert.match(text, /^process_cpu_seconds_total|^process_resident_memory_bytes/m);
    assert.doesNotMatch(text, /[0-9a-f]{8}-[0-9a-f]{4}-/, "no request-specific value in any label");
  });

  it("passes promtool check metrics", { skip: noPromtool }, () => {
    const result = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });
});
