import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ORIGIN, loginMany, refreshLoad, wrkLoad, type LoadResult } from "./load.ts";
import { cpuSecondsOf, pinned, SERVICE_CPU, type ServiceProcess } from "./processes.ts";
import type { Row } from "./report.ts";

const run = promisify(execFile);

export interface PhaseOptions {
  users: number;
  /** The first phase also measures the argon2 ceiling's warm-up and /me through the gateway. */
  full: boolean;
  seconds: number;
  work: string;
  authUrl: string;
  gatewayUrl: string;
  auth: ServiceProcess;
  gateway: ServiceProcess;
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  log: (line: string) => void;
}

export interface PhaseResult {
  users: number;
  ceiling: Row;
  login: Row;
  refresh: Row;
  meHit?: Row;
  meMiss?: Row;
  cacheHeaders?: { hit: string; miss: string };
  meError?: string;
}

export const LOGIN_CONNECTIONS = 16;
export const REFRESH_CHAINS = 64;
export const ME_CONNECTIONS = 32;

const pick = (count: number, users: number) =>
  Array.from({ length: count }, () => 1 + Math.floor(Math.random() * users));

/** Runs a load while measuring the CPU time the given processes used meanwhile. */
async function measured(pids: number[], label: string, load: () => Promise<LoadResult>): Promise<Row> {
  const cpuOf = () => pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const before = cpuOf();
  const result = await load();
  const cpu = cpuOf() - before;
  return { label, result, perCpuSecond: (result.requests - result.failures) / cpu };
}

/** argon2 verifications per second in a process placed like the service (same core, same pool size). */
async function argon2Ceiling(o: PhaseOptions): Promise<Row> {
  const { memoryCost, timeCost, parallelism } = o.argon2;
  const command = [
    process.execPath,
    "bench/auth/argon2-ceiling.ts",
    o.seconds,
    memoryCost,
    timeCost,
    parallelism,
  ].map(String);
  const argv = pinned ? ["taskset", "-c", SERVICE_CPU, ...command] : command;
  const { stdout } = await run(argv[0]!, argv.slice(1), { env: process.env });
  const r = JSON.parse(stdout.trim().split("\n").pop()!) as {
    verifies: number;
    seconds: number;
    cpuSeconds: number;
  };
  return {
    label: "argon2id ceiling (raw verify)",
    result: {
      requests: r.verifies,
      seconds: r.seconds,
      perSecond: r.verifies / r.seconds,
      p50: NaN,
      p99: NaN,
      failures: 0,
    },
    perCpuSecond: r.verifies / r.cpuSeconds,
  };
}

export async function runPhase(o: PhaseOptions): Promise<PhaseResult> {
  const n = o.users.toLocaleString("en-US");
  const loginUrl = `${o.authUrl}/api/v1/auth/login`;
  if (o.full) {
    o.log("warm-up: login and refresh, 3 s each");
    await wrkLoad({
      url: loginUrl,
      seconds: 3,
      connections: LOGIN_CONNECTIONS,
      workDir: o.work,
      loginUsers: o.users,
    });
    const warm = await loginMany(o.authUrl, pick(REFRESH_CHAINS, o.users));
    await refreshLoad(
      o.authUrl,
      warm.map((s) => s.refresh),
      3,
    );
  }
  o.log(`${n} users: argon2id ceiling, ${o.seconds} s`);
  const ceiling = await argon2Ceiling(o);
  o.log(`${n} users: login, ${o.seconds} s, ${LOGIN_CONNECTIONS} connections`);
  const login = await measured([o.auth.pid], `login, ${n} users`, () =>
    wrkLoad({
      url: loginUrl,
      seconds: o.seconds,
      connections: LOGIN_CONNECTIONS,
      workDir: o.work,
      loginUsers: o.users,
    }),
  );
  const sessions = await loginMany(o.authUrl, pick(REFRESH_CHAINS, o.users));
  o.log(`${n} users: refresh, ${o.seconds} s, ${REFRESH_CHAINS} chains`);
  const refresh = await measured(
    [o.auth.pid],
    `refresh, ${n} users`,
    async () =>
      (
        await refreshLoad(
          o.authUrl,
          sessions.map((s) => s.refresh),
          o.seconds,
        )
      ).result,
  );
  if (!o.full) return { users: o.users, ceiling, login, refresh };

  const meUrl = `${o.gatewayUrl}/api/v1/auth/me`;
  const bearer = { authorization: `Bearer ${sessions[0]!.access}`, origin: ORIGIN };
  const probe = async (extra: Record<string, string>) => {
    await fetch(meUrl, { headers: { ...bearer, ...extra } });
    const response = await fetch(meUrl, { headers: { ...bearer, ...extra } });
    if (response.status !== 200) {
      throw new Error(`/me through the gateway answered ${response.status}: ${await response.text()}`);
    }
    return response.headers.get("x-cache") ?? "(none)";
  };
  let cacheHeaders: { hit: string; miss: string };
  try {
    cacheHeaders = { hit: await probe({}), miss: await probe({ "cache-control": "no-cache" }) };
  } catch (error) {
    // The login and refresh figures stand on their own; say why the gateway part is missing.
    o.log(`/me via gateway NOT measured: ${(error as Error).message}`);
    return { users: o.users, ceiling, login, refresh, meError: (error as Error).message };
  }
  o.log(
    `/me via gateway: cache hit (x-cache ${cacheHeaders.hit}) and miss (x-cache ${cacheHeaders.miss}), ${o.seconds} s each`,
  );
  const meLoad = (headers: Record<string, string>) => () =>
    wrkLoad({
      url: meUrl,
      seconds: o.seconds,
      connections: ME_CONNECTIONS,
      workDir: o.work,
      headers: { ...bearer, ...headers },
    });
  const meHit = await measured([o.gateway.pid], "/me via gateway, cache hit", meLoad({}));
  const meMiss = await measured(
    [o.gateway.pid, o.auth.pid],
    "/me via gateway, miss (no-cache)",
    meLoad({ "cache-control": "no-cache" }),
  );
  return { users: o.users, ceiling, login, refresh, meHit, meMiss, cacheHeaders };
}
