import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MemoryKeyValueStore } from "@mimascota/shared/kv/memory-key-value-store";
import { startTestGateway, testRoutes, type TestGateway } from "../support/test-gateway.ts";
import { TestUpstream } from "../support/upstream.ts";
import { TokenIssuer } from "@mimascota/shared/testing/token-issuer";

/** No REDIS_URL: limits and cache in process, revocations read from the store the auth service shares. */
describe("embedded mode (no Redis)", () => {
  const kv = new MemoryKeyValueStore();
  const dataDir = mkdtempSync(join(tmpdir(), "mm-gw-embedded-"));
  let upstream: TestUpstream;
  let issuer: TokenIssuer;
  let gateway: TestGateway;

  before(async () => {
    upstream = await new TestUpstream().start();
    upstream.handler = (_request, response) => {
      response.setHeader("cache-control", "private, max-age=60");
      response.end("{}");
    };
    issuer = await new TokenIssuer().start();
    gateway = await startTestGateway({
      routes: testRoutes(upstream.url),
      jwksUrl: issuer.jwksUrl,
      redisUrl: null,
      kv,
      env: { RATE_LIMIT_IP: "2", DEV_MAILBOX: "true", DATA_DIR: dataDir },
    });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
    await issuer.close();
    await kv.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses a session revoked in the shared in-process store", async () => {
    const token = await issuer.token({ sid: "embedded-session" });
    const me = () => gateway.fetch("/api/cached/me", { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await me()).headers.get("x-cache"), "MISS");
    assert.equal((await me()).headers.get("x-cache"), "HIT");
    await kv.set(`${gateway.config.redis.revokedSessionPrefix}embedded-session`, "1", 60_000);
    assert.equal((await me()).status, 401);
  });

  it("rate limits in process and reports the memory store in /ready", async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await gateway.fetch("/api/public")).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    const ready = (await (await gateway.fetch("/ready")).json()) as Record<string, unknown>;
    assert.equal(ready.status, "ready");
    assert.equal(ready.cache, "memory");
  });

  it("lists the dev mailbox newest first, as a page with escaped text and links, or as JSON", async () => {
    mkdirSync(join(dataDir, "mail"), { recursive: true });
    const mail = (id: string, createdAt: string, text: string) =>
      writeFileSync(
        join(dataDir, "mail", `${id}.json`),
        JSON.stringify({ id, to: "ana@example.com", subject: `Mail ${id}`, text, html: "", createdAt }),
      );
    mail("old", "2026-01-01T00:00:00.000Z", "first");
    mail(
      "new",
      "2026-01-02T00:00:00.000Z",
      "Verify: http://localhost:3000/verify-email?token=abc <b>bold</b>",
    );
    const json = (await (await gateway.fetch("/_dev/mail?format=json")).json()) as {
      mails: { id: string }[];
    };
    assert.deepEqual(
      json.mails.map((m) => m.id),
      ["new", "old"],
    );
    const page = await gateway.fetch("/_dev/mail");
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    const html = await page.text();
    assert.match(html, /<a href="http:\/\/localhost:3000\/verify-email\?token=abc">/);
    assert.doesNotMatch(html, /<b>bold<\/b>/, "mail text is escaped");
  });
});
