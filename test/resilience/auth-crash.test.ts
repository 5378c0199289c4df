import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { createTestDatabase, skipUnless, uniquePrefix } from "@mimascota/shared/testing/services";
import { STRONG_PASSWORD } from "../../services/auth/test/support/account-helpers.ts";
import { startTestGateway, type TestGateway } from "../../services/gateway/test/support/test-gateway.ts";
import { loadGatewayConfig } from "../../services/gateway/src/config.ts";
import { login, postJson, register, tokenFromMailbox } from "./support/account-client.ts";
import { AuthProcess, migrateDatabase } from "./support/auth-service.ts";
import { LoadLoop, quantile, type Sample } from "./support/load.ts";
import { freePort, until } from "./support/processes.ts";

const OPEN_SECONDS = 3;
/** A request the auth service answers 400 INVALID_TOKEN after a database lookup: cheap, never a breaker failure. */
const probe = (gateway: TestGateway) => postJson(gateway.url, "verify-email", { token: "A".repeat(43) });

/** Every call the gateway made to the auth service: answers by status plus connection errors and timeouts. */
async function upstreamAttempts(gateway: TestGateway): Promise<number> {
  const text = await (await gateway.fetch("/metrics")).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.includes('service="auth"')) continue;
    const counted =
      line.startsWith("gateway_backend_requests_total{") ||
      (line.startsWith("gateway_backend_errors_total{") && /error_type="(connection|timeout)"/.test(line));
    if (counted) total += Number(line.split(" ").pop());
  }
  return total;
}

/**
 * The gateway's circuit breaker when the auth service process is killed (SIGKILL) under load: it opens,
 * answers 503 with Retry-After without calling the dead service, and closes again once the service is back.
 */
describe("auth service killed under gateway load", { skip: await skipUnless("postgres") }, () => {
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let sql: pg.Client | undefined;
  let auth: AuthProcess | undefined;
  let gateway: TestGateway | undefined;
  const email = `${uniquePrefix("auth-crash")}@example.com`;

  before(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url);
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    auth = new AuthProcess(await freePort(), { DATABASE_URL: database.url });
    await auth.start();
    const generous = 100_000;
    gateway = await startTestGateway({
      // The built-in route table, as an operator's settings produce it.
      routes: loadGatewayConfig({
        AUTH_SERVICE_URL: auth.url,
        RATE_LIMIT_LOGIN: String(generous),
        RATE_LIMIT_REGISTER: String(generous),
        RATE_LIMIT_PASSWORD_RESET: String(generous),
        RATE_LIMIT_RESEND: String(generous),
        RATE_LIMIT_TWO_FACTOR: String(generous),
      }).routeTable,
      jwksUrl: `${auth.url}/.well-known/jwks.json`,
      redisUrl: null,
      env: { RATE_LIMIT_IP: String(generous), BREAKER_OPEN_DURATION: String(OPEN_SECONDS) },
    });
  });
  after(async () => {
    await gateway?.close();
    await auth?.close();
    await sql?.end();
    await database?.drop();
  });

  const breakerState = async () =>
    ((await (await gateway!.fetch("/circuit-breakers")).json()) as { auth: { state: string } }).auth.state;

  it("serves a real sign-in through the gateway while the auth service is up", async () => {
    assert.equal((await register(gateway!.url, email, STRONG_PASSWORD)).status, 202);
    const token = await tokenFromMailbox(auth!.dataDir, email, "/verify-email");
    assert.equal((await postJson(gateway!.url, "verify-email", { token })).status, 200);
    assert.equal((await login(gateway!.url, email, STRONG_PASSWORD)).status, 200);
    assert.equal((await probe(gateway!)).status, 400);
    assert.equal(await breakerState(), "closed");
  });

  it("opens the breaker when the auth service is killed under load, answering no 500", async (t) => {
    const load = new LoadLoop({
      send: () => probe(gateway!),
      concurrency: 4,
      maxRequests: 20_000,
      pauseMs: 2,
    });
    load.start();
    await sleep(500);
    await auth!.kill();
    try {
      await until(async () => (await breakerState()) === "open", "the breaker opens", 10_000);
    } finally {
      await load.stop();
    }
    const counts = countBy(load.samples);
    t.diagnostic(`statuses under load across the kill: ${JSON.stringify(counts)}`);
    assert.deepEqual(
      Object.keys(counts).filter((status) => !["400", "502", "503"].includes(status)),
      [],
      "400 before, 502 (connection failures) at the kill, 503 once open: nothing else (no 500 for the requests in flight)",
    );
  });

  it("answers 503 SERVICE_UNAVAILABLE with Retry-After, fast and without calling the service, while open", async (t) => {
    const attemptsBefore = await upstreamAttempts(gateway!);
    // One at a time, so the latency measured is the gateway's answer, not queueing in this client.
    const load = new LoadLoop({ send: () => probe(gateway!), concurrency: 1, maxRequests: 300 });
    await load.start().finished();
    const attempts = (await upstreamAttempts(gateway!)) - attemptsBefore;

    const refused = load.samples.filter((s) => s.status === 503);
    // A probe let through when the open period ends (half-open) is the only call allowed, and it fails (502).
    assert.equal(attempts, load.samples.length - refused.length, "no call to the service for a 503");
    assert.ok(refused.length >= load.samples.length / 2, `most answers are 503 (${refused.length})`);
    for (const sample of refused) {
      const retryAfter = Number(sample.headers?.get("retry-after"));
      assert.ok(retryAfter >= 1 && retryAfter <= OPEN_SECONDS, `Retry-After ${retryAfter}`);
      assert.equal((JSON.parse(sample.body) as { code: string }).code, "SERVICE_UNAVAILABLE");
    }
    const latencies = refused.map((s) => s.doneAt - s.sentAt);
    const p50 = quantile(latencies, 0.5);
    const p99 = quantile(latencies, 0.99);
    t.diagnostic(
      `503 while open: ${refused.length} answers, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms ` +
        `(client-side, sequential, loopback; the issue's goal is p99 < 5 ms, not asserted: a loaded 2-core machine cannot promise it)`,
    );
  });

  it("closes the breaker again once the auth service is back, and signs in again", async () => {
    await auth!.start();
    await until(
      async () => {
        await probe(gateway!); // half-open needs traffic to probe with
        return (await breakerState()) === "closed";
      },
      "the breaker closes",
      OPEN_SECONDS * 1000 + 20_000,
    );
    assert.equal((await probe(gateway!)).status, 400);
    assert.equal((await login(gateway!.url, email, STRONG_PASSWORD)).status, 200);
  });
});

function countBy(samples: Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sample of samples) counts[sample.status] = (counts[sample.status] ?? 0) + 1;
  return counts;
}
