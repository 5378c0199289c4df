import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { RedisConnection } from "../../src/redis/redis-connection.ts";
import { RedisScript } from "../../src/redis/redis-script.ts";
import { PrivateRedis } from "../../src/testing/private-redis.ts";
import { skipUnlessPrograms } from "../../src/testing/services.ts";
import { captureLogger } from "../support/capture-logger.ts";

const silent = pino({ level: "silent" });
const ADD = new RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(20);
  }
}

const answers = (connection: RedisConnection) =>
  connection.ping().then(
    () => true,
    () => false,
  );

/**
 * The one Redis client every store is built on (key-value, rate-limit admission, response cache), so its
 * outage behaviour is proven here once, on a redis-server of the test's own that can be frozen and killed.
 */
describe(
  "Redis connection on a private server",
  { skip: await skipUnlessPrograms(["redis-server", "--version"]) },
  () => {
    const redis = new PrivateRedis();
    before(async () => {
      await redis.start();
    });
    after(async () => {
      redis.freeze(false);
      await redis.stop();
    });

    it("lets commands issued before connect() wait for the first connection attempt instead of failing", async () => {
      const connection = new RedisConnection({ url: redis.url, logger: silent, commandTimeoutMs: 2_000 });
      try {
        assert.equal(await connection.command(["SET", "early", "1"]), "OK");
        assert.equal(connection.isReady, true);
      } finally {
        await connection.close();
      }
    });

    it("fails every command within its deadline while the server hangs, then works again when it answers", async () => {
      const connection = new RedisConnection({ url: redis.url, logger: silent, commandTimeoutMs: 200 });
      try {
        await connection.connect();
        await connection.ping();
        // SIGSTOP: the socket stays open and takes the commands, but nothing answers, as on a hung host.
        redis.freeze(true);
        const started = performance.now();
        const results = await Promise.allSettled([
          connection.command(["GET", "k"]),
          connection.runScript(ADD, ["hung"], ["1"]),
          connection.ping(),
        ]);
        const elapsed = performance.now() - started;
        for (const result of results) {
          assert.equal(result.status, "rejected");
          assert.match(String(result.reason), /timed out after 200 ms/);
        }
        // The sweep runs every quarter deadline: 200 ms plus at most 50 ms, and some slack for a busy machine.
        assert.ok(elapsed >= 190, `not before the deadline (${elapsed} ms)`);
        assert.ok(elapsed < 1_000, `no stall behind the hung server (${elapsed} ms)`);
        assert.equal(connection.isReady, true, "a hung server is not a lost connection");

        redis.freeze(false);
        await eventually(() => answers(connection));
      } finally {
        redis.freeze(false);
        await connection.close();
      }
    });

    it("reconnects by itself when the server is killed and restarted, reporting down then up, logging once", async () => {
      const { logger, lines } = captureLogger();
      // A long deadline, so that a fast failure below can only be the missing offline queue.
      const connection = new RedisConnection({ url: redis.url, logger, commandTimeoutMs: 5_000 });
      const states: boolean[] = [];
      try {
        await connection.connect();
        connection.onStateChange((up) => states.push(up));
        assert.equal(await connection.runScript(ADD, ["restart"], ["1"]), 1);

        await redis.stop();
        await eventually(() => states.includes(false));
        const started = performance.now();
        await assert.rejects(connection.command(["GET", "restart"]), /offline|closed|ECONNREFUSED/i);
        assert.ok(performance.now() - started < 1_000, "failed at once, not queued until the deadline");
        // Several reconnection attempts fail meanwhile (100 ms·2ⁿ backoff); one line says so.
        await sleep(1_000);
        const outageLines = lines.filter((line) => line.msg.startsWith("redis unavailable"));
        assert.equal(outageLines.length, 1, "an outage is logged once, not once per reconnection attempt");

        await redis.start();
        await eventually(() => answers(connection));
        // A fresh server has no scripts: the EVALSHA gets NOSCRIPT and the script is loaded again.
        assert.equal(await connection.runScript(ADD, ["restart"], ["1"]), 1);
        assert.deepEqual(states, [false, true]);
        assert.ok(lines.some((line) => line.msg === "redis connection restored"));
      } finally {
        await connection.close();
      }
    });

    it("runs a script again after SCRIPT FLUSH, loading it back transparently", async () => {
      const connection = new RedisConnection({ url: redis.url, logger: silent, commandTimeoutMs: 2_000 });
      try {
        await connection.command(["DEL", "flushed"]);
        assert.equal(await connection.runScript(ADD, ["flushed"], ["2"]), 2);
        await connection.command(["SCRIPT", "FLUSH"]);
        assert.deepEqual(await connection.command(["SCRIPT", "EXISTS", ADD.sha]), [0]);
        assert.equal(await connection.runScript(ADD, ["flushed"], ["3"]), 5);
        assert.deepEqual(
          await connection.command(["SCRIPT", "EXISTS", ADD.sha]),
          [1],
          "cached for the next call",
        );
      } finally {
        await connection.close();
      }
    });

    it("fails commands after close() instead of reconnecting", async () => {
      const connection = new RedisConnection({ url: redis.url, logger: silent, commandTimeoutMs: 2_000 });
      await connection.connect();
      await connection.close();
      await connection.close();
      await assert.rejects(connection.ping(), /closed/i);
    });
  },
);
