import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createLogger } from "@mimascota/shared/logger";
import { skipUnless } from "@mimascota/shared/testing/services";
import { startGateway, type RunningGateway } from "../../../gateway/src/compose.ts";
import { loadGatewayConfig } from "../../../gateway/src/config.ts";
import { STRONG_PASSWORD, tokenFromMail } from "../support/account-helpers.ts";
import { oathtoolCode, skipUnlessCrossCheckTools, zbarDecode } from "../support/system-tools.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import { port, cookiePair } from "../support/listener.ts";

const EMAIL = "gateway-2fa@example.com";
const ORIGIN = "http://localhost:3000";

const skip = (await skipUnless("postgres")) || (await skipUnlessCrossCheckTools());

/**
 * The 2FA journey of a front end, over real HTTP through the gateway to a listening auth service: sign up,
 * enable, scan the QR code (zbarimg), confirm, sign out, sign in with password and an oathtool code, /me.
 * Both processes share one clock and one key-value store (revocations), as in embedded mode.
 */
describe("2FA end to end through the gateway", { skip }, () => {
  let ctx: AuthTestContext;
  let gateway: RunningGateway;
  let base: string;

  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
    await ctx.app.listen({ port: 0, host: "127.0.0.1" });
    const config = loadGatewayConfig({
      NODE_ENV: "test",
      LOG_LEVEL: "silent",
      PORT: "0",
      AUTH_SERVICE_URL: `http://127.0.0.1:${port(ctx.app.server.address())}`,
      REDIS_URL: "",
      DEV_MAILBOX: "false",
    });
    gateway = await startGateway(config, {
      logger: createLogger("e2e-gateway", "silent"),
      kv: ctx.kv,
      clock: ctx.clock,
      processMetrics: false,
    });
    base = `http://127.0.0.1:${port(gateway.app.server.address())}/api/v1/auth`;
  });
  after(async () => {
    await gateway?.close();
    await ctx?.close();
  });

  async function call(
    path: string,
    options: { body?: unknown; bearer?: string; cookie?: string; method?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown>; setCookie: string | null }> {
    const headers: Record<string, string> = { origin: ORIGIN };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
    if (options.cookie) headers.cookie = options.cookie;
    const response = await fetch(`${base}/${path}`, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      setCookie: response.headers.get("set-cookie"),
    };
  }

  /** Calls the gateway has made to the auth service so far (its backend counter). */
  async function backendCalls(): Promise<number> {
    const text = (await gateway.app.inject({ method: "GET", url: "/metrics" })).body;
    return [...text.matchAll(/^gateway_backend_requests_total\{service="auth",[^}]*\} (\d+)$/gm)].reduce(
      (sum, match) => sum + Number(match[1]),
      0,
    );
  }

  it("enable → scan → verify-setup → logout → login → 2FA with an oathtool code → me", async () => {
    assert.equal((await call("register", { body: { email: EMAIL, password: STRONG_PASSWORD } })).status, 202);
    const verifyToken = await tokenFromMail(ctx, EMAIL, "verify-email");
    assert.equal((await call("verify-email", { body: { token: verifyToken } })).status, 200);

    const first = await call("login", { body: { email: EMAIL, password: STRONG_PASSWORD } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const accessToken = String(first.body.accessToken);
    const refreshCookie = cookiePair(first.setCookie);

    const enabled = await call("2fa/enable", { body: { password: STRONG_PASSWORD }, bearer: accessToken });
    assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
    const scanned = await zbarDecode(String(enabled.body.qrCode));
    assert.equal(scanned, enabled.body.otpauthUrl);
    const secret = new URL(scanned).searchParams.get("secret") ?? "";

    const setup = await call("2fa/verify-setup", {
      body: { code: await oathtoolCode(secret, ctx.clock.now()) },
      bearer: accessToken,
    });
    assert.equal(setup.status, 200, JSON.stringify(setup.body));
    assert.equal((setup.body.backupCodes as string[]).length, 10);

    const out = await call("logout", { method: "POST", cookie: refreshCookie });
    assert.equal(out.status, 204);
    // The logout is published to the shared store: the gateway refuses the old access token at once, itself.
    const before = await backendCalls();
    assert.ok(before > 0, "the calls so far went through to the auth service");
    assert.equal((await call("me", { bearer: accessToken })).status, 401);
    assert.equal(await backendCalls(), before, "refused at the gateway, not by the auth service");

    const password = await call("login", { body: { email: EMAIL, password: STRONG_PASSWORD } });
    assert.equal(password.status, 200);
    assert.equal(password.body.twoFactorRequired, true);
    assert.equal(password.body.accessToken, undefined);
    const twoFactorToken = String(password.body.twoFactorToken);
    // The gateway does not take the step token as a bearer token either.
    const beforeStep = await backendCalls();
    assert.equal((await call("me", { bearer: twoFactorToken })).status, 401);
    assert.equal(await backendCalls(), beforeStep, "refused at the gateway");

    ctx.clock.advance(30_000); // the setup code's step is spent; the app shows the next one
    const second = await call("login/2fa", {
      body: { twoFactorToken, code: await oathtoolCode(secret, ctx.clock.now()) },
    });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.ok(second.setCookie?.includes("HttpOnly"), "the refresh cookie comes with the second step");

    const profile = await call("me", { bearer: String(second.body.accessToken) });
    assert.equal(profile.status, 200, JSON.stringify(profile.body));
    assert.equal(profile.body.email, EMAIL);
    assert.equal(profile.body.twoFactorEnabled, true);
  });
});
