import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { promtoolRun, readRepoFile, skipUnlessPromtool } from "./support/deploy-files.ts";
import {
  dashboardQueries,
  readAlertRules,
  readDashboard,
  withoutGrafanaVariables,
} from "./support/monitoring-files.ts";

describe(
  "Prometheus configuration, alert rules and dashboard queries (promtool)",
  {
    skip: await skipUnlessPromtool(),
  },
  () => {
    it("prometheus.yml and the rule file it loads pass promtool check config", async () => {
      const output = await promtoolRun(["check", "config", "deploy/prometheus/prometheus.yml"]);
      assert.match(output, /SUCCESS: \d+ rules found/);
    });

    it("the alert rules pass their promtool unit tests", async () => {
      const output = await promtoolRun(["test", "rules", "alerts.test.yml"], "deploy/prometheus");
      assert.match(output, /SUCCESS/);
    });

    it("every alert rule has a unit test that expects it to fire", () => {
      const tests = readRepoFile("deploy/prometheus/alerts.test.yml");
      for (const { alert } of readAlertRules()) {
        const firing = new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`);
        assert.match(tests, firing, `no test expects ${alert} to fire`);
      }
    });

    it("every dashboard query is valid PromQL", async () => {
      // promtool parses expressions only inside rule files: each query becomes a recording rule.
      const rules = dashboardQueries(readDashboard()).map(({ expr }, i) => ({
        record: `dashboard:query_${i}`,
        expr: withoutGrafanaVariables(expr),
      }));
      const dir = await mkdtemp(join(tmpdir(), "mimascota-dashboard-rules-"));
      try {
        const file = join(dir, "dashboard-queries.yml");
        await writeFile(file, stringify({ groups: [{ name: "dashboard", rules }] }));
        const output = await promtoolRun(["check", "rules", file]);
        assert.match(output, new RegExp(`SUCCESS: ${rules.length} rules found`));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  },
);
