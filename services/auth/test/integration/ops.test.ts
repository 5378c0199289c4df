import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { ManualClock } from "@mimascota/shared/clock";
import { openDatabase, type DatabaseHandle } from "@mimascota/shared/db/database";
import { MemoryKeyValueStore } from "@mimascota/shared/kv/memory-key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import { skipUnless, skipUnlessPrograms } from "@mimascota/shared/testing/services";
import { buildApp, type AuthDeps } from "../../src/app.ts";
import { loadAuthConfig } from "../../src/config.ts";
import { problem, STRONG_PASSWORD, verifiedUser } from "../support/account-helpers.ts";
import { login } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

class DownKeyValueStore extends MemoryKeyValueStore {
  override async ping(): Promise<void> {
    throw new Error("connection refused");
  }
}

/** The app over a database nobody listens for (port 1), plus optional extra deps. */
async function appWithoutDatabase(extra: Partial<AuthDeps> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "mm-auth-ops-"));
  const config = loadAuthConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATA_DIR: dataDir,
    DATABASE_URL: "postgres://postgres@127.0.0.1:1/unreachable",
  });
  const database: DatabaseHandle = await openDatabase({ url: config.DATABASE_URL, dataDir });
  const clock = new ManualClock();
  const kv = new MemoryKeyValueStore({ clock });
  const app = await buildApp({
    config,
    logger: createLogger("ops-test", "silent"),
    clock,
    database,
    kv,
    ...extra,
  });
  await app.ready();
  return {
    app,
    close: async () => {
      await app.close();
      await database.close();
      await kv.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const noPromtool = await skipUnlessPrograms(["promtool", "--version"]);

const get = (app: FastifyInstance, url: string) => app.inject({ method: "GET", url });

describe("ops endpoints", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx.close());

  it("/health and /ready answer 200 when every dependency answers", async () => {
    assert.deepEqual((await get(ctx.app, "/health")).json(), { status: "ok" });
    const ready = await get(ctx.app, "/ready");
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: "ready", checks: { database: "ok", kv: "ok" } });
  });

  it("/metrics counts logins by result, registrations and locks in the Prometheus format", async () => {
    await verifiedUser(ctx, "metrics@example.com");
    await login(ctx, "metrics@example.com");
    await login(ctx, "metrics@example.com", "wrong password for metrics");
    const response = await get(ctx.app, "/metrics");
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers["content-type"]), /^text\/plain/);
    assert.match(response.body, /^auth_logins_total\{result="success"\} 1$/m);
    assert.match(response.body, /^auth_logins_total\{result="invalid_credentials"\} 1$/m);
    assert.match(response.body, /^auth_registrations_total 1$/m);
    assert.match(response.body, /^auth_account_locks_total 0$/m);
    assert.match(response.body, /^process_cpu_user_seconds_total /m);
  });

  it("the auth_* metric families pass promtool's lint", { skip: noPromtool }, async () => {
    const body = (await get(ctx.app, "/metrics")).body;
    // prom-client's default nodejs_* gauges carry a _total suffix promtool dislikes; they are not ours to rename.
    const ours = body
      .split("\n\n")
      .filter((family) => /^# HELP auth_/.test(family))
      .join("\n\n");
    assert.ok(ours.includes("auth_logins_total"));
    const result = spawnSync("promtool", ["check", "metrics"], { input: `${ours}\n`, encoding: "utf8" });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });

  it("/ready reports a failing key-value store and broker as degraded, still 200 (the service outlives them)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mm-auth-ops-"));
    const kv = new DownKeyValueStore();
    const app = await buildApp({
      config: { ...ctx.config, DATA_DIR: dataDir },
      logger: createLogger("ops-test", "silent"),
      clock: ctx.clock,
      database: ctx.database,
      kv,
      readiness: { kafka: () => Promise.reject(new Error("no broker")), smtp: () => Promise.resolve() },
    });
    try {
      const ready = await get(app, "/ready");
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json(), {
        status: "degraded",
        checks: { database: "ok", kv: "unavailable", kafka: "unavailable", smtp: "ok" },
      });
    } finally {
      await app.close();
      await kv.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("/metrics reads outbox lag, mail queue depth and password hashing load at scrape time", async () => {
    const { app, close } = await appWithoutDatabase({
      queueStats: {
        outbox: async () => ({ pending: 3, oldestPendingAgeSeconds: 12 }),
        mail: async () => ({ pending: 5, dead: 1, oldestPendingAgeSeconds: 40 }),
      },
    });
    try {
      const body = (await get(app, "/metrics")).body;
      assert.match(body, /^auth_outbox_pending 3$/m);
      assert.match(body, /^auth_outbox_lag_seconds 12$/m);
      assert.match(body, /^auth_mail_queue_depth 5$/m);
      assert.match(body, /^auth_mail_queue_dead 1$/m);
      assert.match(body, /^auth_mail_queue_oldest_age_seconds 40$/m);
      assert.match(body, /^auth_password_hashes\{state="running"\} 0$/m);
      assert.match(body, /^auth_password_hashes\{state="waiting"\} 0$/m);
    } finally {
      await close();
    }
  });

  it("an unreachable PostgreSQL makes /ready name the database and requests answer 503, never 500", async () => {
    const { app, close } = await appWithoutDatabase();
    try {
      assert.equal((await get(app, "/health")).statusCode, 200, "liveness does not depend on the database");
      const ready = await get(app, "/ready");
      assert.equal(ready.statusCode, 503);
      assert.deepEqual(
        (problem(ready) as unknown as { errors: { path: string }[] }).errors.map((e) => e.path),
        ["database"],
      );
      const requests = [
        app.inject({
          method: "POST",
          url: "/api/v1/auth/login",
          payload: { email: "a@example.com", password: STRONG_PASSWORD },
        }),
        app.inject({ method: "POST", url: "/api/v1/auth/refresh", cookies: { refresh_token: "x" } }),
        app.inject({ method: "POST", url: "/api/v1/auth/logout", cookies: { refresh_token: "x" } }),
        get(app, "/.well-known/jwks.json"),
      ];
      for (const response of await Promise.all(requests)) {
        assert.equal(response.statusCode, 503, response.body);
        assert.equal(problem(response).code, "SERVICE_UNAVAILABLE");
        assert.equal(response.headers["retry-after"], "5");
        assert.ok(!response.body.includes("ECONNREFUSED"), "no driver message reaches the client");
      }
    } finally {
      await close();
    }
  });

  it("a closed embedded database (PGlite) answers 503 as well", async () => {
    const embedded = await createAuthTestContext({ database: "pglite" });
    try {
      await embedded.database.close();
      const response = await embedded.app.inject({
        method: "POST",
        url: "/api/v1/auth/login",
        payload: { email: "a@example.com", password: STRONG_PASSWORD },
      });
      assert.equal(response.statusCode, 503, response.body);
      assert.equal(problem(response).code, "SERVICE_UNAVAILABLE");
    } finally {
      await embedded.app.close();
      await embedded.close().catch(() => {});
    }
  });
});
