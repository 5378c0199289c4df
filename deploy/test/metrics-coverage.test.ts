import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { CONTRACT_GATEWAY_METRICS } from "../../services/gateway/test/support/contract-metrics.ts";
import { readYaml } from "./support/deploy-files.ts";
import { metricNamesIn, scrapeServiceMetrics, type Exposition } from "./support/metric-names.ts";
import { dashboardQueries, readAlertRules, readDashboard } from "./support/monitoring-files.ts";

/** Series Prometheus adds itself for every target. */
const prometheusSeries = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped"]);

describe("dashboard and alert queries against the services' real /metrics", () => {
  let exposed: { auth: Exposition; gateway: Exposition };
  let all: Set<string>;

  before(async () => {
    exposed = await scrapeServiceMetrics();
    all = new Set([...exposed.auth.series, ...exposed.gateway.series, ...prometheusSeries]);
  });

  it("the gateway exposes every metric the contract names, under that name", () => {
    for (const name of CONTRACT_GATEWAY_METRICS) {
      assert.ok(exposed.gateway.families.has(name), `${name} missing from the gateway's /metrics`);
    }
  });

  it("every metric a dashboard panel queries is exposed by a service", () => {
    const queries = dashboardQueries(readDashboard());
    assert.ok(queries.length > 0);
    for (const { panel, expr } of queries) {
      const names = metricNamesIn(expr);
      assert.ok(names.length > 0, `panel "${panel}" queries no metric: ${expr}`);
      for (const name of names) assert.ok(all.has(name), `panel "${panel}" queries unknown metric ${name}`);
    }
  });

  it("every metric an alert rule evaluates is exposed by a service", () => {
    for (const rule of readAlertRules()) {
      const names = metricNamesIn(rule.expr);
      assert.ok(names.length > 0, `alert ${rule.alert} evaluates no metric`);
      for (const name of names) assert.ok(all.has(name), `alert ${rule.alert} uses unknown metric ${name}`);
    }
  });

  it("the dashboard shows what operators watch: every contract metric and every auth metric family", () => {
    const queried = new Set(dashboardQueries(readDashboard()).flatMap(({ expr }) => metricNamesIn(expr)));
    const base = (name: string) => name.replace(/_(bucket|sum|count)$/, "");
    const queriedBase = new Set([...queried].map(base));
    for (const name of CONTRACT_GATEWAY_METRICS) assert.ok(queriedBase.has(name), `no panel shows ${name}`);
    for (const name of exposed.auth.series) {
      if (name.startsWith("auth_")) assert.ok(queried.has(name), `no panel shows ${name}`);
    }
  });

  it("the alerts cover breaker open, error ratio, outbox lag, stuck mail and refresh-token reuse", () => {
    const used = new Set(readAlertRules().flatMap((rule) => metricNamesIn(rule.expr)));
    for (const name of [
      "gateway_circuit_breaker_state",
      "gateway_http_requests_total",
      "auth_outbox_lag_seconds",
      "auth_mail_queue_oldest_age_seconds",
      "auth_refresh_token_reuse_total",
    ]) {
      assert.ok(used.has(name), `no alert evaluates ${name}`);
    }
  });

  it("Prometheus scrapes /metrics of both services on their operations ports, as compose sets them", () => {
    const config = readYaml<{
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    }>("deploy/prometheus/prometheus.yml");
    const jobs = new Map(config.scrape_configs.map((job) => [job.job_name, job]));
    assert.deepEqual(jobs.get("gateway")?.static_configs[0]?.targets, ["gateway:9080"]);
    assert.deepEqual(jobs.get("auth")?.static_configs[0]?.targets, ["auth:9006"]);
    const compose = readYaml<{ services: Record<string, { environment?: Record<string, unknown> }> }>(
      "deploy/docker-compose.yml",
    );
    assert.equal(String(compose.services.gateway?.environment?.OPS_PORT), "9080");
    assert.equal(String(compose.services.auth?.environment?.OPS_PORT), "9006");
    for (const job of ["gateway", "auth"])
      assert.equal(jobs.get(job)?.metrics_path ?? "/metrics", "/metrics");
  });
});
