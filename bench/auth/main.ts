import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { loadAuthConfig } from "../../services/auth/src/config.ts";
import { PasswordHasher } from "../../services/auth/src/crypto/password-hasher.ts";
import { BENCH_PASSWORD, createBenchDatabase, explainHotQueries, seedUsers, tableSizes } from "./database.ts";
import { runMe, runRounds, windows, type Target } from "./phases.ts";
import { freePort, memoryOf, pinned, startPinned, waitHealthy, type ServiceProcess } from "./processes.ts";
import { report } from "./summary.ts";

/**
 * `npm run bench:auth`. Two auth services side by side, one on a fresh database with 1,000 users and one on
 * a fresh database bulk-seeded with 1,000,000; rounds of login and refresh alternate between them (see
 * phases.ts), then /me through a gateway. Settings (environment): BENCH_SECONDS (per run, 8), BENCH_ROUNDS
 * (3), BENCH_SCALE_USERS (1000000), BENCH_DATABASE_URL (server to create the databases on; else
 * DATABASE_URL, else the local PostgreSQL), BENCH_PROFILE_DIR (CPU profiles of the auth services).
 * Results go to bench/results/auth-*.
 */
const env = process.env;
const settings = {
  seconds: Number(env.BENCH_SECONDS ?? 8),
  rounds: Number(env.BENCH_ROUNDS ?? 3),
  smallUsers: 1_000,
  scaleUsers: Number(env.BENCH_SCALE_USERS ?? 1_000_000),
  serverUrl: env.BENCH_DATABASE_URL ?? env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
};
const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();
const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  memoryGiB: totalmem() / 2 ** 30,
  node: process.version,
  threadPool: env.UV_THREADPOOL_SIZE ?? "4 (default)",
  loadBefore: uptime(),
};

const work = mkdtempSync(join(tmpdir(), "mm-bench-auth-"));
const services: ServiceProcess[] = [];
const drops: (() => Promise<unknown>)[] = [];
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping the services and dropping the bench databases`);
    void cleanUp().finally(() => process.exit(130));
  });
}
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

try {
  const authDefaults = loadAuthConfig({ NODE_ENV: "test" });
  const argon2 = authDefaults.argon2.params;
  const passwordHash = await new PasswordHasher(argon2).hash(BENCH_PASSWORD);

  const smallDb = await createBenchDatabase(settings.serverUrl, join(work, "unused"));
  drops.push(smallDb.drop);
  const largeDb = await createBenchDatabase(settings.serverUrl, join(work, "unused"));
  drops.push(largeDb.drop);
  await seedUsers(smallDb.url, passwordHash, 1, settings.smallUsers);
  log(`seeding ${settings.scaleUsers.toLocaleString("en-US")} users (with one rotated session each)`);
  const seedSeconds = await seedUsers(largeDb.url, passwordHash, 1, settings.scaleUsers);
  const sizes = await tableSizes(largeDb.url);
  log(`seeded in ${seedSeconds.toFixed(1)} s: ${JSON.stringify(sizes)}`);

  const redisPort = await freePort();
  const redis = spawn(
    "redis-server",
    ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  services.push({
    name: "redis",
    child: redis,
    pid: redis.pid!,
    log: () => "",
    stop: async () => void redis.kill(),
  });
  const base = {
    PATH: env.PATH,
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    HOST: "127.0.0.1",
    // Production puts the operations endpoints on a port of their own: any free one per process here.
    OPS_PORT: "0",
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
  };
  const threadPool = env.UV_THREADPOOL_SIZE ? { UV_THREADPOOL_SIZE: env.UV_THREADPOOL_SIZE } : {};
  const encryptionKey = randomBytes(32).toString("base64");
  // BENCH_PROFILE_DIR: write a V8 CPU profile of each auth service there (read it with bench/auth/profile.ts).
  const profile = env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${env.BENCH_PROFILE_DIR}`] : [];

  /** A login server (`node <script> [args]`) on the service core, on a free port, once it answers /health. */
  const startTarget = async (
    name: string,
    script: string[],
    extraEnv: NodeJS.ProcessEnv,
    users: number,
  ): Promise<Target> => {
    const port = await freePort();
    const service = startPinned(name, [process.execPath, ...script], {
      ...base,
      ...threadPool,
      ...extraEnv,
      PORT: String(port),
    });
    services.push(service);
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(`${url}/health`, service);
    return { users, url, service };
  };
  const startAuth = async (name: string, databaseUrl: string, users: number): Promise<Target> => {
    mkdirSync(join(work, name));
    const env = {
      DATABASE_URL: databaseUrl,
      DATA_DIR: join(work, name),
      ENCRYPTION_KEY: encryptionKey,
      COOKIE_SECURE: "false",
      // Production requires an SMTP server; nothing measured here sends mail, so a closed port will do.
      SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
    };
    return startTarget(name, [...profile, "services/auth/src/main.ts"], env, users);
  };
  const small = await startAuth("auth-small", smallDb.url, settings.smallUsers);
  // The measuring stick for login: the least a login on this stack can do (reference-login.ts).
  const reference = await startTarget(
    "reference-login",
    [
      "bench/auth/reference-login.ts",
      ...[argon2.memoryCost, argon2.timeCost, argon2.parallelism].map(String),
    ],
    { DATABASE_URL: smallDb.url },
    settings.smallUsers,
  );
  const large = await startAuth("auth-large", largeDb.url, settings.scaleUsers);

  const gatewayPort = await freePort();
  mkdirSync(join(work, "gateway"));
  const gateway = startPinned("gateway", [process.execPath, "services/gateway/src/main.ts"], {
    ...base,
    PORT: String(gatewayPort),
    DATA_DIR: join(work, "gateway"),
    AUTH_SERVICE_URL: small.url,
    RATE_LIMIT_IP: "1000000000",
    RATE_LIMIT_USER: "1000000000",
  });
  services.push(gateway);
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  await waitHealthy(`${gatewayUrl}/health`, gateway);
  log(
    `auth ${small.url} (small), ${large.url} (large), gateway ${gatewayUrl}${pinned ? "; all on CPU 0" : ""}`,
  );

  const rounds = await runRounds({ ...settings, work, small, large, reference, argon2, log });
  const me = await runMe({ gatewayUrl, target: small, gateway, seconds: settings.seconds, work, log });
  const memory = {
    small: memoryOf(small.service.pid),
    large: memoryOf(large.service.pid),
    gateway: memoryOf(gateway.pid),
  };
  const plans = await explainHotQueries(largeDb.url, settings.scaleUsers);

  if (env.BENCH_PROFILE_DIR) {
    // The services write their profiles into it when they stop, so it may not exist yet.
    mkdirSync(env.BENCH_PROFILE_DIR, { recursive: true });
    writeFileSync(join(env.BENCH_PROFILE_DIR, "windows.json"), JSON.stringify(windows, null, 1));
  }
  const text = report({
    machine: { ...machine, loadAfter: uptime() },
    settings,
    rounds,
    me,
    seed: { seconds: seedSeconds, sizes },
    memory,
    plans,
  });
  console.log(`\n${text}`);
} finally {
  await cleanUp();
}

/** Stops what this run started and drops its databases; also on Ctrl-C, so nothing is left behind. */
async function cleanUp(): Promise<void> {
  for (const service of services.reverse().splice(0)) await service.stop();
  for (const drop of drops.splice(0)) {
    await drop().catch((error: unknown) => console.error("could not drop a bench database", error));
  }
  rmSync(work, { recursive: true, force: true });
}
