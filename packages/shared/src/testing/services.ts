import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { test } from "node:test";
import { promisify } from "node:util";
import pg from "pg";

/**
 * Test support for integration tests against the real servers. Locally a missing server skips the suites
 * that need it (so `npm test` passes on a bare machine); with MIMASCOTA_REQUIRE_SERVICES=1 (CI) a missing
 * server fails the run instead.
 */
export type Service = "postgres" | "redis" | "kafka" | "s3";

export const serviceUrls = {
  postgres:
    process.env.TEST_DATABASE_URL ??
    process.env.DATABASE_URL ??
    "postgres://postgres@127.0.0.1:5432/postgres",
  redis: process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  kafka: process.env.TEST_KAFKA_BROKERS ?? process.env.KAFKA_BROKERS ?? "127.0.0.1:9092",
  /** An S3-compatible server: S3Proxy from scripts/s3proxy.sh by default. */
  s3: process.env.TEST_S3_ENDPOINT ?? "http://127.0.0.1:9000",
};

/**
 * The identity the test S3 server accepts: scripts/s3proxy.sh's defaults (S3PROXY_IDENTITY and
 * S3PROXY_CREDENTIAL), or TEST_S3_ACCESS_KEY_ID and TEST_S3_SECRET_ACCESS_KEY for another server. Suites
 * create a bucket of their own (`uniquePrefix("mm-test")` is a valid bucket name) with `forcePathStyle`.
 */
export const s3TestCredentials = {
  accessKeyId: process.env.TEST_S3_ACCESS_KEY_ID ?? "mimascota-test",
  secretAccessKey: process.env.TEST_S3_SECRET_ACCESS_KEY ?? "mimascota-test-secret",
  region: process.env.TEST_S3_REGION ?? "us-east-1",
};

export const servicesRequired = process.env.MIMASCOTA_REQUIRE_SERVICES === "1";

const reachable = new Map<Service, Promise<boolean>>();

function hostPort(service: Service): { host: string; port: number } {
  if (service === "kafka") {
    const [host = "127.0.0.1", port = "9092"] = (serviceUrls.kafka.split(",")[0] ?? "").split(":");
    return { host, port: Number(port) };
  }
  const url = new URL(serviceUrls[service]);
  return { host: url.hostname || "127.0.0.1", port: Number(url.port || defaultPort(service, url)) };
}

function defaultPort(service: Exclude<Service, "kafka">, url: URL): number {
  switch (service) {
    case "postgres":
      return 5432;
    case "redis":
      return 6379;
    case "s3":
      return url.protocol === "https:" ? 443 : 80;
  }
}

export function isReachable(service: Service): Promise<boolean> {
  let result = reachable.get(service);
  if (!result) {
    const { host, port } = hostPort(service);
    result = new Promise<boolean>((resolve) => {
      const socket = connect({ host, port, timeout: 1_000 });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("timeout", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(false));
    });
    reachable.set(service, result);
  }
  return result;
}

/**
 * A skip reason the run's summary counts. node:test reports a skipped `describe` under `suites` and leaves it
 * out of `skipped`, so a run whose Kafka suites all skipped would say `skipped 0`; each reason given out here
 * also registers one skipped test, with the same reason, where it is asked for (the file's top level for a
 * suite's `skip` option). A single test skipped with such a reason is counted twice: an overcount is visible,
 * an undercount is what this prevents.
 */
export function countedSkip(reason: string | false): string | false {
  // Not awaited: a skipped test settles at once, and the file's own suites run after it either way.
  if (reason) void test("skipped", { skip: reason });
  return reason;
}

/**
 * For `describe(name, { skip: await skipUnless("postgres") }, ...)`: false when every service answers, a
 * reason to skip (counted, see `countedSkip`) when one does not, and a thrown error instead when services are
 * required.
 */
export async function skipUnless(...services: Service[]): Promise<string | false> {
  for (const service of services) {
    if (await isReachable(service)) continue;
    const where = service === "kafka" ? serviceUrls.kafka : serviceUrls[service];
    const reason = `${service} is not reachable at ${where}`;
    if (servicesRequired) throw new Error(`MIMASCOTA_REQUIRE_SERVICES=1 but ${reason}`);
    return countedSkip(`${reason} (set MIMASCOTA_REQUIRE_SERVICES=1 to fail instead of skip)`);
  }
  return false;
}

const programRuns = new Map<string, Promise<boolean>>();

/**
 * `skipUnless` for the programs a suite runs (`redis-server`, `promtool`, `oathtool`...): each must exit 0
 * with the given arguments. Locally a missing one skips; with MIMASCOTA_REQUIRE_SERVICES=1 it fails.
 */
export async function skipUnlessPrograms(
  ...programs: [command: string, ...args: string[]][]
): Promise<string | false> {
  for (const [command, ...args] of programs) {
    const line = [command, ...args].join(" ");
    let runs = programRuns.get(line);
    if (!runs) {
      runs = promisify(execFile)(command, args, { timeout: 20_000 }).then(
        () => true,
        () => false,
      );
      programRuns.set(line, runs);
    }
    if (await runs) continue;
    const reason = `\`${line}\` did not run (is ${command} installed?)`;
    if (servicesRequired) throw new Error(`MIMASCOTA_REQUIRE_SERVICES=1 but ${reason}`);
    return countedSkip(`${reason}; set MIMASCOTA_REQUIRE_SERVICES=1 to fail instead of skip`);
  }
  return false;
}

/** A fresh, empty PostgreSQL database for one test file, so parallel suites never share state. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `mm_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serviceUrls.postgres });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serviceUrls.postgres);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: serviceUrls.postgres });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A key prefix unique to one test file, for Redis keys and Kafka topics. */
export function uniquePrefix(label: string): string {
  return `${label}-${randomBytes(4).toString("hex")}`;
}
