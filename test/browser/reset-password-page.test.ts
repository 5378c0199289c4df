import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { createLogger } from "@mimascota/shared/logger";
import { freePort } from "@mimascota/shared/testing/ports";
import { serviceUrls, skipUnless, skipUnlessPrograms } from "@mimascota/shared/testing/services";
import { TestSmtpServer } from "@mimascota/shared/testing/smtp-server";
import { startAuthService, type RunningAuthService } from "../../services/auth/src/compose.ts";
import { loadAuthConfig } from "../../services/auth/src/config.ts";
import { startGateway, type RunningGateway } from "../../services/gateway/src/compose.ts";
import { loadGatewayConfig } from "../../services/gateway/src/config.ts";
import { migratedAuthDatabase } from "../../services/auth/test/support/migrated-database.ts";

const EMAIL = "olvido@example.com";
const FIRST_PASSWORD = "tortuga violeta bajo la lluvia";
const NEW_PASSWORD = "cometa naranja sobre el tejado";
/** What the page callbacks read of an element (the project compiles without the DOM library). */
interface DomElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
}

/** Debian's Chromium: no browser is downloaded here. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const skip = (await skipUnless("postgres", "redis")) || (await skipUnlessPrograms([CHROMIUM, "--version"]));

/**
 * The password-reset page this backend serves (the original front end has none), in a real browser with
 * JavaScript disabled, through the gateway, from the link in a mail delivered over SMTP: a weak password is
 * refused in Spanish, a good one is taken, the new password signs in, the used link says so, and the page
 * asks nothing of any other origin.
 */
describe("the password-reset page in Chromium", { skip }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), "mm-reset-page-"));
  let drop: () => Promise<void>;
  let smtp: TestSmtpServer;
  let auth: RunningAuthService;
  let gateway: RunningGateway;
  let browser: Browser;
  let base: string;

  before(async () => {
    const db = await migratedAuthDatabase(dataDir);
    drop = db.drop;
    smtp = await TestSmtpServer.start();
    const gatewayPort = await freePort();
    base = `http://127.0.0.1:${gatewayPort}`;
    const logger = createLogger("browser-test", "silent");
    const common = { NODE_ENV: "test", LOG_LEVEL: "silent", DATA_DIR: dataDir, REDIS_URL: serviceUrls.redis };
    auth = await startAuthService(
      loadAuthConfig({
        ...common,
        PORT: "0",
        DATABASE_URL: db.url,
        SMTP_URL: smtp.url,
        COOKIE_SECURE: "false",
        ACCOUNT_RESPONSE_FLOOR_MS: "0",
        PUBLIC_API_URL: base,
        PUBLIC_APP_URL: "http://localhost:5173",
      }),
      { logger },
    );
    const authAddress = auth.app.server.address();
    gateway = await startGateway(
      loadGatewayConfig({
        ...common,
        PORT: String(gatewayPort),
        AUTH_SERVICE_URL: `http://127.0.0.1:${typeof authAddress === "object" && authAddress ? authAddress.port : 0}`,
        DEV_MAILBOX: "false",
        REDIS_KEY_PREFIX: `reset-page-${crypto.randomUUID()}:`,
        RATE_LIMIT_PASSWORD_RESET: "100",
      }),
      { logger, processMetrics: false },
    );
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
  });
  after(async () => {
    await browser?.close();
    await gateway?.close();
    await auth?.close();
    await smtp?.close();
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = (path: string, body: unknown) =>
    fetch(`${base}/api/v1/auth/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  async function linkInMail(subject: RegExp): Promise<string> {
    const mail = await smtp.waitForMail((m) => m.to.includes(EMAIL) && subject.test(m.subject), 20_000);
    const link = /https?:\/\/\S+/.exec(mail.text)?.[0];
    assert.ok(link, "the mail has a link");
    return link;
  }

  /** A page with JavaScript off that records every request it makes. */
  async function plainPage(language: string): Promise<{ page: Page; requested: string[] }> {
    const page = await browser.newPage();
    await page.setJavaScriptEnabled(false);
    await page.setExtraHTTPHeaders({ "accept-language": language });
    const requested: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    return { page, requested };
  }

  const text = async (page: Page, selector: string) => {
    const element = await page.$(selector);
    assert.ok(element, `${selector} on the page: ${await page.content()}`);
    return element.evaluate((e: DomElement) => e.textContent?.trim() ?? "");
  };

  it("resets the password from the mailed link, without JavaScript, in Spanish", async () => {
    assert.equal((await api("register", { email: EMAIL, password: FIRST_PASSWORD })).status, 202);
    const verify = new URL(await linkInMail(/Confirma tu dirección/));
    assert.equal((await api("verify-email", { token: verify.searchParams.get("token") })).status, 200);
    assert.equal((await api("forgot-password", { email: EMAIL })).status, 202);
    const link = await linkInMail(/Restablece tu contraseña/);
    assert.equal(new URL(link).origin, base, "the link opens this backend's page through the gateway");
    assert.equal(new URL(link).pathname, "/account/reset-password");

    const { page, requested } = await plainPage("es-UY,es;q=0.9");
    const opened = await page.goto(link, { waitUntil: "load" });
    assert.equal(opened?.status(), 200);
    const csp = opened?.headers()["content-security-policy"] ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /form-action 'self'/);
    assert.equal(opened?.headers()["referrer-policy"], "no-referrer");
    assert.equal(await text(page, "h1"), "Elige una contraseña nueva");
    assert.equal(await page.$eval("html", (e: DomElement) => e.getAttribute("lang")), "es");

    // A weak password: the policy's reason, in Spanish, and the link still works.
    await page.type("#password", "password1234");
    await page.type("#confirm", "password1234");
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    assert.equal(
      await text(page, ".error"),
      "Esta contraseña es demasiado fácil de adivinar. Prueba una frase más larga de palabras sin relación.",
    );
    assert.equal(await text(page, "h1"), "Elige una contraseña nueva");

    // A good one: the success state, with the way back to the app.
    await page.type("#password", NEW_PASSWORD);
    await page.type("#confirm", NEW_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    assert.equal(await text(page, "h1"), "Contraseña cambiada");
    assert.equal(
      await page.$eval("a.button", (e: DomElement) => e.getAttribute("href")),
      "http://localhost:5173/login",
    );

    const login = await api("login", { email: EMAIL, password: NEW_PASSWORD });
    assert.equal(login.status, 200, "the new password signs in");
    assert.equal((await api("login", { email: EMAIL, password: FIRST_PASSWORD })).status, 401);

    // The same link again: it was used.
    const again = await page.goto(link, { waitUntil: "load" });
    assert.equal(again?.status(), 400);
    assert.equal(await text(page, "h1"), "Este enlace ya no sirve");

    const origins = new Set(requested.map((url) => new URL(url).origin));
    assert.deepEqual([...origins], [base], `requests only to the page's own origin: ${requested.join(", ")}`);
    await page.close();
  });

  it("speaks English when the browser asks for it, and ?lang switches", async () => {
    const { page } = await plainPage("en-GB,en;q=0.9");
    await page.goto(`${base}/account/reset-password?token=${"x".repeat(43)}`, { waitUntil: "load" });
    assert.equal(await text(page, "h1"), "This link no longer works");
    await Promise.all([page.waitForNavigation(), page.click("a.lang")]);
    assert.equal(await text(page, "h1"), "Este enlace ya no sirve");
    await Promise.all([page.waitForNavigation(), page.click("a.button")]);
    assert.equal(await text(page, "h1"), "¿Olvidaste tu contraseña?");
    await page.close();
  });

  it("the forgot-password page sends the same answer for any address", async () => {
    const { page } = await plainPage("es");
    await page.goto(`${base}/account/forgot-password`, { waitUntil: "load" });
    await page.type("#email", "nadie-conocido@example.com");
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    assert.equal(await text(page, "h1"), "Revisa tu correo");
    await page.close();
  });
});
