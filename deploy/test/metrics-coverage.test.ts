import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { CONTRACT_GATEWAY_METRICS } from "../../services/gateway/test/support/contract-metrics.ts";
import { readYaml } from "./support/deploy-files.ts";
import { metricNamesIn, scrapeServiceMetrics, type ServiceExpositions } from "./support/metric-names.ts";
import { dashboardQueries, readAlertRules, readDashboard } from "./support/monitoring-files.ts";

/** Series Prometheus adds itself for every target. */
const prometheusSeries = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped"]);

describe("dashboard and alert queries against the services' real /metrics", () => {
  let exposed: ServiceExpositions;
  let all: Set<string>;

  before(async () => {
    exposed = await scrapeServiceMetrics();
    all = new Set([
      ...exposed.auth.series,
      ...exposed.gateway.series,
      ...exposed.profiles.series,
      ...prometheusSeries,
    ]);
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

  it("the dashboard shows what operators watch: every contract metric, every auth and profiles family", () => {
    const queried = new Set(dashboardQueries(readDashboard()).flatMap(({ expr }) => metricNamesIn(expr)));
    const base = (name: string) => name.replace(/_(bucket|sum|count)$/, "");
    const queriedBase = new Set([...queried].map(base));
    for (const name of CONTRACT_GATEWAY_METRICS) assert.ok(queriedBase.has(name), `no panel shows ${name}`);
    for (const name of exposed.auth.series) {
      if (name.startsWith("auth_")) assert.ok(queried.has(name), `no panel shows ${name}`);
    }
    // The four families the profile service registers (the lag gauge even before the consumer joins).
    const profileFamilies = [...exposed.profiles.series].filter((name) => name.startsWith("profiles_"));
    assert.deepEqual(profileFamilies.sort(), [
      "profiles_consumer_lag",
      "profiles_events_total",
      "profiles_object_deletions_pending",
      "profiles_photo_uploads_total",
    ]);
    for (const name of profileFamilies) assert.ok(queried.has(name), `no panel shows ${name}`);
  });

  it("the alerts cover breakers, errors, outbox, mail, token reuse, consumer lag, parked events, deletions", () => {
    const used = new Set(readAlertRules().flatMap((rule) => metricNamesIn(rule.expr)));
    for (const name of [
      "gateway_circuit_breaker_state",
      "gateway_http_requests_total",
      "auth_outbox_lag_seconds",
      "auth_mail_queue_oldest_age_seconds",
      "auth_refresh_token_reuse_total",
      "profiles_consumer_lag",
      "profiles_events_total",
      "profiles_object_deletions_pending",
    ]) {
      assert.ok(used.has(name), `no alert evaluates ${name}`);
    }
  });

  it("Prometheus scrapes /metrics of every service on its operations port, as compose sets it", () => {
    const config = readYaml<{
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    }>("deploy/prometheus/prometheus.yml");
    const jobs = new Map(config.scrape_configs.map((job) => [job.job_name, job]));
    assert.deepEqual(jobs.get("gateway")?.static_configs[0]?.targets, ["gateway:9080"]);
    assert.deepEqual(jobs.get("auth")?.static_configs[0]?.targets, ["auth:9006"]);
    assert.deepEqual(jobs.get("profiles")?.static_configs[0]?.targets, ["profiles:9082"]);
    const compose = readYaml<{ services: Record<string, { environment?: Record<string, unknown> }> }>(
      "deploy/docker-compose.yml",
    );
    assert.equal(String(compose.services.gateway?.environment?.OPS_PORT), "9080");
    assert.equal(String(compose.services.auth?.environment?.OPS_PORT), "9006");
    assert.equal(String(compose.services.profiles?.environment?.OPS_PORT), "9082");
    for (const job of ["gateway", "auth", "profiles"])
      assert.equal(jobs.get(job)?.metrics_path ?? "/metrics", "/metrics");
  });
});
