import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { createHttpServer } from "../../src/http.ts";
import { loggerOptions, redactUrl } from "../../src/logger.ts";

describe("URLs in logs", () => {
  it("redact the values of secret query parameters, whatever their case or encoding", () => {
    assert.equal(
      redactUrl("/x?access_token=abc.def&page=2&Code=123456&refresh%5Ftoken=r&password=p&token=t"),
      "/x?access_token=[redacted]&page=2&Code=[redacted]&refresh%5Ftoken=[redacted]&password=[redacted]&token=[redacted]",
    );
    assert.equal(redactUrl("/api/v1/auth/me"), "/api/v1/auth/me");
    assert.equal(redactUrl("/x?%zz=1&q"), "/x?%zz=1&q");
  });

  it("a request's logged URL carries no token, through the shared HTTP edge's request log", async () => {
    const lines: string[] = [];
    const logger = pino(loggerOptions("test", "info"), { write: (line: string) => void lines.push(line) });
    const app = createHttpServer({ logger });
    app.get("/page", async () => ({ ok: true }));
    await app.inject({ method: "GET", url: "/page?access_token=eyJhbGciOi.secret.sig&lang=es" });
    await app.close();
    const logged = lines.join("\n");
    assert.ok(logged.includes("/page?access_token=[redacted]&lang=es"), logged);
    assert.ok(!logged.includes("eyJhbGciOi"), "the token is not in the log");
  });
});
