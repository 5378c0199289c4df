import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Pool } from "undici";
import { BENCH_PASSWORD, benchEmail } from "./database.ts";

const run = promisify(execFile);

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Answers other than 200, and socket errors. */
  failures: number;
}

/** The Origin the auth service accepts on cookie endpoints (its ALLOWED_ORIGINS default). */
export const ORIGIN = "http://localhost:3000";

const loginScript = `
local users = 1000
init = function(args) users = tonumber(args[1]); math.randomseed(os.time()) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local body = '{"email":"user' .. math.random(1, users) .. '@bench.test","password":"${BENCH_PASSWORD}"}'
  return wrk.format(nil, nil, nil, body)
end
`;

/**
 * wrk, one thread, `connections` kept busy for `seconds`. Login requests pick a user uniformly at random
 * among the seeded ones, so at 1M users the lookups touch cold index pages too.
 */
export async function wrkLoad(options: {
  url: string;
  seconds: number;
  connections: number;
  workDir: string;
  loginUsers?: number;
  headers?: Record<string, string>;
}): Promise<LoadResult> {
  const args = ["-t1", `-c${options.connections}`, `-d${options.seconds}s`, "--latency", "--timeout", "10s"];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push("-H", `${name}: ${value}`);
  if (options.loginUsers !== undefined) {
    const script = join(options.workDir, "login.lua");
    writeFileSync(script, loginScript);
    args.push("-s", script, options.url, "--", String(options.loginUsers));
  } else {
    args.push(options.url);
  }
  const { stdout } = await run("wrk", args, { maxBuffer: 1 << 20 });
  return parseWrk(stdout);
}

function parseWrk(out: string): LoadResult {
  const ms = (v: string) =>
    v.endsWith("us") ? parseFloat(v) / 1000 : v.endsWith("ms") ? parseFloat(v) : parseFloat(v) * 1000;
  const total = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(out);
  const p = (q: string) => ms(new RegExp(`^\\s+${q}%\\s+(\\S+)`, "m").exec(out)?.[1] ?? "NaN");
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const unit = total?.[3] === "ms" ? 0.001 : total?.[3] === "m" ? 60 : 1;
  const seconds = Number(total?.[2] ?? NaN) * unit;
  const requests = Number(total?.[1] ?? 0);
  return {
    requests,
    seconds,
    perSecond: requests / seconds,
    p50: p("50"),
    p99: p("99"),
    failures: non2xx + socketErrors,
  };
}

const cookieOf = (setCookie: string | string[] | undefined, name: string) => {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  for (const c of all) {
    const match = new RegExp(`^${name}=([^;]+)`).exec(c);
    if (match?.[1]) return match[1];
  }
  return undefined;
};

/** Real logins (the password path), `parallel` at a time: each gives a refresh cookie and an access token. */
export async function loginMany(baseUrl: string, userIndexes: number[], parallel = 8) {
  const pool = new Pool(baseUrl, { connections: parallel });
  const sessions: { refresh: string; access: string }[] = [];
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < userIndexes.length) {
          const email = benchEmail(userIndexes[next++]!);
          const response = await pool.request({
            path: "/api/v1/auth/login",
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ email, password: BENCH_PASSWORD }),
          });
          const body = (await response.body.json()) as { accessToken?: string };
          const refresh = cookieOf(response.headers["set-cookie"], "refresh_token");
          if (response.statusCode !== 200 || !refresh || !body.accessToken) {
            throw new Error(`login of ${email} answered ${response.statusCode}: ${JSON.stringify(body)}`);
          }
          sessions.push({ refresh, access: body.accessToken });
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return sessions;
}

/** One refresh with a chain's cookie: the cookie the rotation set, or undefined if it was refused. */
async function rotateOnce(pool: Pool, cookie: string): Promise<string | undefined> {
  const response = await pool.request({
    path: "/api/v1/auth/refresh",
    method: "POST",
    headers: { cookie: `refresh_token=${cookie}`, origin: ORIGIN },
  });
  await response.body.dump();
  const next = cookieOf(response.headers["set-cookie"], "refresh_token");
  return response.statusCode === 200 ? next : undefined;
}

/**
 * The refresh client: every session is its own chain (each request presents the cookie the previous
 * rotation set), and `sessions.length` chains run in parallel for `seconds`, one connection each.
 * Returns the cookies left at the end so a later run can continue the chains.
 */
export async function refreshLoad(baseUrl: string, cookies: string[], seconds: number) {
  const pool = new Pool(baseUrl, { connections: cookies.length, pipelining: 1 });
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  const left = [...cookies];
  try {
    await Promise.all(
      left.map(async (_, chain) => {
        while (performance.now() < end) {
          const sent = performance.now();
          const next = await rotateOnce(pool, left[chain]!);
          latencies.push(performance.now() - sent);
          if (!next) {
            failures += 1;
            return; // a broken chain cannot continue
          }
          left[chain] = next;
        }
      }),
    );
  } finally {
    await pool.close();
  }
  const wall = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const result: LoadResult = {
    requests: latencies.length,
    seconds: wall,
    perSecond: (latencies.length - failures) / wall,
    p50: at(0.5),
    p99: at(0.99),
    failures,
  };
  return { result, cookies: left };
}

/** Latencies (ms) of an open-loop run, and how many answers were not 200. */
export interface PacedResult {
  latencies: number[];
  /** Answers other than 200, and errors. */
  failures: number;
  /** Refreshes due while every chain of their service was still in flight: not sent, so no latency. */
  unsent: number;
  rate: number;
}

/** What a sender made of its turn: answered 200, answered otherwise (or failed), or had nothing to send. */
type Outcome = "ok" | "failed" | "unsent";

/**
 * Open loop at a fixed rate: request i is due at start + i / rate and is sent then whatever is still in
 * flight, and its latency counts from when it was due (so a stall is not hidden by sending less during it).
 * With several senders, request i goes to sender i mod n: they share one schedule, so whatever happens on the
 * machine meanwhile (a slow disk flush, another process) falls on all of them alike. At a rate below
 * saturation the latency is the service's own time plus little queueing, which is what a comparison of table
 * sizes needs; at saturation (the closed-loop runs) p99 is mostly queue length.
 */
async function pacedLoad(
  rate: number,
  seconds: number,
  senders: (() => Promise<Outcome>)[],
): Promise<PacedResult[]> {
  const results = senders.map(() => ({
    latencies: [] as number[],
    failures: 0,
    unsent: 0,
    rate: rate / senders.length,
  }));
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.floor(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
    const result = results[i % senders.length]!;
    pending.push(
      senders[i % senders.length]!().then(
        (outcome) => {
          if (outcome === "unsent") return void (result.unsent += 1);
          result.latencies.push(performance.now() - due);
          if (outcome === "failed") result.failures += 1;
        },
        () => {
          result.failures += 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  return results;
}

/** Logins of random seeded users, `rate` per second in all, taking turns between the services. */
export async function pacedLogins(targets: { url: string; users: number }[], rate: number, seconds: number) {
  const pools = targets.map((t) => new Pool(t.url, { connections: 64 }));
  try {
    const senders = targets.map((t, i) => async () => {
      const email = benchEmail(1 + Math.floor(Math.random() * t.users));
      const response = await pools[i]!.request({
        path: "/api/v1/auth/login",
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: BENCH_PASSWORD }),
      });
      await response.body.dump();
      return response.statusCode === 200 ? "ok" : "failed";
    });
    return await pacedLoad(rate, seconds, senders);
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
}

/**
 * Refreshes, `rate` per second in all, taking turns between the services; each by the next idle chain of
 * its service (a chain is busy while its request is in flight). `cookies` are updated in place so later runs
 * continue the chains.
 */
export async function pacedRefreshes(
  targets: { url: string; cookies: string[] }[],
  rate: number,
  seconds: number,
) {
  const pools = targets.map((t) => new Pool(t.url, { connections: Math.min(t.cookies.length, 128) }));
  try {
    const senders = targets.map(({ cookies }, i) => {
      const idle = cookies.map((_, chain) => chain);
      return async (): Promise<Outcome> => {
        const chain = idle.pop();
        if (chain === undefined) return "unsent"; // every chain busy: counted apart, never hidden
        const next = await rotateOnce(pools[i]!, cookies[chain]!);
        if (!next) return "failed"; // a broken chain is not reused
        cookies[chain] = next;
        idle.push(chain);
        return "ok";
      };
    });
    return await pacedLoad(rate, seconds, senders);
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
}
