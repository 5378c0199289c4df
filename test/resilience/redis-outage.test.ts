import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { PrivateRedis } from "@mimascota/shared/testing/private-redis";
import { skipUnlessPrograms, uniquePrefix } from "@mimascota/shared/testing/services";
import {
  startTestGateway,
  testRoutes,
  type TestGateway,
} from "../../services/gateway/test/support/test-gateway.ts";
import { TestUpstream } from "../../services/gateway/test/support/upstream.ts";
import { LoadLoop } from "./support/load.ts";
import { until } from "./support/processes.ts";

const LIMIT = 10;
const RATE_HEADERS = [
  "ratelimit",
  "ratelimit-policy",
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
];

/**
 * Two gateway instances sharing a private Redis, which is killed under load and started again: users see no
 * 5xx from it, rate limits keep being enforced (per instance) with their headers, /ready says so, and the
 * instances share their limits again once Redis is back, without a restart.
 */
describe(
  "Redis killed under gateway load",
  { skip: await skipUnlessPrograms(["redis-server", "--version"]) },
  () => {
    const redis = new PrivateRedis();
    let upstream: TestUpstream | undefined;
    const gateways: TestGateway[] = [];
    const keyPrefix = uniquePrefix("resilience-redis");

    before(async () => {
      await redis.start();
      upstream = await new TestUpstream().start();
      for (let i = 0; i < 2; i++) {
        gateways.push(
          await startTestGateway({
            routes: testRoutes(upstream.url),
            redisUrl: redis.url,
            keyPrefix,
            // Client addresses come from X-Forwarded-For, so each phase of the test is a fresh client.
            env: { RATE_LIMIT_IP: String(LIMIT), TRUSTED_PROXIES: "127.0.0.1", REDIS_TIMEOUT_MS: "200" },
          }),
        );
      }
    });
    after(async () => {
      for (const gateway of gateways) await gateway.close();
      await upstream?.close();
      await redis.stop();
    });

    const a = () => gateways[0]!;
    const call = (gateway: TestGateway, client: string) =>
      gateway.fetch("/api/public", { headers: { "x-forwarded-for": client } });
    const ready = async (gateway: TestGateway) =>
      (await (await gateway.fetch("/ready")).json()) as { status: string; rateLimits: string };

    /** Six calls through each instance for one client: the statuses per instance. */
    async function sixEach(client: string): Promise<number[][]> {
      const result: number[][] = [];
      for (const gateway of gateways) {
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++) {
          const response = await call(gateway, client);
          for (const name of RATE_HEADERS) assert.ok(response.headers.has(name), `${name} on every answer`);
          statuses.push(response.status);
        }
        result.push(statuses);
      }
      return result;
    }

    it("enforces one limit across both instances while Redis is up", async () => {
      assert.equal((await ready(a())).rateLimits, "redis");
      assert.deepEqual(await sixEach("198.51.100.1"), [
        [200, 200, 200, 200, 200, 200],
        [200, 200, 200, 200, 429, 429],
      ]);
    });

    it("answers no 5xx beyond the requests in flight when Redis is killed, and keeps the rate-limit headers", async (t) => {
      const loads = gateways.map(
        (gateway, g) =>
          new LoadLoop({
            // A fresh client address per request, so the load itself is never rate limited.
            send: (i) => call(gateway, `10.${g}.${(i >> 8) & 255}.${i & 255}`),
            concurrency: 4,
            maxRequests: 20_000,
          }),
      );
      for (const load of loads) load.start();
      await sleep(700);
      const inFlightAtKill = loads.reduce((sum, load) => sum + load.inFlight(), 0);
      await redis.stop();
      await sleep(1_500);
      const samples = (await Promise.all(loads.map((load) => load.stop()))).flat();

      const fiveHundreds = samples.filter((s) => s.status >= 500 || s.status === 0);
      const notOk = samples.filter((s) => s.status !== 200);
      t.diagnostic(
        `${samples.length} requests, ${inFlightAtKill} in flight at the kill, ${fiveHundreds.length} answered 5xx or not at all`,
      );
      assert.ok(samples.length > 100, "the load ran");
      assert.ok(
        fiveHundreds.length <= inFlightAtKill,
        `${fiveHundreds.length} 5xx/failed vs ${inFlightAtKill} in flight at the kill`,
      );
      assert.ok(notOk.length <= inFlightAtKill, "every other request was served (200)");
      const answered = samples.filter((s) => s.headers);
      for (const name of RATE_HEADERS) {
        assert.deepEqual(answered.filter((s) => !s.headers!.has(name)).length, 0, `${name} on every answer`);
      }
    });

    it("falls back to a per-instance limit, still enforced, and /ready reports it", async () => {
      for (const gateway of gateways) {
        await until(async () => (await ready(gateway)).rateLimits !== "redis", "/ready notices");
        const status = await ready(gateway);
        assert.equal(status.status, "degraded");
        assert.equal(status.rateLimits, "in-memory (per instance)");
      }
      const client = "198.51.100.2";
      for (const gateway of gateways) {
        const statuses: number[] = [];
        for (let i = 0; i < LIMIT; i++) statuses.push((await call(gateway, client)).status);
        assert.deepEqual(statuses, Array<number>(LIMIT).fill(200), "each instance admits its own allowance");
        const refused = await call(gateway, client);
        assert.equal(refused.status, 429, "and no more");
        assert.ok(refused.headers.has("retry-after"));
        assert.equal(((await refused.json()) as { code: string }).code, "RATE_LIMITED");
      }
    });

    it("shares the limit again once Redis is back, without restarting the gateways", async () => {
      await redis.start();
      for (const gateway of gateways) {
        await until(async () => (await ready(gateway)).rateLimits === "redis", "the gateway reconnects");
      }
      assert.deepEqual(await sixEach("198.51.100.3"), [
        [200, 200, 200, 200, 200, 200],
        [200, 200, 200, 200, 429, 429],
      ]);
    });
  },
);
