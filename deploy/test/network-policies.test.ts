import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readYamlDocuments } from "./support/deploy-files.ts";

interface Peer {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: { cidr: string };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { protocol?: string; port: number }[];
}
interface Policy {
  metadata: { name: string };
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes: string[];
    ingress?: Rule[];
    egress?: Rule[];
  };
}

interface Workload {
  kind: string;
  metadata: { name: string };
  spec: { template: { metadata: { labels: Record<string, string> }; spec: { initContainers?: unknown[] } } };
}

const policies = readYamlDocuments("deploy/k8s/network-policies.yaml") as Policy[];
const policy = (name: string) => {
  const found = policies.find((p) => p.metadata.name === name);
  assert.ok(found, `no NetworkPolicy ${name}`);
  return found;
};
/** A peer as a word: `pod:gateway`, `namespace:monitoring`, `cidr:10.0.0.0/8`. */
const describePeer = (peer: Peer) =>
  peer.podSelector?.matchLabels?.["app.kubernetes.io/name"]
    ? `pod:${peer.podSelector.matchLabels["app.kubernetes.io/name"]}`
    : peer.namespaceSelector
      ? `namespace:${peer.namespaceSelector.matchLabels?.["kubernetes.io/metadata.name"]}`
      : `cidr:${peer.ipBlock?.cidr}`;
/** Every (peer, port) pair a list of rules allows. */
const allowed = (rules: Rule[] = [], side: "from" | "to") =>
  rules.flatMap((rule) =>
    (rule[side] ?? []).flatMap((peer) => (rule.ports ?? []).map((p) => `${describePeer(peer)} ${p.port}`)),
  );

describe("network policies", () => {
  it("deny everything not allowed, in both directions, for every pod of the namespace", () => {
    const deny = policy("default-deny");
    assert.deepEqual(deny.spec.podSelector, {});
    assert.deepEqual([...deny.spec.policyTypes].sort(), ["Egress", "Ingress"]);
    assert.equal(deny.spec.ingress, undefined);
    assert.equal(deny.spec.egress, undefined);
  });

  it("let the gateway be reached from the ingress controller only, and Prometheus its ops port", () => {
    assert.deepEqual(allowed(policy("gateway").spec.ingress, "from").sort(), [
      "namespace:ingress-nginx 8080",
      "namespace:monitoring 9080",
    ]);
  });

  it("let auth and profiles be reached from the gateway only (auth also from profiles, for the JWKS)", () => {
    assert.deepEqual(allowed(policy("auth").spec.ingress, "from").sort(), [
      "namespace:monitoring 9006",
      "pod:gateway 8006",
      "pod:profiles 8006",
    ]);
    assert.deepEqual(allowed(policy("profiles").spec.ingress, "from").sort(), [
      "namespace:monitoring 9082",
      "pod:gateway 8082",
    ]);
  });

  it("let each service out to its upstreams and managed services only, on their ports", () => {
    const ports = (name: string) =>
      [...new Set(allowed(policy(name).spec.egress, "to").map((pair) => Number(pair.split(" ")[1])))].sort(
        (a, b) => a - b,
      );
    // PostgreSQL 5432, Redis 6379, Kafka 9093, SMTP 465/587, S3 443; the services' own ports.
    assert.deepEqual(ports("gateway"), [6379, 8006, 8082]);
    assert.deepEqual(ports("auth"), [465, 587, 5432, 6379, 9093]);
    assert.deepEqual(ports("profiles"), [443, 5432, 6379, 8006, 9093]);
    const dns = policy("allow-dns");
    assert.deepEqual(dns.spec.podSelector, {});
    assert.deepEqual(
      dns.spec.egress?.flatMap((rule) => rule.ports?.map((p) => p.port)),
      [53, 53],
    );
  });

  it("let the migrate init containers reach PostgreSQL through their pod's policy, with no policy of their own", () => {
    const pods = ["auth", "profiles"].flatMap(
      (name) => readYamlDocuments(`deploy/k8s/${name}.yaml`) as Workload[],
    );
    const migrating = pods.filter((r) => r.kind === "Deployment" && r.spec.template.spec.initContainers);
    assert.deepEqual(migrating.map((d) => d.metadata.name).sort(), ["auth", "profiles"]);
    for (const deployment of migrating) {
      const labels = deployment.spec.template.metadata.labels;
      const selecting = policies.filter((p) =>
        Object.entries(p.spec.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
      );
      const egress = selecting.flatMap((p) => allowed(p.spec.egress, "to"));
      assert.ok(
        egress.includes("cidr:10.100.1.0/24 5432"),
        `${deployment.metadata.name} cannot reach PostgreSQL`,
      );
    }
    assert.ok(
      !policies.some((p) => p.metadata.name === "migrations"),
      "a policy for Jobs that no longer exist",
    );
  });
});
