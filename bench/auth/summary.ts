import { mkdirSync, writeFileSync } from "node:fs";
import {
  LOGIN_CONNECTIONS,
  ME_CONNECTIONS,
  REFRESH_CHAINS,
  type HalfLoad,
  type MeResult,
  type RoundsResult,
} from "./phases.ts";
import { pinned } from "./processes.ts";
import { table, throughputSvg, type Row } from "./report.ts";

type Memory = { peakMiB: number; rssMiB: number };

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
  settings: { seconds: number; rounds: number; smallUsers: number; scaleUsers: number };
  rounds: RoundsResult;
  me: MeResult;
  seed: { seconds: number; sizes: Record<string, number> };
  memory: { small: Memory; large: Memory; gateway: Memory };
  plans: { label: string; plan: string; usesIndex: boolean }[];
}

const RESULTS = "bench/results";
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)} %`;
const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
const n = (v: number) => v.toLocaleString("en-US");
const mib = (v: Memory) => `${v.peakMiB.toFixed(0)} MiB`;

/** The printed table and goal lines; also writes auth-latest.txt, auth-explain.txt and auth-throughput.svg. */
export function report(input: ReportInput): string {
  const { machine: m, settings: s, rounds: r, me, seed, memory } = input;
  const rows: Row[] = [
    r.ceiling,
    r.reference,
    r.login.small,
    r.login.large,
    r.refresh.small,
    r.refresh.large,
  ];
  if (me.hit && me.miss) rows.push(me.hit, me.miss);

  const loginCpuShare = r.login.small.perCpuSecond / r.ceiling.perCpuSecond;
  const referenceCpuShare = r.reference.perCpuSecond / r.ceiling.perCpuSecond;
  const refreshRate = r.refresh.small.result.perSecond;
  const h = r.halfLoad;
  const loginP99 = h.login.large.p99 / h.login.small.p99;
  const refreshP99 = h.refresh.large.p99 / h.refresh.small.p99;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const halfLine = (name: string, x: { small: HalfLoad; large: HalfLoad }) =>
    `  ${name} at ${(x.small.rate + x.large.rate).toFixed(0)}/s in all: ${n(s.smallUsers)} users p50 ${ms(x.small.p50)} p99 ${ms(x.small.p99)}; ${n(s.scaleUsers)} users p50 ${ms(x.large.p50)} p99 ${ms(x.large.p99)} (${n(x.small.samples + x.large.samples)} samples, ${x.small.failures + x.large.failures} failed${x.small.unsent + x.large.unsent ? `, ${n(x.small.unsent + x.large.unsent)} not sent: every chain still in flight` : ""})`;
  const indexed = input.plans.filter((p) => p.usesIndex).length;

  const text = [
    `Auth benchmark, ${new Date().toISOString()}`,
    `machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB.toFixed(1)} GiB, node ${m.node}, UV_THREADPOOL_SIZE ${m.threadPool}`,
    `placement: ${pinned ? "auth services and gateway pinned to CPU 0 (taskset, all threads); wrk and the refresh client on CPU 1; PostgreSQL and Redis unpinned" : "one core: nothing pinned"}`,
    `load before: ${m.loadBefore}`,
    `load after:  ${m.loadAfter}`,
    `method: ${s.rounds} rounds of ${s.seconds} s runs (ceiling, reference login, login ${n(s.smallUsers)} / ${n(s.scaleUsers)}, refresh ${n(s.smallUsers)} / ${n(s.scaleUsers)}), medians shown; login ${LOGIN_CONNECTIONS} connections with a random seeded user per request; refresh ${REFRESH_CHAINS} independent cookie chains; /me ${ME_CONNECTIONS} connections`,
    "",
    table(rows),
    "",
    `login vs argon2id ceiling: ${pct(r.login.small.result.perSecond, r.ceiling.result.perSecond)} of req/s (${n(s.smallUsers)} users), ${pct(r.login.large.result.perSecond, r.ceiling.result.perSecond)} (${n(s.scaleUsers)}); per CPU-second of the service (the verdict: immune to the core being shared): ${(100 * loginCpuShare).toFixed(0)} % (goal >= 90 %: ${verdict(loginCpuShare >= 0.9)})`,
    `reference login (reference-login.ts: node:http, pg, the same hasher and round trips, nothing else) in the same rounds: ${(100 * referenceCpuShare).toFixed(0)} % of the ceiling per CPU-second; the service's login is ${pct(r.login.small.perCpuSecond, r.reference.perCpuSecond)} of the reference's`,
    `refresh rotations on one core: ${refreshRate.toFixed(0)}/s (goal >= 1,500/s: ${verdict(refreshRate >= 1500)}; Keycloak's sizing guide: 120/s per vCPU)`,
    `latency at half load (one open loop at half the small service's throughput above, the two sizes taking turns; every round's samples together):`,
    halfLine("login", h.login),
    halfLine("refresh", h.refresh),
    `p99 at half load, ${n(s.scaleUsers)} vs ${n(s.smallUsers)} users: login ${loginP99.toFixed(2)}x, refresh ${refreshP99.toFixed(2)}x (goal <= 1.2x: ${verdict(loginP99 <= 1.2 && refreshP99 <= 1.2)}); at saturation (the table's p99, mostly queueing): login ${(r.login.large.result.p99 / r.login.small.result.p99).toFixed(2)}x, refresh ${(r.refresh.large.result.p99 / r.refresh.small.result.p99).toFixed(2)}x`,
    `bulk seed: ${n(s.scaleUsers)} users + as many sessions and refresh tokens in ${seed.seconds.toFixed(1)} s (then ${JSON.stringify(seed.sizes)})`,
    me.error
      ? `/me via gateway: NOT measured (${me.error})`
      : `/me cache: x-cache ${me.cacheHeaders?.hit} vs ${me.cacheHeaders?.miss}; hit/miss throughput ${(me.hit!.result.perSecond / me.miss!.result.perSecond).toFixed(1)}x`,
    `peak RSS (VmHWM): auth ${mib(memory.small)} (${n(s.smallUsers)} users) and ${mib(memory.large)} (${n(s.scaleUsers)}); gateway ${mib(memory.gateway)}`,
    `query plans at ${n(s.scaleUsers)} users: ${indexed}/${input.plans.length} hot statements read only through indexes, no sequential scan (full plans: bench/results/auth-explain.txt)`,
    ...input.plans.map((p) => {
      const scans = p.plan.split("\n").filter((line) => /Scan|Update on|Insert on|Nested Loop/.test(line));
      return `  ${p.label}\n${scans.map((line) => `    ${line.trim()}`).join("\n")}`;
    }),
  ].join("\n");

  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}/auth-latest.txt`, `${text}\n`);
  writeFileSync(
    `${RESULTS}/auth-explain.txt`,
    input.plans
      .map((p) => `-- ${p.label} (${p.usesIndex ? "index reads only" : "SEQUENTIAL SCAN"})\n${p.plan}\n`)
      .join("\n"),
  );
  const bar = (row: Row, color: string, goal?: number) => ({
    label: row.label,
    value: row.result.perSecond,
    color,
    ...(goal ? { goal } : {}),
  });
  const bars = [
    bar(r.ceiling, "#999"),
    bar(r.reference, "#9bb7dc"),
    bar(r.login.small, "#4a7ebb", 0.9 * r.ceiling.result.perSecond),
    bar(r.login.large, "#4a7ebb", 0.9 * r.ceiling.result.perSecond),
    bar(r.refresh.small, "#3a9a5b", 1500),
    bar(r.refresh.large, "#3a9a5b", 1500),
    ...(me.hit && me.miss ? [bar(me.hit, "#d08a2c"), bar(me.miss, "#d08a2c")] : []),
  ];
  writeFileSync(
    `${RESULTS}/auth-throughput.svg`,
    throughputSvg(
      "Auth service throughput on one core (medians of rounds)",
      `${m.cores} × ${m.cpu}, node ${m.node}; load average at start: ${m.loadBefore.replace(/.*load average: /, "")}`,
      bars,
    ),
  );
  return text;
}
