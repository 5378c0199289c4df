import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createLogger } from "@mimascota/shared/logger";
import { opsPortOf } from "@mimascota/shared/ops-port";
import { serviceUrls, skipUnless } from "@mimascota/shared/testing/services";
import { TestSmtpServer } from "@mimascota/shared/testing/smtp-server";
import { startAuthService, type RunningAuthService } from "../../services/auth/src/compose.ts";
import { loadAuthConfig } from "../../services/auth/src/config.ts";
import { startGateway, type RunningGateway } from "../../services/gateway/src/compose.ts";
import { loadGatewayConfig } from "../../services/gateway/src/config.ts";
import { startProfileService, type RunningProfileService } from "../../services/profiles/src/compose.ts";
import { loadProfilesConfig } from "../../services/profiles/src/config.ts";
import { migratedAuthDatabase } from "../../services/auth/test/support/migrated-database.ts";

const portOf = (server: { server: { address(): unknown } } | undefined) => {
  const address = server?.server.address();
  assert.ok(address && typeof address === "object" && "port" in address);
  return Number(address.port);
};

/**
 * In production (NODE_ENV=production) the public ports answer only /health and a bare /ready status; metrics,
 * breaker state, readiness details and the API docs are on each service's operations port, which Prometheus
 * and the orchestrator reach and the internet does not.
 */
describe(
  "operations endpoints in production",
  { skip: await skipUnless("postgres", "redis", "kafka") },
  () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mm-ops-"));
    let drop: () => Promise<void>;
    let smtp: TestSmtpServer;
    let auth: RunningAuthService;
    let gateway: RunningGateway;
    let profiles: RunningProfileService;
    let profilesPublic: string;
    let profilesOps: string;
    let publicBase: string;
    let opsBase: string;
    let authPublic: string;
    let authOps: string;

    before(async () => {
      const db = await migratedAuthDatabase(dataDir);
      drop = db.drop;
      smtp = await TestSmtpServer.start();
      const logger = createLogger("ops-test", "silent");
      const production = {
        NODE_ENV: "production",
        LOG_LEVEL: "silent",
        DATA_DIR: dataDir,
        REDIS_URL: serviceUrls.redis,
        PORT: "0",
        OPS_PORT: "0",
      };
      auth = await startAuthService(
        loadAuthConfig({
          ...production,
          DATABASE_URL: db.url,
          SMTP_URL: smtp.url,
          ENCRYPTION_KEY: randomBytes(32).toString("base64"),
        }),
        { logger },
      );
      authPublic = `http://127.0.0.1:${portOf(auth.app)}`;
      authOps = `http://127.0.0.1:${portOf(auth.ops)}`;
      // Embedded database and photo folder: this test is about its ports, not its storage.
      profiles = await startProfileService(
        loadProfilesConfig({
          ...production,
          AUTH_SERVICE_URL: authPublic,
          KAFKA_BROKERS: serviceUrls.kafka,
          KAFKA_CONSUMER_GROUP: `ops-test-${crypto.randomUUID()}`,
          KAFKA_CONSUMER_START: "latest",
        }),
        { logger },
      );
      profilesPublic = `http://127.0.0.1:${portOf(profiles.app)}`;
      profilesOps = `http://127.0.0.1:${portOf(profiles.ops)}`;
      gateway = await startGateway(
        loadGatewayConfig({
          ...production,
          AUTH_SERVICE_URL: authPublic,
          PROFILES_SERVICE_URL: profilesPublic,
          REDIS_KEY_PREFIX: `ops-${crypto.randomUUID()}:`,
        }),
        { logger, processMetrics: false },
      );
      publicBase = `http://127.0.0.1:${portOf(gateway.app)}`;
      opsBase = `http://127.0.0.1:${portOf(gateway.ops)}`;
    });
    after(async () => {
      await gateway?.close();
      await profiles?.close();
      await auth?.close();
      await smtp?.close();
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("places them on the default ops ports in production only, or on OPS_PORT", () => {
      assert.equal(opsPortOf({ NODE_ENV: "production" }, 9080), 9080);
      assert.equal(opsPortOf({ NODE_ENV: "development" }, 9080), undefined);
      assert.equal(opsPortOf({ NODE_ENV: "development", OPS_PORT: 9999 }, 9080), 9999);
    });

    it("gateway: the public port has /health and a bare /ready, no metrics or breaker state", async () => {
      for (const path of ["/metrics", "/circuit-breakers"]) {
        const response = await fetch(`${publicBase}${path}`);
        assert.equal(response.status, 404, path);
        assert.equal(((await response.json()) as { code: string }).code, "NOT_FOUND");
      }
      assert.deepEqual(await (await fetch(`${publicBase}/health`)).json(), { status: "ok" });
      const ready = await fetch(`${publicBase}/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: "ready" });
    });

    it("gateway: the ops port serves metrics, breaker state and readiness details", async () => {
      const metrics = await fetch(`${opsBase}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /gateway_http_requests_total/);
      const breakers = (await (await fetch(`${opsBase}/circuit-breakers`)).json()) as Record<
        string,
        { state: string }
      >;
      assert.equal(breakers.auth?.state, "closed");
      const ready = (await (await fetch(`${opsBase}/ready`)).json()) as { status: string; checks: unknown };
      assert.equal(ready.status, "ready");
      assert.ok(ready.checks, "the details");
      assert.equal((await fetch(`${opsBase}/api/v1/auth/me`)).status, 404, "no API on the ops port");
    });

    it("auth: docs, OpenAPI and metrics only on its ops port; its public port keeps the API and the JWKS", async () => {
      for (const path of ["/metrics", "/docs", "/docs/static/index.html", "/openapi.json"]) {
        assert.equal((await fetch(`${authPublic}${path}`)).status, 404, path);
      }
      assert.deepEqual(await (await fetch(`${authPublic}/ready`)).json(), { status: "ready" });
      assert.equal((await fetch(`${authPublic}/.well-known/jwks.json`)).status, 200);
      const openapi = (await (await fetch(`${authOps}/openapi.json`)).json()) as { openapi: string };
      assert.match(openapi.openapi, /^3\./);
      assert.match(await (await fetch(`${authOps}/metrics`)).text(), /auth_logins_total|process_cpu/);
      assert.equal((await fetch(`${authOps}/docs`, { redirect: "manual" })).status < 400, true);
    });

    it("profiles: docs, OpenAPI and metrics only on its ops port; its public port keeps the API", async () => {
      for (const path of ["/metrics", "/docs", "/openapi.json"]) {
        assert.equal((await fetch(`${profilesPublic}${path}`)).status, 404, path);
      }
      assert.deepEqual(await (await fetch(`${profilesPublic}/ready`)).json(), { status: "ready" });
      assert.equal((await fetch(`${profilesPublic}/api/v1/profiles/me`)).status, 401);
      assert.match(await (await fetch(`${profilesOps}/metrics`)).text(), /profiles_events_total/);
      const ready = (await (await fetch(`${profilesOps}/ready`)).json()) as {
        checks: Record<string, string>;
      };
      assert.equal(ready.checks.database, "ok");
      assert.equal(ready.checks.storage, "ok");
    });

    it("a client cannot reach the ops routes on the public port by guessing the internal header", async () => {
      const response = await fetch(`${publicBase}/metrics`, { headers: { "x-ops-key": "guess" } });
      assert.equal(response.status, 404);
    });
  },
);
