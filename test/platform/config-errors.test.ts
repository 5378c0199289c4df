import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { createTestDatabase, skipUnless } from "@mimascota/shared/testing/services";

const run = promisify(execFile);

/** Starts an entry point with extra settings; its exit code and output (it is expected to refuse to start). */
async function start(script: string, env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, [script], {
      env: { ...process.env, LOG_LEVEL: "silent", ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/**
 * A bad setting is refused at start, by every entry point alike: exit code 1 and one line per bad variable on
 * stderr, never a stack trace. Proxy lists are checked entry by entry (an invalid address used to pass the
 * check and crash the server later with "TypeError: invalid IP address").
 */
describe("configuration errors at start", () => {
  it("the gateway refuses an invalid TRUSTED_PROXIES entry", async () => {
    const result = await start("services/gateway/src/main.ts", { TRUSTED_PROXIES: "10.0.0.0/8,10.0.0.300" });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      'Invalid configuration:\n  TRUSTED_PROXIES: not an IP address, CIDR or named range: "10.0.0.300"\n',
    );
  });

  it("the auth service refuses an invalid TRUST_PROXY entry", async () => {
    const result = await start("services/auth/src/main.ts", {
      TRUST_PROXY: "1.2.3.4/99",
      DATA_DIR: "/nonexistent",
    });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      'Invalid configuration:\n  TRUST_PROXY: not an IP address, CIDR or named range: "1.2.3.4/99"\n',
    );
  });

  it("npm start names every bad variable of both services at once, without a stack", async () => {
    const result = await start("scripts/start-embedded.ts", {
      TRUSTED_PROXIES: "proxy.internal",
      TRUST_PROXY: "::1,fd00::/129",
      PORT: "",
      GATEWAY_PORT: "70000",
    });
    assert.equal(result.code, 1);
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines[0], "Invalid configuration:");
    assert.ok(
      lines.includes('  TRUST_PROXY: not an IP address, CIDR or named range: "fd00::/129"'),
      result.stderr,
    );
    assert.ok(lines.includes('  TRUSTED_PROXIES: not an IP address, CIDR or named range: "proxy.internal"'));
    assert.ok(
      lines.some((line) => line.startsWith("  PORT:")),
      "the gateway's port",
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  });

  it("each service reads the settings of its own concerns only: a bad Kafka or database setting cannot stop the gateway", async () => {
    const { loadGatewayConfig } = await import("../../services/gateway/src/config.ts");
    const config = loadGatewayConfig({
      KAFKA_SASL_MECHANISM: "gssapi",
      DATABASE_URL: "not a url",
      SMTP_URL: "::",
    });
    assert.equal(config.PORT, 8080);
    assert.equal("DATABASE_URL" in config, false);
    const { loadAuthConfig } = await import("../../services/auth/src/config.ts");
    assert.throws(() => loadAuthConfig({ KAFKA_SASL_MECHANISM: "gssapi" }), /KAFKA_SASL_MECHANISM/);
  });

  it("the profile service refuses production without a broker, and a half-configured S3 store", async () => {
    const { loadProfilesConfig } = await import("../../services/profiles/src/config.ts");
    assert.throws(
      () => loadProfilesConfig({ NODE_ENV: "production" }),
      /KAFKA_BROKERS: required when NODE_ENV=production/,
    );
    assert.throws(() => loadProfilesConfig({ S3_ENDPOINT: "http://127.0.0.1:9000" }), /S3_BUCKET/);
    const result = await start("services/profiles/src/main.ts", {
      PHOTO_MAX_BYTES: "lots",
      DATA_DIR: "/nonexistent",
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Invalid configuration:\n {2}PHOTO_MAX_BYTES: /);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  });

  it("the migrations read only the database settings: production needs no service secret or broker for them", async (t) => {
    const skip = await skipUnless("postgres");
    if (skip) return t.skip(skip);
    const database = await createTestDatabase();
    try {
      for (const script of ["services/auth/src/migrate.ts", "services/profiles/src/migrate.ts"]) {
        const result = await start(script, {
          NODE_ENV: "production",
          DATABASE_URL: database.url,
          DATA_DIR: "/nonexistent",
        });
        assert.equal(result.code, 0, `${script}: ${result.stderr}`);
      }
    } finally {
      await database.drop();
    }
  });

  it("accepts addresses, CIDRs and proxy-addr's named ranges", async () => {
    const { loadGatewayConfig } = await import("../../services/gateway/src/config.ts");
    const config = loadGatewayConfig({ TRUSTED_PROXIES: "loopback, 10.0.0.0/8, 192.168.1.7, fd00::/8, ::1" });
    assert.deepEqual(config.TRUSTED_PROXIES, ["loopback", "10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1"]);
  });
});
