import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@mimascota/shared/logger";
import { serviceUrls, skipUnless } from "@mimascota/shared/testing/services";
import { startAuthService, type RunningAuthService } from "../../../auth/src/compose.ts";
import { loadAuthConfig } from "../../../auth/src/config.ts";
import { startGateway, type RunningGateway } from "../../src/compose.ts";
import { loadGatewayConfig } from "../../src/config.ts";
import { migratedAuthDatabase } from "../../../auth/test/support/migrated-database.ts";

const PASSWORD = "tortuga violeta bajo la lluvia";
const ORIGIN = "http://localhost:3000";

/**
 * The real auth service and the real gateway as two listeners sharing PostgreSQL and Redis, as deployed:
 * sign-up mail read from the gateway's dev mailbox page, login through the gateway, /me cached per user,
 * and logout refusing the access token at once.
 */
describe("auth service through the gateway", { skip: await skipUnless("postgres", "redis") }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), "mm-gateway-e2e-"));
  let drop: () => Promise<void>;
  let auth: RunningAuthService;
  let gateway: RunningGateway;
  let base: string;

  before(async () => {
    const db = await migratedAuthDatabase(dataDir);
    drop = db.drop;
    const logger = createLogger("e2e", "silent");
    const common = { NODE_ENV: "test", LOG_LEVEL: "silent", DATA_DIR: dataDir, REDIS_URL: serviceUrls.redis };
    auth = await startAuthService(
      loadAuthConfig({
        ...common,
        PORT: "0",
        DATABASE_URL: db.url,
        COOKIE_SECURE: "false",
        ACCOUNT_RESPONSE_FLOOR_MS: "0",
      }),
      { logger },
    );
    const authAddress = auth.app.server.address();
    const authPort = typeof authAddress === "object" && authAddress ? authAddress.port : 0;
    gateway = await startGateway(
      loadGatewayConfig({
        ...common,
        PORT: "0",
        AUTH_SERVICE_URL: `http://127.0.0.1:${authPort}`,
        DEV_MAILBOX: "true",
        CORS_ORIGINS: ORIGIN,
        REDIS_KEY_PREFIX: `gw-e2e-${crypto.randomUUID()}:`,
      }),
      { logger, processMetrics: false },
    );
    const address = gateway.app.server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  after(async () => {
    await gateway?.close();
    await auth?.close();
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = (
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) =>
    fetch(`${base}/api/v1/auth/${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: {
        origin: ORIGIN,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });

  async function verificationToken(email: string): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const page = (await (await fetch(`${base}/_dev/mail?format=json`)).json()) as {
        mails: { to: string; text: string }[];
      };
      const mail = page.mails.find((m) => m.to.includes(email));
      const token = mail && /[?&]token=([A-Za-z0-9_-]+)/.exec(mail.text)?.[1];
      if (token) return token;
      await sleep(100);
    }
    throw new Error(`no verification mail for ${email}`);
  }

  async function signedIn(email: string): Promise<{ accessToken: string; cookie: string; userId: string }> {
    assert.equal((await api("register", { body: { email, password: PASSWORD } })).status, 202);
    const verified = await api("verify-email", { body: { token: await verificationToken(email) } });
    assert.equal(verified.status, 200, await verified.clone().text());
    const login = await api("login", { body: { email, password: PASSWORD } });
    assert.equal(login.status, 200);
    assert.ok(
      login.headers.get("ratelimit-policy")?.includes('"login"'),
      "login has its own stricter policy",
    );
    const body = (await login.json()) as { accessToken: string; user: { id: string } };
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    return { accessToken: body.accessToken, cookie, userId: body.user.id };
  }

  it("serves the JWKS publicly and verifies the auth service's real tokens", async () => {
    const jwks = await fetch(`${base}/.well-known/jwks.json`);
    assert.equal(jwks.status, 200);
    assert.ok(((await jwks.json()) as { keys: unknown[] }).keys.length > 0);
    assert.equal((await api("me")).status, 401);
  });

  it("caches /me per user and never mixes users", async () => {
    const ana = await signedIn(`ana-${crypto.randomUUID()}@example.com`);
    const beto = await signedIn(`beto-${crypto.randomUUID()}@example.com`);
    const me = (who: { accessToken: string }) =>
      api("me", { headers: { authorization: `Bearer ${who.accessToken}` } });

    const first = await me(ana);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("x-cache"), "MISS");
    assert.equal(((await first.json()) as { id: string }).id, ana.userId);
    const second = await me(ana);
    assert.equal(second.headers.get("x-cache"), "HIT");
    assert.equal(((await second.json()) as { id: string }).id, ana.userId);
    const other = await me(beto);
    assert.equal(other.headers.get("x-cache"), "MISS");
    assert.equal(((await other.json()) as { id: string }).id, beto.userId);
  });

  it("refuses the access token on the very next request after logout, cached /me included", async () => {
    const carla = await signedIn(`carla-${crypto.randomUUID()}@example.com`);
    const me = () => api("me", { headers: { authorization: `Bearer ${carla.accessToken}` } });
    const refreshToken = carla.cookie.slice(carla.cookie.indexOf("=") + 1);
    const asBearer = await api("me", { headers: { authorization: `Bearer ${refreshToken}` } });
    assert.equal(asBearer.status, 401, "the refresh token is no access token");
    assert.equal((await me()).status, 200);
    assert.equal((await me()).headers.get("x-cache"), "HIT");
    const logout = await api("logout", { method: "POST", headers: { cookie: carla.cookie } });
    assert.equal(logout.status, 204);
    const after = await me();
    assert.equal(after.status, 401, "refused at once, well within the contract's 1 s");
    assert.equal(((await after.json()) as { code: string }).code, "UNAUTHORIZED");
  });
});
