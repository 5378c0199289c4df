import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import createClient, { type Middleware } from "openapi-fetch";
import openapiTS, { astToString } from "openapi-typescript";
import { InProcessEventBus } from "@mimascota/shared/events/in-process-event-bus";
import { MemoryKeyValueStore } from "@mimascota/shared/kv/memory-key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import { listDevMail } from "@mimascota/shared/mail/dev-mailbox";
import type { OpenApiDocument } from "@mimascota/shared/openapi/document";
import { startAuthService, type RunningAuthService } from "../../services/auth/src/compose.ts";
import { loadAuthConfig } from "../../services/auth/src/config.ts";
import { generateTotp } from "../../services/auth/src/two-factor/totp.ts";
import { startGateway, type RunningGateway } from "../../services/gateway/src/compose.ts";
import { loadGatewayConfig } from "../../services/gateway/src/config.ts";
import { startProfileService, type RunningProfileService } from "../../services/profiles/src/compose.ts";
import { loadProfilesConfig } from "../../services/profiles/src/config.ts";
import { responseValidator } from "./support/openapi-response-validator.ts";
import { typecheckClient } from "./support/typecheck-client.ts";

const PASSWORD = "Tortuga-Violeta-Lluvia-2024!";
/** The docs page's origin on the default port, which the auth service's default ALLOWED_ORIGINS allows. */
const DOCS_ORIGIN = "http://localhost:8080";
const silent = (name: string) => createLogger(name, "silent");
const portOf = (app: { server: { address(): unknown } }) => (app.server.address() as { port: number }).port;

/**
 * The proof that the served document can be trusted: a client generated from the gateway's merged
 * `/openapi.json` (openapi-typescript + openapi-fetch) runs the whole account journey through the gateway,
 * and every response, success or problem, must be one the document describes (status, media type, body
 * schema, headers it promises); anything else fails the test.
 */
describe("a client generated from the gateway's OpenAPI document", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "mm-openapi-client-"));
  const kv = new MemoryKeyValueStore();
  let auth: RunningAuthService;
  let profiles: RunningProfileService;
  let gateway: RunningGateway;
  let base: string;
  let document: OpenApiDocument;
  let typesSource: string;

  before(async () => {
    const common = { NODE_ENV: "test", LOG_LEVEL: "silent", DATA_DIR: dataDir };
    const bus = new InProcessEventBus(silent("bus"));
    auth = await startAuthService(
      loadAuthConfig({ ...common, PORT: "0", ACCOUNT_RESPONSE_FLOOR_MS: "0", HOUSEKEEPING_INTERVAL: "0" }),
      { logger: silent("auth"), kv, publisher: bus },
    );
    const authUrl = `http://127.0.0.1:${portOf(auth.app)}`;
    profiles = await startProfileService(
      loadProfilesConfig({ ...common, PORT: "0", AUTH_SERVICE_URL: authUrl }),
      { logger: silent("profiles"), kv, bus },
    );
    gateway = await startGateway(
      loadGatewayConfig({
        ...common,
        PORT: "0",
        AUTH_SERVICE_URL: authUrl,
        PROFILES_SERVICE_URL: `http://127.0.0.1:${portOf(profiles.app)}`,
        DEV_MAILBOX: "false",
        RATE_LIMIT_REGISTER: "1000",
        RATE_LIMIT_LOGIN: "1000",
      }),
      { logger: silent("gateway"), kv, processMetrics: false },
    );
    base = `http://127.0.0.1:${portOf(gateway.app)}`;
    const served = await fetch(`${base}/openapi.json`);
    assert.equal(served.status, 200);
    document = (await served.json()) as OpenApiDocument;
    typesSource = astToString(await openapiTS(document as never));
  });

  after(async () => {
    await gateway?.close();
    await profiles?.close();
    await auth?.close();
    await kv.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("merges both services' operations and yields named types", () => {
    for (const path of ["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/profiles/me"]) {
      assert.ok(document.paths[path], path);
    }
    assert.equal(document.paths["/health"], undefined, "no ops endpoints");
    for (const name of ["User", "SignedIn", "SecondFactorRequired", "AccessToken", "Profile"]) {
      assert.match(typesSource, new RegExp(`\\b${name}: \\{`), `components.schemas.${name}`);
    }
    assert.doesNotMatch(typesSource, /schemas: never/);
  });

  it("serves the docs page on the gateway's own origin", async () => {
    const page = await fetch(`${base}/docs/static/index.html`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  });

  it("the generated types compile, with a typed call of the journey's first step", async () => {
    const folder = mkdtempSync(join(tmpdir(), "mm-openapi-types-"));
    try {
      writeFileSync(join(folder, "api.d.ts"), typesSource);
      const errors = await typecheckClient(folder);
      assert.equal(errors, "", errors);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("runs register → verify → login → refresh → 2FA → logout, every response as documented", async () => {
    const validate = responseValidator(document);
    const checked: string[] = [];
    const conformance: Middleware = {
      async onResponse({ request, response, schemaPath }) {
        const body = response.status === 204 ? undefined : await response.clone().text();
        const failure = validate(request.method, schemaPath, response, body);
        assert.equal(failure, undefined, `${request.method} ${schemaPath} ${response.status}: ${failure}`);
        checked.push(`${request.method} ${schemaPath} ${response.status}`);
      },
    };
    const client = createClient<never>({ baseUrl: base });
    client.use(conformance);
    // openapi-fetch's typed surface is exercised by the compile step above; here the paths are data.
    const api = client as unknown as Record<
      "GET" | "POST",
      (path: string, init?: object) => Promise<{ data?: unknown; error?: unknown; response: Response }>
    >;
    const email = `client-${Date.now()}@example.com`;
    const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

    const registered = await api.POST("/api/v1/auth/register", {
      body: { email, password: PASSWORD, fullName: "Ana Pérez" },
    });
    assert.equal(registered.response.status, 202);
    const mail = await eventually(async () =>
      (await listDevMail(dataDir, 50)).find((m) => m.to.includes(email) && /verify-email/.test(m.text)),
    );
    const token = new URL(/https?:\/\/\S*verify-email\S*/.exec(mail.text)![0]).searchParams.get("token");
    assert.equal((await api.POST("/api/v1/auth/verify-email", { body: { token } })).response.status, 200);

    // A wrong password: the problem must be documented too (status, problem+json, its code).
    const refused = await api.POST("/api/v1/auth/login", { body: { email, password: "wrong-password" } });
    assert.equal(refused.response.status, 401);

    const login = await api.POST("/api/v1/auth/login", { body: { email, password: PASSWORD } });
    assert.equal(login.response.status, 200);
    const { accessToken } = login.data as { accessToken: string };
    let cookie = refreshCookieOf(login.response);

    // As the docs page's "Try it out" sends it: the browser adds its own origin.
    const refreshed = await api.POST("/api/v1/auth/refresh", {
      headers: { cookie, origin: DOCS_ORIGIN, "sec-fetch-site": "same-origin" },
    });
    assert.equal(refreshed.response.status, 200);
    cookie = refreshCookieOf(refreshed.response);

    const enabled = await api.POST("/api/v1/auth/2fa/enable", {
      ...bearer(accessToken),
      body: { password: PASSWORD },
    });
    assert.equal(enabled.response.status, 200);
    const { secret } = enabled.data as { secret: string };
    const confirmed = await api.POST("/api/v1/auth/2fa/verify-setup", {
      ...bearer(accessToken),
      body: { code: await generateTotp(secret, new Date()) },
    });
    assert.equal(confirmed.response.status, 200);
    const { backupCodes } = confirmed.data as { backupCodes: string[] };
    const status = await api.GET("/api/v1/auth/2fa/status", bearer(accessToken));
    assert.equal((status.data as { enabled: boolean }).enabled, true);

    const challenged = await api.POST("/api/v1/auth/login", { body: { email, password: PASSWORD } });
    const { twoFactorToken } = challenged.data as { twoFactorToken: string };
    assert.ok(twoFactorToken, "the second factor is asked for");
    const secondFactor = await api.POST("/api/v1/auth/login/2fa", {
      body: { twoFactorToken, code: backupCodes[0] },
    });
    assert.equal(secondFactor.response.status, 200);
    const signedIn = secondFactor.data as { accessToken: string };
    assert.equal((await api.GET("/api/v1/profiles/me", bearer(signedIn.accessToken))).response.status, 200);

    const loggedOut = await api.POST("/api/v1/auth/logout", {
      headers: { cookie, origin: DOCS_ORIGIN, "sec-fetch-site": "same-origin" },
    });
    assert.equal(loggedOut.response.status, 204);
    const afterLogout = await api.POST("/api/v1/auth/refresh", { headers: { cookie } });
    assert.equal(afterLogout.response.status, 401);
    assert.ok(checked.length >= 12, checked.join("\n"));
  });
});

function refreshCookieOf(response: Response): string {
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith("refresh_token="));
  assert.ok(cookie, "the refresh cookie is set");
  return cookie.split(";")[0]!;
}

async function eventually<T>(read: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, "timed out");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
