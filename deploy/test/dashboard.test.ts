import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readYaml, repoFileExists } from "./support/deploy-files.ts";
import {
  dashboardPath,
  dashboardQueries,
  readDashboard,
  type DashboardPanel,
} from "./support/monitoring-files.ts";

interface Provisioning {
  datasources?: { uid: string; type: string; url: string }[];
  providers?: { type: string; options: { path: string } }[];
}

const overlaps = (a: DashboardPanel["gridPos"], b: DashboardPanel["gridPos"]) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe("Grafana dashboard and provisioning", () => {
  const dashboard = readDashboard();
  const panels = dashboard.panels.filter((panel) => panel.type !== "row");

  it("the dashboard is JSON with a stable uid, unique panel ids and panels that do not overlap", () => {
    assert.equal(dashboard.uid, "mimascota-overview");
    const ids = dashboard.panels.map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length);
    dashboard.panels.forEach((a, i) => {
      assert.ok(a.gridPos.x >= 0 && a.gridPos.x + a.gridPos.w <= 24, `${a.title} is outside the grid`);
      for (const b of dashboard.panels.slice(i + 1)) {
        assert.ok(!overlaps(a.gridPos, b.gridPos), `"${a.title}" overlaps "${b.title}"`);
      }
    });
  });

  it("every panel queries the data source the operator picks, defaulting to a Prometheus one", () => {
    // No fixed uid: an imported dashboard then works on any Grafana, whatever its Prometheus is called.
    const variable = dashboard.templating.list.find((v) => v.type === "datasource");
    assert.equal(variable?.query, "prometheus");
    const picked = { type: "prometheus", uid: `\${${variable.name}}` };
    for (const panel of panels) {
      assert.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has no query`);
      assert.deepEqual(panel.datasource, picked, `panel "${panel.title}" uses a fixed data source`);
      for (const target of panel.targets ?? []) assert.deepEqual(target.datasource, picked, panel.title);
    }
    const datasources = readYaml<Provisioning>("deploy/grafana/provisioning/datasources/prometheus.yml");
    const prometheus = datasources.datasources?.find((d) => d.type === "prometheus");
    assert.equal(prometheus?.url, "http://prometheus:9090", "compose provisions no Prometheus data source");
  });

  it("selects services by their app label, never by a scrape job's name", () => {
    for (const { panel, expr } of dashboardQueries(dashboard)) {
      assert.doesNotMatch(expr, /\bjob\b/, `panel "${panel}" depends on job names: ${expr}`);
    }
  });

  it("has the panels operators asked for", () => {
    const titles = panels.map((panel) => panel.title.toLowerCase());
    for (const wanted of [
      "request rate",
      "latency percentiles",
      "error rate",
      "backend latency",
      "circuit breaker state",
      "cache hit ratio",
      "rate-limit rejections",
      "logins by result",
      "account locks",
      "two-factor",
      "outbox lag",
      "mail queue",
      "account events",
      "consumer lag",
      "photo uploads",
      "photo deletions",
    ]) {
      assert.ok(
        titles.some((title) => title.includes(wanted)),
        `no panel titled like "${wanted}"`,
      );
    }
  });

  it("breaker states are drawn over time with their names, not as raw numbers", () => {
    const breaker = panels.find((panel) => panel.title.toLowerCase().includes("circuit breaker state"));
    assert.equal(breaker?.type, "state-timeline");
    const text = JSON.stringify(breaker);
    for (const state of ["closed", "open", "half-open"]) assert.ok(text.includes(`"${state}"`), state);
  });

  it("the dashboard provider reads the folder compose mounts the dashboard into", () => {
    const providers = readYaml<Provisioning>("deploy/grafana/provisioning/dashboards/mimascota.yml");
    const path = providers.providers?.[0]?.options.path;
    const compose = readYaml<{ services: { grafana: { volumes: string[] } } }>("deploy/docker-compose.yml");
    const mount = compose.services.grafana.volumes.find((volume) => volume.endsWith(`:${path}:ro`));
    assert.ok(mount, `nothing is mounted at ${path}`);
    const source = mount.split(":")[0]!.replace(/^\.\//, "deploy/");
    assert.ok(repoFileExists(`${source}/${dashboardPath.split("/").at(-1)}`));
  });
});
