import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { promtoolRun, readYaml, readYamlDocuments, skipUnlessPromtool } from "./support/deploy-files.ts";
import { alertsPath } from "./support/monitoring-files.ts";

/**
 * The Prometheus Operator's objects. kubernetes-models has no models for its CRDs (that would be the
 * @kubernetes-models/prometheus-operator package), so their shape is checked here by hand, and the rules by
 * promtool.
 */
interface OperatorObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    selector?: { matchLabels: Record<string, string> };
    endpoints?: {
      port: string;
      path?: string;
      relabelings?: { sourceLabels: string[]; targetLabel: string }[];
    }[];
    groups?: unknown[];
  };
}
interface ServiceResource {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { ports?: { name: string }[] };
}

const skipPromtool = await skipUnlessPromtool();
const dir = "deploy/k8s/monitoring";
const kustomization = readYaml<{ resources: string[] }>(`${dir}/kustomization.yaml`);
const objects = kustomization.resources.flatMap(
  (file) => readYamlDocuments(`${dir}/${file}`) as OperatorObject[],
);
const base = readYaml<{ resources: string[] }>("deploy/k8s/kustomization.yaml").resources.flatMap(
  (file) => readYamlDocuments(`deploy/k8s/${file}`) as ServiceResource[],
);

describe("Prometheus Operator objects (deploy/k8s/monitoring)", () => {
  it("are monitoring.coreos.com/v1 ServiceMonitors and a PrometheusRule, each named, with a spec", () => {
    for (const object of objects) {
      assert.equal(object.apiVersion, "monitoring.coreos.com/v1");
      assert.ok(["ServiceMonitor", "PrometheusRule"].includes(object.kind), object.kind);
      assert.match(object.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      assert.equal(typeof object.spec, "object");
    }
  });

  it("scrape every Service's ops port and label each target with its app", () => {
    const monitors = objects.filter((o) => o.kind === "ServiceMonitor");
    const services = base.filter((r) => r.kind === "Service");
    assert.deepEqual(
      monitors.map((m) => m.metadata.name).sort(),
      services.map((s) => s.metadata.name).sort(),
    );
    for (const monitor of monitors) {
      const selected = services.filter((service) =>
        Object.entries(monitor.spec.selector?.matchLabels ?? {}).every(
          ([k, v]) => service.metadata.labels?.[k] === v,
        ),
      );
      assert.equal(selected.length, 1, `${monitor.metadata.name} selects ${selected.length} Services`);
      const [endpoint] = monitor.spec.endpoints ?? [];
      assert.equal(endpoint?.port, "ops", "metrics are served on the operations port only");
      assert.ok(
        selected[0]!.spec?.ports?.some((p) => p.name === "ops"),
        `Service ${monitor.metadata.name} has no ops port`,
      );
      assert.equal(endpoint.path ?? "/metrics", "/metrics");
      assert.deepEqual(endpoint.relabelings, [
        { sourceLabels: ["__meta_kubernetes_service_label_app_kubernetes_io_name"], targetLabel: "app" },
      ]);
    }
  });

  it("the PrometheusRule holds exactly the rules of prometheus/alerts.yml", () => {
    const rule = objects.find((o) => o.kind === "PrometheusRule");
    assert.deepEqual(rule?.spec, readYaml(alertsPath), "regenerate prometheus-rule.yaml from alerts.yml");
  });

  it("the PrometheusRule's rules pass promtool check rules", { skip: skipPromtool }, async () => {
    const rule = objects.find((o) => o.kind === "PrometheusRule")!;
    const tmp = await mkdtemp(join(tmpdir(), "mimascota-prometheus-rule-"));
    try {
      const file = join(tmp, "rules.yml");
      await writeFile(file, stringify(rule.spec));
      assert.match(await promtoolRun(["check", "rules", file]), /SUCCESS: \d+ rules found/);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
