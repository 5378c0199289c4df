import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { outboxEvents } from "@mimascota/shared/db/infra-schema";
import { toOutboundEvent } from "@mimascota/shared/events/outbox-relay";
import { createLogger } from "@mimascota/shared/logger";
import { skipUnless } from "@mimascota/shared/testing/services";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGateway, type RunningGateway } from "../../../gateway/src/compose.ts";
import { startProfileService, type RunningProfileService } from "../../../profiles/src/compose.ts";
import { loadProfilesConfig } from "../../../profiles/src/config.ts";
import { profiles as profileRows } from "../../../profiles/src/db/schema.ts";
import { CONSUMED_TOPICS } from "../../../profiles/src/events/account-events.ts";
import { loadGatewayConfig } from "../../../gateway/src/config.ts";
import { users } from "../../src/db/schema.ts";
import { tokenFromMail } from "../support/account-helpers.ts";
import { decodeJwt } from "../support/session-helpers.ts";
import { oathtoolCode, skipUnlessCrossCheckTools } from "../support/system-tools.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import { port, cookiePair } from "../support/listener.ts";

const ORIGIN = "http://localhost:5173";
/** Passes the front end's own form rules (upper, lower, digit, symbol, no spaces) and ours. */
const PASSWORD = "Tortuga-Violeta-Lluvia-2024!";

const skip = (await skipUnless("postgres")) || (await skipUnlessCrossCheckTools());

type Body = Record<string, unknown>;

/** The registration body exactly as the original front end's 3-step form posts it. */
function frontEndRegistration(email: string, birthDate = "04/03/1990"): Body {
  return {
    baseUser: {
      name: "Ana",
      secondName: "Pérez",
      email,
      documentType: "CI",
      document: "45678912",
      ubication: {
        department: "Montevideo",
        city: "Montevideo",
        postalCode: "11200",
        street: "Av. 18 de Julio",
        number: "1234",
        apartment: null,
      },
      password: PASSWORD,
    },
    client: { birthDate },
  };
}

/**
 * The original Mi Mascota React front end against this backend, call by call as it makes them (its
 * `src/lib/api.js`), through the gateway to the auth service: the contract's compatibility table row by row,
 * then its whole journey. Both processes share the test clock, so TOTP steps and the recent-sign-in window
 * move with it.
 */
describe("the original front end's calls through the gateway", { skip }, () => {
  let ctx: AuthTestContext;
  let gateway: RunningGateway;
  let profiles: RunningProfileService;
  const profilesDir = mkdtempSync(join(tmpdir(), "mm-compat-profiles-"));
  let base: string;

  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0", ALLOWED_ORIGINS: ORIGIN } });
    await ctx.app.listen({ port: 0, host: "127.0.0.1" });
    // The profile service behind the same gateway; the auth outbox's events are handed to it below.
    profiles = await startProfileService(
      loadProfilesConfig({
        NODE_ENV: "test",
        LOG_LEVEL: "silent",
        PORT: "0",
        DATA_DIR: profilesDir,
        AUTH_SERVICE_URL: `http://127.0.0.1:${port(ctx.app.server.address())}`,
      }),
      { logger: createLogger("compat-profiles", "silent"), kv: ctx.kv, clock: ctx.clock },
    );
    gateway = await startGateway(
      loadGatewayConfig({
        NODE_ENV: "test",
        LOG_LEVEL: "silent",
        PORT: "0",
        AUTH_SERVICE_URL: `http://127.0.0.1:${port(ctx.app.server.address())}`,
        PROFILES_SERVICE_URL: `http://127.0.0.1:${port(profiles.app.server.address())}`,
        REDIS_URL: "",
        DEV_MAILBOX: "false",
        CORS_ORIGINS: ORIGIN,
        RATE_LIMIT_REGISTER: "1000",
        RATE_LIMIT_LOGIN: "1000",
        RATE_LIMIT_TWO_FACTOR: "1000",
      }),
      {
        logger: createLogger("compat-gateway", "silent"),
        kv: ctx.kv,
        clock: ctx.clock,
        processMetrics: false,
      },
    );
    base = `http://127.0.0.1:${port(gateway.app.server.address())}`;
  });
  after(async () => {
    await gateway?.close();
    await profiles?.close();
    await ctx?.close();
    rmSync(profilesDir, { recursive: true, force: true });
  });

  /** What the outbox relay does in production: the auth service's events, delivered to the profile service. */
  async function deliverEvents(): Promise<void> {
    const subscribed = new Set<string>(CONSUMED_TOPICS);
    for (const row of (await ctx.events()).reverse().filter((event) => subscribed.has(event.topic))) {
      await profiles.events.handle(toOutboundEvent(row));
    }
  }

  /** One call as axios makes it for the front end: JSON, its origin, the bearer and the cookie it holds. */
  async function call(
    path: string,
    options: { body?: unknown; bearer?: string; cookie?: string; method?: string } = {},
  ): Promise<{ status: number; body: Body; setCookie: string | null }> {
    const headers: Record<string, string> = { origin: ORIGIN };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
    if (options.cookie) headers.cookie = options.cookie;
    const response = await fetch(`${base}${path}`, {
      method: options.method ?? "POST",
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as Body) : {},
      setCookie: response.headers.get("set-cookie"),
    };
  }
  const get = (path: string, bearer: string) => call(path, { method: "GET", bearer });

  async function registeredAndVerified(email: string): Promise<void> {
    const registered = await call("/api/v1/auth/register", { body: frontEndRegistration(email) });
    assert.equal(registered.status, 202, JSON.stringify(registered.body));
    const token = await tokenFromMail(ctx, email, "verify-email");
    const verified = await call("/api/v1/auth/verify-email", { body: { token } });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
  }

  async function signIn(email: string) {
    const response = await call("/api/v1/auth/login", { body: { email, password: PASSWORD } });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return { body: response.body, cookie: cookiePair(response.setCookie) };
  }

  it("register takes the nested body: fullName from the names, role client, profile fields in the event only", async () => {
    const email = "nested@example.com";
    const response = await call("/api/v1/auth/register", { body: frontEndRegistration(email) });
    assert.equal(response.status, 202, JSON.stringify(response.body));
    assert.deepEqual(Object.keys(response.body), ["message"]);
    assert.match(String(response.body.message), /te enviamos un correo/);
    const [row] = await ctx.database.db.select().from(users).where(eq(users.email, email));
    assert.equal(row?.fullName, "Ana Pérez");
    assert.equal(row?.role, "client");
    const [event] = await ctx.database.db.select().from(outboxEvents).where(eq(outboxEvents.key, row.id));
    assert.deepEqual((event?.data as Body).profile, {
      name: "Ana",
      secondName: "Pérez",
      documentType: "CI",
      document: "45678912",
      birthDate: "1990-03-04",
      ubication: {
        department: "Montevideo",
        city: "Montevideo",
        postalCode: "11200",
        street: "Av. 18 de Julio",
        number: "1234",
        apartment: null,
      },
    });
  });

  it("register takes role provider, and the token carries email and roles", async () => {
    const email = "provider@example.com";
    const registered = await call("/api/v1/auth/register", {
      body: { ...frontEndRegistration(email), role: "provider" },
    });
    assert.equal(registered.status, 202);
    const token = await tokenFromMail(ctx, email, "verify-email");
    assert.equal((await call("/api/v1/auth/verify-email", { body: { token } })).status, 200);
    const { body } = await signIn(email);
    const { payload } = decodeJwt(String(body.access_token));
    assert.equal(payload.email, email);
    assert.deepEqual(payload.roles, ["provider"]);
  });

  it("a field sent under both names with different values is a 400; under 16 is UNDERAGE", async () => {
    const conflicting = await call("/api/v1/auth/register", {
      body: { ...frontEndRegistration("one@example.com"), email: "other@example.com" },
    });
    assert.equal(conflicting.status, 400);
    assert.equal(conflicting.body.code, "VALIDATION_ERROR");
    assert.match(String(conflicting.body.detail), /baseUser\.email/);
    const today = ctx.clock.now();
    const fifteen = `${String(today.getUTCDate()).padStart(2, "0")}/${String(today.getUTCMonth() + 1).padStart(2, "0")}/${today.getUTCFullYear() - 15}`;
    const young = await call("/api/v1/auth/register", {
      body: frontEndRegistration("young@example.com", fifteen),
    });
    assert.equal(young.status, 400);
    assert.equal(young.body.code, "UNDERAGE");
    assert.equal(young.body.detail, "Debes tener al menos 16 años para registrarte.");
    const malformed = await call("/api/v1/auth/register", {
      body: frontEndRegistration("malformed@example.com", "31/02/1990"),
    });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.code, "VALIDATION_ERROR");
    assert.match(String(malformed.body.detail), /^La solicitud no es válida: revisa client\.birthDate\.$/);
  });

  it("the whole journey in the front end's shapes, 2FA by QR, TOTP and backup code, off, and out", async () => {
    const email = "journey@example.com";
    await registeredAndVerified(email);

    // Sign in: the front end reads access_token.
    const first = await signIn(email);
    assert.equal(first.body.access_token, first.body.accessToken);
    assert.equal(first.body.token_type, first.body.tokenType);
    const claims = decodeJwt(String(first.body.access_token)).payload;
    assert.equal(claims.email, email);
    assert.deepEqual(claims.roles, ["client"]);

    // A reload: the silent refresh on start (both names).
    const refreshed = await call("/api/v1/auth/refresh", { cookie: first.cookie });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.equal(refreshed.body.access_token, refreshed.body.accessToken);
    const access = String(refreshed.body.access_token);
    const cookie = cookiePair(refreshed.setCookie);

    // After signing in it loads the profile (/profiles/me, falling back to the list) and shows its names.
    await deliverEvents();
    const profile = await get("/api/v1/profiles/me", access);
    assert.equal(profile.status, 200, JSON.stringify(profile.body));
    assert.equal(profile.body.user_id, claims.sub);
    assert.equal(profile.body.email, email);
    assert.equal(profile.body.name, "Ana");
    assert.equal(profile.body.second_name, "Pérez");
    assert.equal(profile.body.display_name, "Ana Pérez");
    assert.equal(profile.body.role, "client");
    assert.equal(profile.body.photo_url, null);
    assert.equal(profile.body.document, "45678912");
    const list = await call("/api/v1/profiles?page=1&size=100", { method: "GET", bearer: access });
    assert.equal(list.status, 200);
    const items = list.body.items as Record<string, unknown>[];
    assert.deepEqual(
      items.map((item) => item.user_id),
      [claims.sub],
      "the list fallback finds the user by user_id, and holds no one else",
    );

    // 2FA on, through the original gateway's paths, without a body (inside the recent-sign-in window).
    const enabled = await call("/api/v1/2fa/enable", { bearer: access });
    assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
    assert.equal(enabled.body.qr_code, enabled.body.qrCode);
    assert.match(String(enabled.body.qr_code), /^data:image\/png;base64,/);
    const pendingCodes = enabled.body.backup_codes as string[];
    assert.equal(pendingCodes.length, 10);
    assert.equal(typeof enabled.body.message, "string");
    const secret = String(enabled.body.secret);
    const confirmed = await call("/api/v1/2fa/verify-setup", {
      bearer: access,
      body: { secret, token: await oathtoolCode(secret, ctx.clock.now()) },
    });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.two_factor_enabled, true);
    assert.equal(confirmed.body.enabled, true);
    assert.deepEqual(confirmed.body.backup_codes, pendingCodes, "the codes the enable screen showed");
    assert.deepEqual(confirmed.body.backupCodes, pendingCodes);
    assert.equal((await call("/api/v1/auth/logout", { cookie })).status, 204);

    // Sign in with a TOTP code: requires_2fa and temp_session_id, then the four fields the front end sends.
    const password = await call("/api/v1/auth/login", { body: { email, password: PASSWORD } });
    assert.equal(password.body.requires_2fa, true);
    assert.equal(password.body.temp_session_id, password.body.twoFactorToken);
    assert.match(String(password.body.message), /código/);
    ctx.clock.advance(30_000);
    const code = await oathtoolCode(secret, ctx.clock.now());
    const temp = String(password.body.temp_session_id);
    const withTotp = await call("/api/v1/auth/login/2fa", {
      body: { temp_token: temp, temp_session_id: temp, code, token: code },
    });
    assert.equal(withTotp.status, 200, JSON.stringify(withTotp.body));
    assert.equal(withTotp.body.access_token, withTotp.body.accessToken);
    assert.deepEqual(decodeJwt(String(withTotp.body.access_token)).payload.amr, ["pwd", "otp"]);
    assert.equal((await call("/api/v1/auth/logout", { cookie: cookiePair(withTotp.setCookie) })).status, 204);

    // Again with a backup code in the same four fields.
    const again = await call("/api/v1/auth/login", { body: { email, password: PASSWORD } });
    const backup = pendingCodes[0]!;
    const againTemp = String(again.body.temp_session_id);
    const withBackup = await call("/api/v1/auth/login/2fa", {
      body: { temp_token: againTemp, temp_session_id: againTemp, code: backup, token: backup },
    });
    assert.equal(withBackup.status, 200, JSON.stringify(withBackup.body));
    const signedIn = String(withBackup.body.access_token);

    const status = await get("/api/v1/2fa/status", signedIn);
    assert.equal(status.status, 200, JSON.stringify(status.body));
    assert.equal(status.body.is_enabled, true);
    assert.equal(status.body.two_factor_enabled, true);
    assert.equal(status.body.backup_codes_count, 9);
    assert.equal(status.body.backup_codes_remaining, status.body.backupCodesRemaining);

    // New backup codes, the code sent as `token` as the front end does.
    ctx.clock.advance(30_000);
    const regenerated = await call("/api/v1/2fa/regenerate-backup-codes", {
      bearer: signedIn,
      body: { token: await oathtoolCode(secret, ctx.clock.now()) },
    });
    assert.equal(regenerated.status, 200, JSON.stringify(regenerated.body));
    assert.deepEqual(regenerated.body.backup_codes, regenerated.body.backupCodes);
    assert.equal((regenerated.body.backup_codes as string[]).length, 10);
    assert.equal(typeof regenerated.body.message, "string");
    assert.equal((await get("/api/v1/2fa/status", signedIn)).body.backup_codes_count, 10);

    // Off with a code alone (signed in moments ago), then out.
    ctx.clock.advance(30_000);
    const off = await call("/api/v1/2fa/disable", {
      bearer: signedIn,
      body: { code: await oathtoolCode(secret, ctx.clock.now()) },
    });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.two_factor_enabled, false);
    assert.equal(off.body.enabled, false);
    assert.equal(typeof off.body.message, "string");
    assert.equal(
      (await call("/api/v1/auth/logout", { cookie: cookiePair(withBackup.setCookie) })).status,
      204,
    );
    assert.equal((await get("/api/v1/2fa/status", signedIn)).status, 401, "signed out at the gateway");
  });

  it("deleting the account: its tokens are refused at the gateway at once, and the email registers again", async () => {
    const email = "goodbye@example.com";
    await registeredAndVerified(email);
    const { body } = await signIn(email);
    const access = String(body.access_token);
    assert.equal((await get("/api/v1/2fa/status", access)).status, 200);
    const deleted = await call("/api/v1/auth/me", { method: "DELETE", bearer: access });
    assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
    assert.equal((await get("/api/v1/2fa/status", access)).status, 401, "refused at the gateway");
    // user.deleted.v1 reaches the profile service: the profile goes (it existed from the registration).
    const userId = String(decodeJwt(access).payload.sub);
    const profileOf = async () =>
      (await profiles.database.db.select().from(profileRows).where(eq(profileRows.userId, userId))).length;
    await deliverEvents();
    assert.equal(await profileOf(), 0);
    assert.equal((await get("/api/v1/profiles/me", access)).status, 401, "refused at the gateway");
    assert.equal((await call("/api/v1/auth/register", { body: frontEndRegistration(email) })).status, 202);
  });

  it("aliases that disagree are a 400, and a secret other than the pending one is refused", async () => {
    const email = "aliases@example.com";
    await registeredAndVerified(email);
    const { body } = await signIn(email);
    const access = String(body.access_token);
    const enabled = await call("/api/v1/2fa/enable", { bearer: access });
    const secret = String(enabled.body.secret);
    const code = await oathtoolCode(secret, ctx.clock.now());
    const disagreeing = await call("/api/v1/2fa/verify-setup", {
      bearer: access,
      body: { code, token: code === "000000" ? "111111" : "000000" },
    });
    assert.equal(disagreeing.status, 400);
    assert.equal(disagreeing.body.code, "VALIDATION_ERROR");
    const otherSecret = await call("/api/v1/2fa/verify-setup", {
      bearer: access,
      body: { secret: "A".repeat(32), token: code },
    });
    assert.equal(otherSecret.status, 400);
    assert.equal(otherSecret.body.code, "TWO_FACTOR_SECRET_MISMATCH");

    const step = await call("/api/v1/auth/login/2fa", {
      body: { temp_token: "a".repeat(43), temp_session_id: "b".repeat(43), token: "123456" },
    });
    assert.equal(step.status, 400);
    assert.equal(step.body.code, "VALIDATION_ERROR");
    assert.match(String(step.body.detail), /temp_token/);
  });

  it("problems and messages are Spanish by default and English on request, with the same code", async () => {
    const spanish = await call("/api/v1/auth/login", {
      body: { email: "nobody@example.com", password: "x" },
    });
    const english = await fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "accept-language": "en-GB,en;q=0.9" },
      body: JSON.stringify({ email: "nobody@example.com", password: "x" }),
    }).then(async (r) => (await r.json()) as Body);
    assert.equal(spanish.body.code, "INVALID_CREDENTIALS");
    assert.equal(english.code, "INVALID_CREDENTIALS");
    assert.equal(spanish.body.detail, "El correo o la contraseña son incorrectos.");
    assert.equal(english.detail, "The email or password is incorrect.");
    const gatewayOwn = await call("/api/v1/2fa/status", { method: "GET" });
    assert.equal(gatewayOwn.status, 401);
    assert.match(String(gatewayOwn.body.detail), /token de acceso/);
  });
});
