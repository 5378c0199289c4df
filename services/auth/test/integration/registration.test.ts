import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { eq } from "drizzle-orm";
import { ManualClock } from "@mimascota/shared/clock";
import { MemoryKeyValueStore } from "@mimascota/shared/kv/memory-key-value-store";
import { skipUnless } from "@mimascota/shared/testing/services";
import { oneTimeTokens, users } from "../../src/db/schema.ts";
import { hashToken } from "../../src/crypto/opaque-token.ts";
import {
  comparableHeaders,
  post,
  problem,
  register,
  STRONG_PASSWORD,
  tokenFromMail,
  userRow,
} from "../support/account-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

describe("POST /register", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx.close());

  it("creates an unverified user with an argon2id hash and queues a verification mail with a working link", async () => {
    const response = await register(ctx, "  Nueva@Example.COM ", STRONG_PASSWORD, { fullName: "Ana Ruiz" });
    assert.deepEqual(Object.keys(response.json()), ["message"]);
    const user = await userRow(ctx, "nueva@example.com");
    assert.equal(user.emailVerifiedAt, null);
    assert.equal(user.fullName, "Ana Ruiz");
    assert.equal(user.locale, "es");
    assert.match(user.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const token = await tokenFromMail(ctx, "nueva@example.com", "verify-email");
    const mail = (await ctx.mails()).find((m) => m.toAddress === "nueva@example.com")!;
    assert.ok(mail.textBody.includes(`${ctx.config.links.publicAppUrl}/verify-email?token=${token}`));
    assert.match(mail.subject, /Confirma/);
    const [stored] = await ctx.database.db
      .select()
      .from(oneTimeTokens)
      .where(eq(oneTimeTokens.userId, user.id));
    assert.equal(stored?.tokenHash, hashToken(token), "only the digest is stored");
    assert.equal(stored?.expiresAt.getTime(), ctx.clock.now().getTime() + 24 * 3600 * 1000);
  });

  it("publishes user.registered.v1 through the outbox with no secret in it", async () => {
    await register(ctx, "evento@example.com");
    const user = await userRow(ctx, "evento@example.com");
    const event = (await ctx.events()).find((e) => e.topic === "user.registered.v1" && e.key === user.id);
    assert.ok(event);
    const data = event.data as Record<string, unknown>;
    assert.equal(data.userId, user.id);
    assert.equal(data.email, "evento@example.com");
    const json = JSON.stringify(event.data);
    const token = await tokenFromMail(ctx, "evento@example.com", "verify-email");
    for (const secret of [STRONG_PASSWORD, user.passwordHash, token, hashToken(token)]) {
      assert.ok(!json.includes(secret));
    }
  });

  it("answers an existing email exactly like a new one and mails the owner instead", async () => {
    await register(ctx, "owner@example.com", STRONG_PASSWORD, { locale: "en" });
    const before = await userRow(ctx, "owner@example.com");
    const fresh = await post(ctx, "register", { email: "fresh@example.com", password: STRONG_PASSWORD });
    const again = await post(ctx, "register", {
      email: "OWNER@example.com",
      password: "otra frase bastante larga",
    });
    assert.equal(again.statusCode, fresh.statusCode);
    assert.equal(again.body, fresh.body);
    assert.deepEqual(comparableHeaders(again), comparableHeaders(fresh));
    const after = await userRow(ctx, "owner@example.com");
    assert.equal(after.passwordHash, before.passwordHash, "the existing account is untouched");
    const mails = (await ctx.mails()).filter((m) => m.toAddress === "owner@example.com");
    assert.deepEqual(mails.map((m) => m.template).sort(), ["already-registered", "verify-email"]);
    const notice = mails.find((m) => m.template === "already-registered")!;
    assert.match(notice.subject, /Someone tried to sign up/, "in the owner's language");
    assert.doesNotMatch(notice.textBody, /token=/);
  });

  it("ends a race of registrations for one email with one account, the same 202 each, and one verification", async () => {
    const attempts = await Promise.all(
      Array.from({ length: 10 }, () =>
        post(ctx, "register", { email: "race@example.com", password: STRONG_PASSWORD }),
      ),
    );
    assert.deepEqual(new Set(attempts.map((r) => `${r.statusCode} ${r.body}`)).size, 1);
    assert.equal(attempts[0]?.statusCode, 202);
    const rows = await ctx.database.db.select().from(users).where(eq(users.email, "race@example.com"));
    assert.equal(rows.length, 1);
    const mails = (await ctx.mails()).filter((m) => m.toAddress === "race@example.com");
    assert.equal(mails.filter((m) => m.template === "verify-email").length, 1);
    // One notice: the others fall within the notice cooldown.
    assert.equal(mails.filter((m) => m.template === "already-registered").length, 1);
  });

  it("refuses a weak password with WEAK_PASSWORD and its reason, creating nothing", async () => {
    for (const [password, reason] of [
      ["short", /al menos 12/],
      ["password123456", /demasiado (común|fácil de adivinar)/],
      ["weakling-account-2024", /dirección de correo/],
      ["amo a mimascota mucho", /nombre del producto/],
    ] as const) {
      const response = await post(ctx, "register", { email: "weakling@example.com", password });
      assert.equal(response.statusCode, 400);
      const body = problem(response);
      assert.equal(body.code, "WEAK_PASSWORD");
      assert.match(body.detail, reason);
    }
    const rows = await ctx.database.db.select().from(users).where(eq(users.email, "weakling@example.com"));
    assert.equal(rows.length, 0);
  });

  it("takes the language from the body, else from Accept-Language, else Spanish", async () => {
    await register(ctx, "body-en@example.com", STRONG_PASSWORD, { locale: "en" });
    await post(
      ctx,
      "register",
      { email: "header-en@example.com", password: STRONG_PASSWORD },
      {
        "accept-language": "en-GB,en;q=0.9",
      },
    );
    await post(
      ctx,
      "register",
      { email: "header-fr@example.com", password: STRONG_PASSWORD },
      {
        "accept-language": "fr-FR",
      },
    );
    assert.equal((await userRow(ctx, "body-en@example.com")).locale, "en");
    assert.equal((await userRow(ctx, "header-en@example.com")).locale, "en");
    assert.equal((await userRow(ctx, "header-fr@example.com")).locale, "es");
    const mail = (await ctx.mails()).find((m) => m.toAddress === "header-en@example.com")!;
    assert.match(mail.subject, /Confirm your email/);
  });

  it("ignores mass-assignment fields such as emailVerified, id and twoFactorEnabled", async () => {
    await register(ctx, "sneaky@example.com", STRONG_PASSWORD, {
      emailVerified: true,
      emailVerifiedAt: "2020-01-01T00:00:00Z",
      id: "00000000-0000-4000-8000-000000000000",
      twoFactorEnabled: true,
      passwordHash: "x",
      createdAt: "2000-01-01T00:00:00Z",
    });
    const user = await userRow(ctx, "sneaky@example.com");
    assert.equal(user.emailVerifiedAt, null);
    assert.notEqual(user.id, "00000000-0000-4000-8000-000000000000");
    assert.equal(user.twoFactorEnabledAt, null);
    assert.match(user.passwordHash, /^\$argon2id\$/);
    assert.equal(user.createdAt.getTime(), ctx.clock.now().getTime());
  });

  it("stores SQL-looking input literally", async () => {
    const fullName = "Robert'); DROP TABLE users;--";
    await register(ctx, "o'brien+tag@example.com", STRONG_PASSWORD, { fullName });
    const user = await userRow(ctx, "o'brien+tag@example.com");
    assert.equal(user.fullName, fullName);
    // Mails name the account only once its address is verified; then the name is escaped in the HTML part.
    const token = await tokenFromMail(ctx, "o'brien+tag@example.com", "verify-email");
    assert.equal((await post(ctx, "verify-email", { token })).statusCode, 200);
    assert.equal((await post(ctx, "forgot-password", { email: "o'brien+tag@example.com" })).statusCode, 202);
    const html = (await ctx.mails()).find(
      (m) => m.toAddress === "o'brien+tag@example.com" && m.template === "reset-password",
    )!.htmlBody;
    assert.ok(html.includes("Robert&#39;); DROP TABLE users;--"), "escaped in the HTML mail");
  });

  it("answers bad input with the right 4xx problem, never a 500", async () => {
    const cases: [unknown, number, string][] = [
      [{}, 400, "VALIDATION_ERROR"],
      [{ email: "a@example.com" }, 400, "VALIDATION_ERROR"],
      [{ email: 42, password: STRONG_PASSWORD }, 400, "VALIDATION_ERROR"],
      [{ email: "a@example.com", password: ["x"] }, 400, "VALIDATION_ERROR"],
      [{ email: "not-an-email", password: STRONG_PASSWORD }, 400, "VALIDATION_ERROR"],
      [{ email: "a@example.com\r\nBcc: x@evil.example", password: STRONG_PASSWORD }, 400, "VALIDATION_ERROR"],
      [{ email: "' OR 1=1 --@example.com", password: STRONG_PASSWORD }, 400, "VALIDATION_ERROR"],
      [{ email: `${"a".repeat(65)}@example.com`, password: STRONG_PASSWORD }, 400, "VALIDATION_ERROR"],
      [{ email: `a@${"b".repeat(250)}.com`, password: STRONG_PASSWORD }, 400, "VALIDATION_ERROR"],
      [{ email: "a@example.com", password: STRONG_PASSWORD, locale: "fr" }, 400, "VALIDATION_ERROR"],
      [{ email: "a@example.com", password: STRONG_PASSWORD, fullName: "a\u0000b" }, 400, "VALIDATION_ERROR"],
      [[], 400, "VALIDATION_ERROR"],
      [null, 400, "VALIDATION_ERROR"],
    ];
    for (const [payload, status, code] of cases) {
      const response = await ctx.app.inject({
        method: "POST",
        url: "/api/v1/auth/register",
        headers: { "content-type": "application/json" },
        payload: JSON.stringify(payload),
      });
      assert.equal(response.statusCode, status, `${JSON.stringify(payload)} → ${response.body}`);
      assert.equal(problem(response).code, code);
    }
  });

  it("answers malformed JSON, a wrong content type and a huge body with 400, 415 and 413", async () => {
    const send = (payload: string, contentType: string) =>
      ctx.app.inject({
        method: "POST",
        url: "/api/v1/auth/register",
        headers: { "content-type": contentType },
        payload,
      });
    const malformed = await send('{"email": "a@example.com",', "application/json");
    assert.equal(malformed.statusCode, 400);
    assert.equal(problem(malformed).code, "MALFORMED_JSON");
    const text = await send("email=a@example.com", "text/plain");
    assert.equal(text.statusCode, 415);
    assert.equal(problem(text).code, "UNSUPPORTED_MEDIA_TYPE");
    const form = await send("email=a@example.com", "application/x-www-form-urlencoded");
    assert.equal(form.statusCode, 415);
    const huge = await send(
      JSON.stringify({ email: "a@example.com", password: "x".repeat(100_000) }),
      "application/json",
    );
    assert.equal(huge.statusCode, 413);
    assert.equal(problem(huge).code, "PAYLOAD_TOO_LARGE");
    const get = await ctx.app.inject({ method: "GET", url: "/api/v1/auth/register" });
    assert.equal(get.statusCode, 405);
  });
  it("builds mail links from PUBLIC_APP_URL, never from the request's Host or forwarding headers", async () => {
    const response = await post(
      ctx,
      "register",
      { email: "host@example.com", password: STRONG_PASSWORD },
      { host: "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "http" },
    );
    assert.equal(response.statusCode, 202);
    const mail = (await ctx.mails()).find((m) => m.toAddress === "host@example.com")!;
    assert.doesNotMatch(mail.textBody + mail.htmlBody, /evil\.example/);
    assert.ok(mail.textBody.includes(`${ctx.config.links.publicAppUrl}/verify-email?token=`));
  });
  it("sends the owner at most one already-registered notice per cooldown, so sign-ups cannot flood a mailbox", async () => {
    await register(ctx, "flood@example.com");
    const notices = async () =>
      (await ctx.mails()).filter(
        (m) => m.toAddress === "flood@example.com" && m.template === "already-registered",
      );
    for (let i = 0; i < 3; i++) await register(ctx, "flood@example.com");
    assert.equal((await notices()).length, 1);
    ctx.clock.advance(ctx.config.accountTokens.resendCooldownMs);
    await register(ctx, "flood@example.com");
    assert.equal((await notices()).length, 2);
  });

  it("does not wait on a stalled key-value store for an existing email's notice: it is sent", async () => {
    // The store would answer "in cooldown" only after 3 s, far past the response floor.
    const kv = new MemoryKeyValueStore({ clock: new ManualClock(new Date()) });
    let asked = 0;
    kv.setIfAbsent = () => {
      asked++;
      return sleep(3_000, false);
    };
    const stalled = await createAuthTestContext({ kv });
    try {
      await register(stalled, "stalled-store@example.com");
      const fresh = await post(stalled, "register", {
        email: "new-one@example.com",
        password: STRONG_PASSWORD,
      });
      const existing = await post(stalled, "register", {
        email: "stalled-store@example.com",
        password: STRONG_PASSWORD,
      });
      assert.equal(existing.statusCode, fresh.statusCode);
      assert.equal(existing.body, fresh.body);
      assert.equal(asked, 1, "the cooldown was asked");
      const notices = (await stalled.mails()).filter(
        (m) => m.toAddress === "stalled-store@example.com" && m.template === "already-registered",
      );
      assert.equal(notices.length, 1, "no timely answer from the store: the notice is sent");
    } finally {
      await stalled.close();
    }
  });
});
