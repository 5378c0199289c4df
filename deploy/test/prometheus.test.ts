import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { promtoolRun, readRepoFile, readYaml, skipUnlessPromtool } from "./support/deploy-files.ts";
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

    it("alerts select services by their app label, which every scrape target carries, not by job name", () => {
      for (const { alert, expr, annotations } of readAlertRules()) {
        assert.doesNotMatch(`${expr} ${JSON.stringify(annotations)}`, /\bjob\b/, alert);
      }
      const config = readYaml<{
        scrape_configs: { job_name: string; static_configs: { labels?: Record<string, string> }[] }[];
      }>("deploy/prometheus/prometheus.yml");
      const apps = config.scrape_configs.flatMap((job) => job.static_configs.map((c) => c.labels?.app));
      assert.deepEqual(apps.filter(Boolean).sort(), ["auth", "gateway", "profiles"]);
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
