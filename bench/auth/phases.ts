import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  ORIGIN,
  loginMany,
  pacedLogins,
  pacedRefreshes,
  refreshLoad,
  wrkLoad,
  type LoadResult,
  type PacedResult,
} from "./load.ts";
import { cpuSecondsOf, pinned, SERVICE_CPU, type ServiceProcess } from "./processes.ts";
import type { Row } from "./report.ts";

const run = promisify(execFile);

/** One auth service with its own database of `users` seeded users. */
export interface Target {
  users: number;
  url: string;
  service: ServiceProcess;
}

export interface RoundOptions {
  rounds: number;
  seconds: number;
  work: string;
  small: Target;
  large: Target;
  /** The bare-minimum login (reference-login.ts) on the small service's database. */
  reference: Target;
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  log: (line: string) => void;
}

/** Open-loop latency at half of the small service's saturated throughput, over all rounds' samples. */
export interface HalfLoad {
  rate: number;
  samples: number;
  p50: number;
  p99: number;
  failures: number;
  unsent: number;
}

export interface RoundsResult {
  ceiling: Row;
  reference: Row;
  login: { small: Row; large: Row };
  refresh: { small: Row; large: Row };
  halfLoad: { login: { small: HalfLoad; large: HalfLoad }; refresh: { small: HalfLoad; large: HalfLoad } };
}

export interface MeResult {
  hit?: Row;
  miss?: Row;
  cacheHeaders?: { hit: string; miss: string };
  error?: string;
}

export const LOGIN_CONNECTIONS = 16;
export const REFRESH_CHAINS = 64;
export const PACED_REFRESH_CHAINS = 512;
export const ME_CONNECTIONS = 32;

const pick = (count: number, users: number) =>
  Array.from({ length: count }, () => 1 + Math.floor(Math.random() * users));
const fmtUsers = (n: number) => n.toLocaleString("en-US");

/**
 * When each run happened, on the monotonic clock that V8's CPU profiles use (µs), so a profile of the whole
 * benchmark can be cut to one kind of run (`node bench/auth/profile.ts <file> --window <label>`).
 */
export const windows: { label: string; startUs: number; endUs: number }[] = [];
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** Runs a load while measuring the CPU time the given processes used meanwhile. */
async function measured(pids: number[], label: string, load: () => Promise<LoadResult>): Promise<Row> {
  const cpuOf = () => pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const before = cpuOf();
  const startUs = monotonicUs();
  const result = await load();
  windows.push({ label, startUs, endUs: monotonicUs() });
  const cpu = cpuOf() - before;
  return { label, result, perCpuSecond: (result.requests - result.failures) / cpu };
}

/**
 * argon2 verifications per second in a process placed like the service (same core, same pool size), the
 * better of one in flight per CPU and the pool kept full.
 */
async function argon2Ceiling(o: RoundOptions): Promise<Row> {
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
  type Way = { inFlight: number; verifies: number; seconds: number; cpuSeconds: number };
  const [byCpu, poolFull, best] = stdout
    .trim()
    .split("\n")
    .slice(-3)
    .map((line) => JSON.parse(line) as Way);
  const rate = (w: Way) => `${w.inFlight} in flight ${(w.verifies / w.seconds).toFixed(0)}/s`;
  o.log(`  ceiling: ${rate(byCpu!)}, ${rate(poolFull!)}`);
  return {
    label: "argon2id ceiling (raw verify)",
    result: {
      requests: best!.verifies,
      seconds: best!.seconds,
      perSecond: best!.verifies / best!.seconds,
      p50: NaN,
      p99: NaN,
      failures: 0,
    },
    perCpuSecond: best!.verifies / best!.cpuSeconds,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The median of each figure over the rounds (failures and requests are summed). */
function combine(rows: Row[]): Row {
  const r = rows.map((row) => row.result);
  return {
    label: rows[0]!.label,
    perCpuSecond: median(rows.map((row) => row.perCpuSecond)),
    result: {
      requests: r.reduce((s, x) => s + x.requests, 0),
      seconds: r.reduce((s, x) => s + x.seconds, 0),
      perSecond: median(r.map((x) => x.perSecond)),
      p50: median(r.map((x) => x.p50)),
      p99: median(r.map((x) => x.p99)),
      failures: r.reduce((s, x) => s + x.failures, 0),
    },
  };
}

/** All rounds' latencies of one target at half load, as one distribution. */
function mergePaced(runs: PacedResult[]): HalfLoad {
  const all = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const at = (q: number) => all[Math.min(all.length - 1, Math.floor(q * all.length))] ?? NaN;
  return {
    rate: runs.reduce((sum, r) => sum + r.rate, 0) / runs.length,
    samples: all.length,
    p50: at(0.5),
    p99: at(0.99),
    failures: runs.reduce((sum, r) => sum + r.failures, 0),
    unsent: runs.reduce((sum, r) => sum + r.unsent, 0),
  };
}

/**
 * At ~100 logins/s the JIT takes a while to settle: after 3 s of logins (plus the ~600 that open the refresh
 * chains) a login still cost ~0.3 ms more CPU than after 40 s, mostly V8's compiler threads.
 */
const LOGIN_WARM_UP_SECONDS = 15;

/**
 * Rounds of: argon2 ceiling, the reference login, login on the small and the large database, refresh on
 * both. Interleaving them within each round, and taking medians over rounds, keeps a change in the shared
 * machine's load from passing for an effect of the table sizes or for a difference from the reference.
 */
export async function runRounds(o: RoundOptions): Promise<RoundsResult> {
  const targets = [o.small, o.large];
  const loginRun = (t: Target, seconds: number) =>
    wrkLoad({
      url: `${t.url}/api/v1/auth/login`,
      seconds,
      connections: LOGIN_CONNECTIONS,
      workDir: o.work,
      loginUsers: t.users,
    });
  const cookies = new Map<Target, string[]>();
  // The half-load refreshes take the next idle chain; with this many, only a stall of about a third of a
  // second at ~1,500/s could leave none idle (such a refresh is not sent, and is counted as unsent).
  const pacedCookies = new Map<Target, string[]>();
  o.log(`warm-up: login ${LOGIN_WARM_UP_SECONDS} s on the reference and both services, refresh 3 s`);
  await loginRun(o.reference, LOGIN_WARM_UP_SECONDS);
  for (const t of targets) {
    await loginRun(t, LOGIN_WARM_UP_SECONDS);
    const sessions = await loginMany(t.url, pick(REFRESH_CHAINS, t.users));
    pacedCookies.set(
      t,
      (await loginMany(t.url, pick(PACED_REFRESH_CHAINS, t.users))).map((s) => s.refresh),
    );
    cookies.set(
      t,
      (
        await refreshLoad(
          t.url,
          sessions.map((s) => s.refresh),
          3,
        )
      ).cookies,
    );
  }
  const rows = {
    ceiling: [] as Row[],
    reference: [] as Row[],
    login: [[], []] as Row[][],
    refresh: [[], []] as Row[][],
  };
  const half = { login: [[], []] as PacedResult[][], refresh: [[], []] as PacedResult[][] };
  for (let round = 1; round <= o.rounds; round++) {
    o.log(`round ${round}/${o.rounds}: ceiling, reference login, login x2, refresh x2, ${o.seconds} s each`);
    rows.ceiling.push(await argon2Ceiling(o));
    rows.reference.push(
      await measured([o.reference.service.pid], "login, reference (node:http + pg)", () =>
        loginRun(o.reference, o.seconds),
      ),
    );
    for (const [i, t] of targets.entries()) {
      const label = `login, ${fmtUsers(t.users)} users`;
      rows.login[i]!.push(await measured([t.service.pid], label, () => loginRun(t, o.seconds)));
    }
    for (const [i, t] of targets.entries()) {
      const label = `refresh, ${fmtUsers(t.users)} users`;
      rows.refresh[i]!.push(
        await measured([t.service.pid], label, async () => {
          const outcome = await refreshLoad(t.url, cookies.get(t)!, o.seconds);
          cookies.set(t, outcome.cookies);
          return outcome.result;
        }),
      );
    }
    // Both sizes in one open loop taking turns, half of what the small service just sustained in all: the
    // core is half busy, and whatever else happens on the machine meanwhile falls on both sizes alike.
    const loginRate = rows.login[0]!.at(-1)!.result.perSecond / 2;
    const refreshRate = rows.refresh[0]!.at(-1)!.result.perSecond / 2;
    o.log(
      `round ${round}: half load, login ${loginRate.toFixed(0)}/s and refresh ${refreshRate.toFixed(0)}/s, both sizes taking turns, ${2 * o.seconds} s each`,
    );
    const logins = await pacedLogins(targets, loginRate, 2 * o.seconds);
    const refreshes = await pacedRefreshes(
      targets.map((t) => ({ url: t.url, cookies: pacedCookies.get(t)! })),
      refreshRate,
      2 * o.seconds,
    );
    for (const i of [0, 1]) {
      half.login[i]!.push(logins[i]!);
      half.refresh[i]!.push(refreshes[i]!);
    }
  }
  return {
    ceiling: combine(rows.ceiling),
    reference: combine(rows.reference),
    login: { small: combine(rows.login[0]!), large: combine(rows.login[1]!) },
    refresh: { small: combine(rows.refresh[0]!), large: combine(rows.refresh[1]!) },
    halfLoad: {
      login: { small: mergePaced(half.login[0]!), large: mergePaced(half.login[1]!) },
      refresh: { small: mergePaced(half.refresh[0]!), large: mergePaced(half.refresh[1]!) },
    },
  };
}

/** `/me` through the gateway: served from its per-user cache, and with `Cache-Control: no-cache` (bypass). */
export async function runMe(o: {
  gatewayUrl: string;
  target: Target;
  gateway: ServiceProcess;
  seconds: number;
  work: string;
  log: (line: string) => void;
}): Promise<MeResult> {
  const [session] = await loginMany(o.target.url, pick(1, o.target.users), 1);
  const meUrl = `${o.gatewayUrl}/api/v1/auth/me`;
  const bearer = { authorization: `Bearer ${session!.access}`, origin: ORIGIN };
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
    return { error: (error as Error).message };
  }
  o.log(
    `/me via gateway: hit (x-cache ${cacheHeaders.hit}), miss (x-cache ${cacheHeaders.miss}), ${o.seconds} s each`,
  );
  const meLoad = (headers: Record<string, string>) => () =>
    wrkLoad({
      url: meUrl,
      seconds: o.seconds,
      connections: ME_CONNECTIONS,
      workDir: o.work,
      headers: { ...bearer, ...headers },
    });
  const hit = await measured([o.gateway.pid], "/me via gateway, cache hit", meLoad({}));
  const miss = await measured(
    [o.gateway.pid, o.target.service.pid],
    "/me via gateway, miss (no-cache)",
    meLoad({ "cache-control": "no-cache" }),
  );
  return { hit, miss, cacheHeaders };
}
