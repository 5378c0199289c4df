import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { skipUnlessPrograms } from "@mimascota/shared/testing/services";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listFiles, readRepoFile, readYaml, readYamlDocuments } from "./support/deploy-files.ts";
import { gatewayConfigSchema } from "../../services/gateway/src/config.ts";
import { environmentProblems } from "./support/config-schemas.ts";
import { knownServiceCommands } from "./support/service-commands.ts";

interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: { name: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  env?: { name: string; value?: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  initContainers?: Container[];
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean };
}
interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: { matchLabels: Record<string, string> } | Record<string, string>;
    template?: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpec;
    };
    ports?: { name: string; port: number; targetPort: string | number }[];
    minAvailable?: number;
    scaleTargetRef?: { kind: string; name: string };
    minReplicas?: number;
    maxReplicas?: number;
    rules?: { http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] } }[];
  };
}

const dir = "deploy/k8s";
const kustomization = readYaml<{ resources: string[]; images: { name: string; newTag: string }[] }>(
  `${dir}/kustomization.yaml`,
);
const applied = kustomization.resources.flatMap((file) => readYamlDocuments(`${dir}/${file}`) as Resource[]);
const secrets = readYamlDocuments(`${dir}/secret.template.yaml`) as Resource[];
const all = [...applied, ...secrets];
const find = (kind: string, name: string) => {
  const found = all.find((r) => r.kind === kind && r.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found;
};
const deployments = applied.filter((r) => r.kind === "Deployment");
/** Every container of a pod, its init containers first (they run first). */
const allContainers = (pod: PodSpec) => [...(pod.initContainers ?? []), ...pod.containers];
/** The services with a database, each migrating in an init container of its own pods. */
const migrating = ["auth", "profiles"];
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The environment a container starts with: its ConfigMaps, the secret template's keys, then `env`. */
/** The secret template as an operator fills it in: every CHANGE_ME replaced by a value of the right form. */
function filledIn(template: Record<string, string>): Record<string, string> {
  const real = (key: string, value: string) =>
    key === "ENCRYPTION_KEY" ? randomBytes(32).toString("base64") : value.replaceAll("CHANGE_ME", "s3cret");
  return Object.fromEntries(Object.entries(template).map(([key, value]) => [key, real(key, value)]));
}

function containerEnvironment(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, find("ConfigMap", source.configMapRef.name).data);
    if (source.secretRef)
      Object.assign(env, filledIn(find("Secret", source.secretRef.name).stringData ?? {}));
  }
  for (const { name, value } of container.env ?? []) env[name] = value ?? "";
  return env;
}

describe("Kubernetes manifests", () => {
  it("kustomization lists every manifest except the secret template, and each parses as YAML", () => {
    const files = listFiles(dir, ".yaml").filter((f) => f !== "kustomization.yaml");
    assert.deepEqual(
      [...kustomization.resources].sort(),
      files.filter((f) => f !== "secret.template.yaml"),
    );
    assert.ok(applied.every((r) => r.apiVersion && r.kind && r.metadata.name));
    assert.ok(!applied.some((r) => r.kind === "Secret"), "a Secret would be committed with the manifests");
  });

  it("every manifest, the secret template included, validates against the Kubernetes API schema", async () => {
    for (const resource of all) {
      // kubernetes-models ships one class per apiVersion and kind, checked against the OpenAPI schema.
      const module = (await import(`kubernetes-models/${resource.apiVersion}/${resource.kind}`)) as Record<
        string,
        new (data: unknown) => { validate(): void }
      >;
      const Model = module[resource.kind];
      assert.ok(Model, `no model for ${resource.apiVersion} ${resource.kind}`);
      assert.doesNotThrow(() => new Model(resource).validate(), `${resource.kind} ${resource.metadata.name}`);
    }
  });

  it("renders with `kubectl kustomize` (what `kubectl apply -k` sends), and every rendered object validates", async (t) => {
    const skip = await skipUnlessPrograms(["kubectl", "version", "--client"]);
    if (skip) return t.skip(skip);
    const { stdout } = await promisify(execFile)("kubectl", ["kustomize", dir], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const rendered = parseAllDocuments(stdout).map((doc) => doc.toJS() as Resource);
    assert.equal(rendered.length, applied.length, "every listed object, nothing more");
    for (const resource of rendered) {
      assert.equal(
        resource.metadata.labels?.["app.kubernetes.io/part-of"],
        "mimascota",
        `${resource.kind} ${resource.metadata.name}`,
      );
      // The operator's custom resources have no model in kubernetes-models (prometheus-operator.test.ts checks them).
      if (resource.apiVersion.startsWith("monitoring.coreos.com/")) continue;
      const module = (await import(`kubernetes-models/${resource.apiVersion}/${resource.kind}`)) as Record<
        string,
        new (data: unknown) => { validate(): void }
      >;
      assert.doesNotThrow(
        () => new module[resource.kind]!(resource).validate(),
        `${resource.kind} ${resource.metadata.name}`,
      );
    }
  });

  it("runs several replicas of each service, each with a Service, a PodDisruptionBudget and probes", () => {
    assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ["auth", "gateway", "profiles"]);
    for (const deployment of deployments) {
      const name = deployment.metadata.name;
      const labels = deployment.spec!.template!.metadata.labels;
      const hpa = applied.find(
        (r) => r.kind === "HorizontalPodAutoscaler" && r.spec!.scaleTargetRef?.name === name,
      );
      assert.ok(hpa, `no HorizontalPodAutoscaler scales ${name}`);
      assert.equal(hpa.spec!.scaleTargetRef?.kind, "Deployment");
      assert.equal(
        deployment.spec!.replicas,
        undefined,
        `${name} sets replicas, which each apply would reset`,
      );
      const replicas = hpa.spec!.minReplicas ?? 1;
      assert.ok(replicas >= 2 && hpa.spec!.maxReplicas! > replicas, `${name} runs a single replica`);
      const [container] = deployment.spec!.template!.spec.containers;
      assert.ok(container);
      const portNames = new Set(container.ports?.map((p) => p.name));
      assert.equal(container.readinessProbe?.httpGet?.path, "/ready");
      assert.equal(container.livenessProbe?.httpGet?.path, "/health");
      for (const probe of [container.readinessProbe, container.livenessProbe]) {
        assert.ok(portNames.has(String(probe?.httpGet?.port)), `${name} probes an undeclared port`);
      }
      const service = applied.find((r) => r.kind === "Service" && matches(r.spec!.selector as never, labels));
      assert.ok(service, `no Service selects ${name}`);
      assert.ok(service.spec!.ports!.every((p) => portNames.has(String(p.targetPort))));
      const pdb = applied.find(
        (r) =>
          r.kind === "PodDisruptionBudget" &&
          matches((r.spec!.selector as { matchLabels: Record<string, string> }).matchLabels, labels),
      );
      assert.ok(pdb, `no PodDisruptionBudget covers ${name}`);
      assert.ok((pdb.spec!.minAvailable ?? 0) < replicas, `${name} could never be drained`);
    }
  });

  it("sets resource requests and limits and runs every container as non-root with a read-only filesystem", () => {
    const pods = applied
      .filter((r) => r.spec?.template)
      .map((r) => [r.metadata.name, r.spec!.template!.spec]);
    assert.ok(pods.length >= 3);
    for (const [name, pod] of pods as [string, PodSpec][]) {
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${name} may run as root`);
      for (const container of allContainers(pod)) {
        for (const kind of ["requests", "limits"] as const) {
          assert.ok(container.resources?.[kind]?.cpu && container.resources[kind].memory, `${name} ${kind}`);
        }
        assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
        assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
      }
    }
  });

  it("every container runs a service script with node, from an image the kustomization pins", () => {
    const commands = knownServiceCommands();
    const images = new Set(kustomization.images.map((i) => i.name));
    const pods = deployments.map((r) => r.spec!.template!.spec);
    for (const container of pods.flatMap(allContainers)) {
      const command = container.command?.join(" ") ?? "(image default)";
      assert.ok(commands.has(command), `${container.name} runs unknown command ${command}`);
      assert.ok(images.has(container.image), `${container.image} is not pinned in kustomization.yaml`);
    }
    for (const service of migrating) {
      const [migrate] = find("Deployment", service).spec!.template!.spec.initContainers ?? [];
      assert.equal(commands.get(migrate?.command?.join(" ") ?? ""), `services/${service} migrate`);
    }
  });

  it("every variable the containers get is a setting of their service's schema, and the services accept them", () => {
    const byImage = {
      "mimascota/auth": "auth",
      "mimascota/gateway": "gateway",
      "mimascota/profiles": "profiles",
    } as const;
    for (const resource of deployments) {
      for (const container of allContainers(resource.spec!.template!.spec)) {
        const kind = byImage[container.image as keyof typeof byImage];
        assert.ok(kind, container.image);
        const problems = environmentProblems(kind, containerEnvironment(container));
        assert.deepEqual(problems, [], `${resource.metadata.name}: ${problems.join("; ")}`);
      }
    }
  });

  it("ports, scrape annotations, probes and the upstream URLs agree with PORT and OPS_PORT", () => {
    for (const deployment of deployments) {
      const template = deployment.spec!.template!;
      const container = template.spec.containers[0]!;
      const environment = containerEnvironment(container);
      const port = Number(environment.PORT);
      const opsPort = Number(environment.OPS_PORT);
      assert.ok(opsPort > 0 && opsPort !== port, "a separate operations port");
      assert.deepEqual(
        container.ports?.map((p) => [p.name, p.containerPort]),
        [
          ["http", port],
          ["ops", opsPort],
        ],
      );
      // Production serves metrics on the operations port only.
      assert.equal(Number(template.metadata.annotations?.["prometheus.io/port"]), opsPort);
      assert.equal(
        container.readinessProbe?.httpGet?.port,
        "ops",
        "readiness details come from the ops port",
      );
      assert.equal(container.livenessProbe?.httpGet?.port, "http");
    }
    const gateway = containerEnvironment(find("Deployment", "gateway").spec!.template!.spec.containers[0]!);
    const authService = find("Service", "auth").spec!.ports![0]!;
    const profilesService = find("Service", "profiles").spec!.ports![0]!;
    assert.equal(gateway.AUTH_SERVICE_URL, `http://auth:${authService.port}`);
    assert.equal(gateway.PROFILES_SERVICE_URL, `http://profiles:${profilesService.port}`);
    const profiles = containerEnvironment(find("Deployment", "profiles").spec!.template!.spec.containers[0]!);
    assert.equal(
      profiles.AUTH_SERVICE_URL,
      gateway.AUTH_SERVICE_URL,
      "profiles verifies tokens with auth's JWKS",
    );
  });

  it("the secret template holds placeholders only, and every service shares auth's Redis", () => {
    for (const secret of secrets) {
      for (const [key, value] of Object.entries(secret.stringData ?? {})) {
        assert.match(value, /CHANGE_ME/, `${secret.metadata.name}.${key} looks like a real value`);
      }
    }
    for (const name of ["gateway-secrets", "profiles-secrets"]) {
      assert.equal(
        find("Secret", name).stringData?.REDIS_URL,
        find("Secret", "auth-secrets").stringData?.REDIS_URL,
        `${name} would not see the sessions auth revokes`,
      );
    }
  });

  it("auth and profiles pods migrate in an init container with the server's image, environment and volumes", () => {
    for (const deployment of deployments) {
      const name = deployment.metadata.name;
      const pod = deployment.spec!.template!.spec;
      if (!migrating.includes(name)) {
        assert.equal(pod.initContainers, undefined, `${name} has no database to migrate`);
        continue;
      }
      assert.equal(pod.initContainers?.length, 1, `${name} needs exactly one init container, the migration`);
      const [migrate] = pod.initContainers;
      const [server] = pod.containers;
      assert.ok(migrate && server);
      assert.equal(migrate.image, server.image, `${name} would migrate with another release's code`);
      assert.deepEqual(
        migrate.envFrom,
        server.envFrom,
        `${name} migrates with other settings than it serves`,
      );
      assert.deepEqual(migrate.volumeMounts, server.volumeMounts);
      assert.equal(migrate.ports, undefined, "a migration serves nothing");
    }
  });

  it("a release is one apply: no migration Job to run, wait for or delete, and the README says so", () => {
    assert.deepEqual(
      applied.filter((r) => r.kind === "Job").map((r) => r.metadata.name),
      [],
      "a Job's immutable template forces a delete before each release",
    );
    const readme = readRepoFile("deploy/README.md");
    const release = readme.slice(readme.indexOf("### Releasing on Kubernetes"));
    assert.match(release, /\nkubectl apply -k deploy\/k8s +#/, "the README does not show the single apply");
    assert.doesNotMatch(
      release,
      /component!=server|wait --for=condition=complete/,
      "a two-phase apply is left",
    );
  });

  it("the ingress routes only the API and the JWKS, to the gateway's named port", () => {
    const ingress = find("Ingress", "gateway");
    const paths = ingress.spec!.rules!.flatMap((rule) => rule.http.paths);
    assert.ok(paths.length > 0);
    const gatewayPorts = new Set(find("Service", "gateway").spec!.ports!.map((p) => p.name));
    for (const { backend } of paths) {
      assert.equal(backend.service.name, "gateway");
      assert.ok(gatewayPorts.has(backend.service.port.name));
    }
    const text = JSON.stringify(paths);
    assert.ok(!text.includes('"/metrics"') && !text.includes('"/"'), "operations endpoints are public");
  });

  it("the ingress lets a photo upload through to the gateway, which applies the route's own limit", () => {
    const bodySize = find("Ingress", "gateway").metadata.annotations?.[
      "nginx.ingress.kubernetes.io/proxy-body-size"
    ];
    const megabytes = /^(\d+)m$/.exec(bodySize ?? "")?.[1];
    assert.ok(megabytes, `proxy-body-size ${bodySize} is not in megabytes`);
    const gateway = containerEnvironment(find("Deployment", "gateway").spec!.template!.spec.containers[0]!);
    const { PROFILES_UPLOAD_LIMIT_BYTES } = gatewayConfigSchema.parse(gateway);
    assert.ok(Number(megabytes) * 1024 * 1024 >= PROFILES_UPLOAD_LIMIT_BYTES, `${bodySize} refuses photos`);
  });
});
