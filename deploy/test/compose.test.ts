import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import {
  asEnvironment,
  interpolateDeep,
  parseEnvFile,
  readRepoFile,
  readYaml,
  referencedVariables,
  repoFileExists,
} from "./support/deploy-files.ts";
import { environmentProblems } from "./support/config-schemas.ts";
import { scriptAsContainerCommand } from "./support/service-commands.ts";

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  restart?: string;
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

const composePath = "deploy/docker-compose.yml";
const rawText = readRepoFile(composePath);
const raw = readYaml<ComposeFile>(composePath);
const example = parseEnvFile(readRepoFile("deploy/.env.example"));
const secrets = ["POSTGRES_PASSWORD", "ENCRYPTION_KEY", "GRAFANA_ADMIN_PASSWORD", "MINIO_ROOT_PASSWORD"];

/** What an operator's deploy/.env holds after following .env.example's instructions. */
const filledIn = {
  ...example,
  POSTGRES_PASSWORD: randomBytes(24).toString("hex"),
  ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  GRAFANA_ADMIN_PASSWORD: randomBytes(12).toString("hex"),
  MINIO_ROOT_PASSWORD: randomBytes(16).toString("hex"),
};
const compose = interpolateDeep(raw, filledIn);
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  assert.ok(found, `compose has no ${name} service`);
  return found;
};
const env = (name: string) => asEnvironment(service(name).environment ?? {});
const dataModule = "--import=data:text/javascript,";
/** The JavaScript of a Dockerfile's `HEALTHCHECK ... CMD ["node", "-e", "<code>"]`. */
const dockerfileHealthcheck = (name: string) => {
  const exec = /^\s+CMD (\[.*\])$/m.exec(readRepoFile(`deploy/docker/${name}.Dockerfile`))?.[1];
  return (JSON.parse(exec ?? "[]") as string[])[2];
};
/** "127.0.0.1:8080:8080" → { host: "127.0.0.1", published: 8080, container: 8080 } */
const parsePort = (spec: string) => {
  const parts = spec.split(":");
  return { host: parts.length === 3 ? parts[0] : "0.0.0.0", container: Number(parts.at(-1)) };
};

describe("docker compose stack", () => {
  it("runs the infrastructure the issues list, the migrations, auth, profiles and the gateway", () => {
    const images = Object.fromEntries(Object.entries(compose.services).map(([k, s]) => [k, s.image ?? ""]));
    assert.match(images.postgres!, /^postgres:16/);
    assert.match(images.redis!, /^redis:7/);
    assert.match(images.kafka!, /^apache\/kafka:/);
    assert.match(images.mailpit!, /^axllent\/mailpit:/);
    assert.match(images.prometheus!, /^prom\/prometheus:/);
    assert.match(images.grafana!, /^grafana\/grafana:/);
    assert.match(images.adminer!, /^adminer:/);
    assert.match(images.minio!, /(^|\/)minio\/minio:RELEASE\./);
    for (const name of ["migrate", "auth", "profiles-migrate", "profiles", "gateway"]) {
      assert.ok(images[name], `${name} has no image`);
    }
    for (const [name, image] of Object.entries(images)) {
      assert.match(image, /:[\w.-]+$/, `${name} image has no tag`);
      assert.doesNotMatch(image, /:latest$/, `${name} image is not pinned`);
    }
  });

  it("runs Kafka in KRaft mode, advertising the address the services connect to", () => {
    const kafka = env("kafka");
    assert.equal(kafka.KAFKA_PROCESS_ROLES, "broker,controller");
    assert.ok(
      kafka.KAFKA_ADVERTISED_LISTENERS?.split(",").includes(`PLAINTEXT://${env("auth").KAFKA_BROKERS}`),
    );
  });

  it("documents every variable it reads in .env.example", () => {
    const used = new Set(referencedVariables(rawText));
    for (const name of used) assert.ok(name in example, `${name} is used but not in deploy/.env.example`);
  });

  it("commits no secret: .env.example leaves them empty and compose refuses to start without them", () => {
    for (const name of secrets) {
      assert.equal(example[name], "", `${name} has a value in .env.example`);
      assert.throws(() => interpolateDeep(raw, { ...filledIn, [name]: "" }), new RegExp(name));
    }
  });

  for (const [name, kind] of [
    ["migrate", "auth"],
    ["auth", "auth"],
    ["profiles-migrate", "profiles"],
    ["profiles", "profiles"],
    ["gateway", "gateway"],
  ] as const) {
    it(`${name}: every variable is a setting of the ${kind} config schema and the service accepts them`, () => {
      assert.deepEqual(environmentProblems(kind, env(name)), []);
    });
  }

  it("auth and the gateway reach the infrastructure by compose service names", () => {
    const auth = env("auth");
    const database = new URL(auth.DATABASE_URL!);
    assert.equal(database.host, "postgres:5432");
    assert.equal(database.pathname, `/${env("postgres").POSTGRES_DB}`);
    assert.equal(database.username, env("postgres").POSTGRES_USER);
    assert.equal(decodeURIComponent(database.password), env("postgres").POSTGRES_PASSWORD);
    assert.equal(new URL(auth.REDIS_URL!).host, "redis:6379");
    assert.equal(new URL(auth.SMTP_URL!).host, "mailpit:1025");
    assert.deepEqual(env("migrate"), auth, "migrate and auth use different settings");
    const gateway = env("gateway");
    assert.equal(gateway.AUTH_SERVICE_URL, `http://auth:${auth.PORT}`);
    assert.equal(gateway.REDIS_URL, auth.REDIS_URL, "the gateway must read the revocations auth writes");
    const profiles = env("profiles");
    assert.equal(gateway.PROFILES_SERVICE_URL, `http://profiles:${profiles.PORT}`);
    assert.equal(profiles.DATABASE_URL, auth.DATABASE_URL);
    assert.equal(profiles.REDIS_URL, auth.REDIS_URL, "profiles must refuse the sessions auth revoked");
    assert.equal(profiles.KAFKA_BROKERS, auth.KAFKA_BROKERS, "profiles consumes the events auth publishes");
    assert.equal(profiles.AUTH_SERVICE_URL, gateway.AUTH_SERVICE_URL);
    assert.deepEqual(
      env("profiles-migrate"),
      profiles,
      "profiles-migrate and profiles use different settings",
    );
  });

  it("profiles stores photos in the compose MinIO, with its credentials, creating the bucket", () => {
    const profiles = env("profiles");
    const minio = env("minio");
    assert.equal(new URL(profiles.S3_ENDPOINT!).host, "minio:9000");
    assert.equal(profiles.S3_FORCE_PATH_STYLE, "true", "MinIO has no per-bucket host names here");
    assert.equal(profiles.S3_CREATE_BUCKET, "true", "a fresh MinIO volume has no bucket");
    assert.equal(profiles.S3_ACCESS_KEY_ID, minio.MINIO_ROOT_USER);
    assert.equal(profiles.S3_SECRET_ACCESS_KEY, minio.MINIO_ROOT_PASSWORD);
    assert.ok(minio.MINIO_ROOT_PASSWORD!.length >= 8, "MinIO refuses a password under 8 characters");
    assert.deepEqual(service("minio").healthcheck?.test, ["CMD", "mc", "ready", "local"]);
  });

  it("publishes and health-checks each service on the port it listens on, every port on loopback", () => {
    for (const name of ["auth", "profiles", "gateway"]) {
      const port = Number(env(name).PORT);
      assert.deepEqual(
        service(name).ports?.map((spec) => parsePort(spec).container),
        [port],
      );
      // The image's own check (it reads PORT), percent-encoded so that podman-compose cannot break it.
      const module = service(name)
        .healthcheck?.test.find((word) => word.startsWith(dataModule))
        ?.slice(dataModule.length);
      assert.equal(decodeURIComponent(module ?? ""), dockerfileHealthcheck(name), `${name} checks otherwise`);
    }
    for (const [name, spec] of Object.entries(compose.services)) {
      for (const port of spec.ports ?? []) {
        assert.equal(parsePort(port).host, "127.0.0.1", `${name} publishes ${port} beyond loopback`);
      }
    }
    // A local PostgreSQL or Redis (the tests' own) holds these ports on the host already.
    const published = (name: string) => service(name).ports!.map((spec) => Number(spec.split(":").at(-2)));
    assert.ok(!published("postgres").includes(5432) && !published("redis").includes(6379));
  });

  it("runs under podman-compose 1.0.3: no ${VAR:-}, and healthcheck words that its re-splitting keeps", () => {
    // It passes `${VAR:-}` (an empty default) through literally, and joins exec-form words into one shell
    // string that is split again (support/deploy-files.ts, podmanComposeHealthcheck).
    assert.doesNotMatch(rawText, /\$\{\w+:?-\}/);
    for (const [name, spec] of Object.entries(compose.services)) {
      const test = spec.healthcheck?.test ?? ["CMD"];
      assert.equal(test[0], "CMD", `${name}: a shell-form healthcheck`);
      for (const word of test) assert.match(word, /^[\w@%+=:,./-]+$/, `${name}: "${word}" would be split`);
    }
  });

  it("runs the Kafka release the tests run against (scripts/kafka)", () => {
    const tested = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(
      readRepoFile("scripts/kafka/pom.xml"),
    )?.[1];
    assert.ok(tested);
    assert.equal(service("kafka").image, `apache/kafka:${tested}`);
  });

  it("starts in order gated on health: databases, the one-shot migrations, auth, profiles, the gateway", () => {
    const auth = service("auth").depends_on ?? {};
    assert.equal(auth.migrate?.condition, "service_completed_successfully");
    for (const dependency of ["postgres", "redis", "kafka", "mailpit"]) {
      assert.equal(auth[dependency]?.condition, "service_healthy", `auth does not wait for ${dependency}`);
    }
    assert.equal(service("migrate").depends_on?.postgres?.condition, "service_healthy");
    // Restarted until it succeeds: podman-compose 1.0.3 starts it without waiting for PostgreSQL's health.
    assert.equal(service("migrate").restart, "on-failure");
    const profiles = service("profiles").depends_on ?? {};
    assert.equal(profiles["profiles-migrate"]?.condition, "service_completed_successfully");
    for (const dependency of ["postgres", "redis", "kafka", "minio", "auth"]) {
      assert.equal(
        profiles[dependency]?.condition,
        "service_healthy",
        `profiles does not wait for ${dependency}`,
      );
    }
    assert.equal(service("profiles-migrate").depends_on?.postgres?.condition, "service_healthy");
    assert.equal(service("profiles-migrate").restart, "on-failure");
    assert.equal(service("gateway").depends_on?.auth?.condition, "service_healthy");
    assert.equal(service("gateway").depends_on?.profiles?.condition, "service_healthy");
    for (const [name, spec] of Object.entries(compose.services)) {
      for (const [dependency, { condition }] of Object.entries(spec.depends_on ?? {})) {
        if (condition === "service_healthy") {
          assert.ok(
            service(dependency).healthcheck,
            `${name} waits for ${dependency}, which has no healthcheck`,
          );
        }
      }
    }
  });

  it("runs the services' own scripts with node, from images built by the deploy Dockerfiles", () => {
    assert.deepEqual(service("migrate").command, scriptAsContainerCommand("services/auth", "migrate"));
    assert.equal(service("migrate").image, service("auth").image);
    assert.deepEqual(service("migrate").build, service("auth").build);
    assert.deepEqual(
      service("profiles-migrate").command,
      scriptAsContainerCommand("services/profiles", "migrate"),
    );
    assert.equal(service("profiles-migrate").image, service("profiles").image);
    assert.deepEqual(service("profiles-migrate").build, service("profiles").build);
    // Every service on a local image builds it; compose would otherwise try to pull mimascota/* and fail.
    for (const name of ["migrate", "auth", "profiles-migrate", "profiles", "gateway"]) {
      const dockerfile = service(name).build?.dockerfile ?? "";
      assert.ok(repoFileExists(dockerfile), `${name} builds from missing ${dockerfile}`);
      assert.equal(service(name).build?.context, "..");
    }
  });

  it("mounts configuration that exists in the repository", () => {
    for (const [name, spec] of Object.entries(compose.services)) {
      for (const volume of spec.volumes ?? []) {
        if (!volume.startsWith("./")) continue;
        const source = `deploy/${volume.split(":")[0]!.slice(2)}`;
        assert.ok(repoFileExists(source), `${name} mounts missing ${source}`);
      }
    }
  });
});
