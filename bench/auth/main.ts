import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { loadAuthConfig } from "../../services/auth/src/config.ts";
import { PasswordHasher } from "../../services/auth/src/crypto/password-hasher.ts";
import { BENCH_PASSWORD, createBenchDatabase, explainHotQueries, seedUsers, tableSizes } from "./database.ts";
import { runPhase, type PhaseResult } from "./phases.ts";
import { freePort, memoryOf, pinned, startPinned, waitHealthy, type ServiceProcess } from "./processes.ts";
import { report } from "./summary.ts";

/**
 * `npm run bench:auth`: login, refresh and /me on a fresh database with 1,000 users, then the same login and
 * refresh runs after a bulk seed to 1,000,000 users. Settings (environment): BENCH_SECONDS (per run, 10),
 * BENCH_SCALE_USERS (1000000), BENCH_DATABASE_URL (server to create the database on; else DATABASE_URL,
 * else the local PostgreSQL). Results go to bench/results/auth-*.
 */
const env = process.env;
const settings = {
  seconds: Number(env.BENCH_SECONDS ?? 10),
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
let dropDatabase: (() => Promise<unknown>) | undefined;
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

try {
  const authDefaults = loadAuthConfig({ NODE_ENV: "test" });
  const argon2 = {
    memoryCost: authDefaults.ARGON2_MEMORY_KIB,
    timeCost: authDefaults.ARGON2_TIME_COST,
    parallelism: authDefaults.ARGON2_PARALLELISM,
  };
  const passwordHash = await new PasswordHasher(argon2).hash(BENCH_PASSWORD);

  const database = await createBenchDatabase(settings.serverUrl, join(work, "unused"));
  dropDatabase = database.drop;
  log(`database ${database.name} created and migrated`);
  const smallSeed = await seedUsers(database.url, passwordHash, 1, settings.smallUsers);
  log(`seeded ${settings.smallUsers} users in ${smallSeed.toFixed(1)} s`);

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
  const redisUrl = `redis://127.0.0.1:${redisPort}`;

  const base = {
    PATH: env.PATH,
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    HOST: "127.0.0.1",
    REDIS_URL: redisUrl,
  };
  const threadPool = env.UV_THREADPOOL_SIZE ? { UV_THREADPOOL_SIZE: env.UV_THREADPOOL_SIZE } : {};
  const authPort = await freePort();
  mkdirSync(join(work, "auth"));
  // BENCH_PROFILE_DIR: write a V8 CPU profile of the auth service there (read it with bench/auth/profile.ts).
  const profile = env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${env.BENCH_PROFILE_DIR}`] : [];
  const auth = startPinned("auth", [process.execPath, ...profile, "services/auth/src/main.ts"], {
    ...base,
    ...threadPool,
    PORT: String(authPort),
    DATABASE_URL: database.url,
    DATA_DIR: join(work, "auth"),
    ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    COOKIE_SECURE: "false",
    // Production requires an SMTP server; nothing measured here sends mail, so a closed loopback port will do.
    SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
  });
  services.push(auth);
  const authUrl = `http://127.0.0.1:${authPort}`;
  await waitHealthy(`${authUrl}/health`, auth);

  const gatewayPort = await freePort();
  mkdirSync(join(work, "gateway"));
  const gateway = startPinned("gateway", [process.execPath, "services/gateway/src/main.ts"], {
    ...base,
    PORT: String(gatewayPort),
    DATA_DIR: join(work, "gateway"),
    AUTH_SERVICE_URL: authUrl,
    RATE_LIMIT_IP: "1000000000",
    RATE_LIMIT_USER: "1000000000",
  });
  services.push(gateway);
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  await waitHealthy(`${gatewayUrl}/health`, gateway);
  log(
    `auth on ${authUrl}, gateway on ${gatewayUrl}, Redis on ${redisPort}${pinned ? "; services pinned to CPU 0" : ""}`,
  );

  const common = { ...settings, work, authUrl, gatewayUrl, auth, gateway, argon2, log };
  const small: PhaseResult = await runPhase({ ...common, users: settings.smallUsers, full: true });
  const memorySmall = { auth: memoryOf(auth.pid), gateway: memoryOf(gateway.pid) };

  log(`seeding users ${settings.smallUsers + 1}..${settings.scaleUsers} (with one rotated session each)`);
  const scaleSeed = await seedUsers(database.url, passwordHash, settings.smallUsers + 1, settings.scaleUsers);
  const sizes = await tableSizes(database.url);
  log(`seeded in ${scaleSeed.toFixed(1)} s: ${JSON.stringify(sizes)}`);
  const large: PhaseResult = await runPhase({ ...common, users: settings.scaleUsers, full: false });
  const memoryLarge = { auth: memoryOf(auth.pid), gateway: memoryOf(gateway.pid) };
  const plans = await explainHotQueries(database.url, settings.scaleUsers);

  const text = report({
    machine: { ...machine, loadAfter: uptime() },
    settings,
    small,
    large,
    seed: { seconds: scaleSeed, rows: settings.scaleUsers - settings.smallUsers, sizes },
    memory: { small: memorySmall, large: memoryLarge },
    plans,
  });
  console.log(`\n${text}`);
} finally {
  for (const service of services.reverse()) await service.stop();
  await dropDatabase?.().catch((error: unknown) => console.error("could not drop the bench database", error));
  rmSync(work, { recursive: true, force: true });
}
