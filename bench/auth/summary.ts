import { mkdirSync, writeFileSync } from "node:fs";
import { LOGIN_CONNECTIONS, ME_CONNECTIONS, REFRESH_CHAINS, type PhaseResult } from "./phases.ts";
import { pinned } from "./processes.ts";
import { table, throughputSvg, type Row } from "./report.ts";

type Memory = Record<"auth" | "gateway", { peakMiB: number; rssMiB: number }>;

export interface ReportInput {
  machine: {
    cores: number;
    cpu: string;
    memoryGiB: number;
    node: string;
    threadPool: string;
    loadBefore: string;
    loadAfter: string;
  };
  settings: { seconds: number; smallUsers: number; scaleUsers: number };
  small: PhaseResult;
  large: PhaseResult;
  seed: { seconds: number; rows: number; sizes: Record<string, number> };
  memory: { small: Memory; large: Memory };
  plans: { label: string; plan: string; usesIndex: boolean }[];
}

const RESULTS = "bench/results";
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)} %`;
const verdict = (ok: boolean) => (ok ? "met" : "NOT met");

/** The printed table and goal lines; also writes auth-latest.txt, auth-explain.txt and auth-throughput.svg. */
export function report(input: ReportInput): string {
  const { machine: m, small, large, seed, memory } = input;
  const rows: Row[] = [small.ceiling, small.login, large.ceiling, large.login, small.refresh, large.refresh];
  if (small.meHit && small.meMiss) rows.push(small.meHit, small.meMiss);

  const loginShare = small.login.result.perSecond / small.ceiling.result.perSecond;
  const loginShareLarge = large.login.result.perSecond / large.ceiling.result.perSecond;
  const loginCpuShare = small.login.perCpuSecond / small.ceiling.perCpuSecond;
  const refreshRate = Math.max(small.refresh.result.perSecond, large.refresh.result.perSecond);
  const loginP99 = large.login.result.p99 / small.login.result.p99;
  const refreshP99 = large.refresh.result.p99 / small.refresh.result.p99;
  const indexed = input.plans.filter((p) => p.usesIndex).length;
  const mib = (v: number) => `${v.toFixed(0)} MiB`;

  const text = [
    `Auth benchmark, ${new Date().toISOString()}`,
    `machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB.toFixed(1)} GiB, node ${m.node}, UV_THREADPOOL_SIZE ${m.threadPool}`,
    `placement: ${pinned ? "auth and gateway pinned to CPU 0 (taskset, all threads); wrk and the refresh client on CPU 1; PostgreSQL and Redis unpinned" : "one core: nothing pinned"}`,
    `load before: ${m.loadBefore}`,
    `load after:  ${m.loadAfter}`,
    `runs: ${input.settings.seconds} s each; login ${LOGIN_CONNECTIONS} connections (random seeded user each request), refresh ${REFRESH_CHAINS} independent cookie chains, /me ${ME_CONNECTIONS} connections`,
    "",
    table(rows),
    "",
    `login vs argon2id ceiling: ${pct(small.login.result.perSecond, small.ceiling.result.perSecond)} of req/s at ${input.settings.smallUsers.toLocaleString("en-US")} users, ${pct(large.login.result.perSecond, large.ceiling.result.perSecond)} at ${input.settings.scaleUsers.toLocaleString("en-US")}; ${(100 * loginCpuShare).toFixed(0)} % per CPU-second (goal >= 90 %: ${verdict(Math.max(loginShare, loginShareLarge) >= 0.9)})`,
    `refresh rotations on one core: ${refreshRate.toFixed(0)}/s best (goal >= 1,500/s: ${verdict(refreshRate >= 1500)}; Keycloak's sizing guide: 120/s per vCPU)`,
    `p99 at ${input.settings.scaleUsers.toLocaleString("en-US")} vs ${input.settings.smallUsers.toLocaleString("en-US")} users: login ${loginP99.toFixed(2)}x, refresh ${refreshP99.toFixed(2)}x (goal <= 1.2x: ${verdict(loginP99 <= 1.2 && refreshP99 <= 1.2)})`,
    `bulk seed: ${seed.rows.toLocaleString("en-US")} users + as many sessions and refresh tokens in ${seed.seconds.toFixed(1)} s (tables now ${JSON.stringify(seed.sizes)})`,
    small.meError
      ? `/me via gateway: NOT measured (${small.meError})`
      : `/me cache: hit ${small.cacheHeaders?.hit}, miss ${small.cacheHeaders?.miss}; hit/miss throughput ${small.meHit && small.meMiss ? (small.meHit.result.perSecond / small.meMiss.result.perSecond).toFixed(1) : "-"}x`,
    `peak RSS (VmHWM): auth ${mib(memory.small.auth.peakMiB)} after the ${input.settings.smallUsers.toLocaleString("en-US")}-user runs, ${mib(memory.large.auth.peakMiB)} at the end; gateway ${mib(memory.large.gateway.peakMiB)}`,
    `query plans at ${input.settings.scaleUsers.toLocaleString("en-US")} users: ${indexed}/${input.plans.length} hot queries use an index and no sequential scan (bench/results/auth-explain.txt)`,
  ].join("\n");

  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}/auth-latest.txt`, `${text}\n`);
  writeFileSync(
    `${RESULTS}/auth-explain.txt`,
    input.plans.map((p) => `-- ${p.label} (${p.usesIndex ? "index" : "NO INDEX"})\n${p.plan}\n`).join("\n"),
  );
  const bar = (row: Row, color: string, goal?: number) => ({
    label: row.label,
    value: row.result.perSecond,
    color,
    ...(goal ? { goal } : {}),
  });
  const bars = [
    bar(small.ceiling, "#999"),
    bar(small.login, "#4a7ebb", 0.9 * small.ceiling.result.perSecond),
    bar(large.login, "#4a7ebb", 0.9 * large.ceiling.result.perSecond),
    bar(small.refresh, "#3a9a5b", 1500),
    bar(large.refresh, "#3a9a5b", 1500),
    ...(small.meHit && small.meMiss ? [bar(small.meHit, "#d08a2c"), bar(small.meMiss, "#d08a2c")] : []),
  ];
  writeFileSync(
    `${RESULTS}/auth-throughput.svg`,
    throughputSvg(
      "Auth service throughput on one core",
      `${m.cores} × ${m.cpu}; load at start: ${m.loadBefore.replace(/.*load average: /, "")}`,
      bars,
    ),
  );
  return text;
}
