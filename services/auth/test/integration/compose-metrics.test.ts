import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createLogger } from "@mimascota/shared/logger";
import { startAuthService } from "../../src/compose.ts";
import { loadAuthConfig } from "../../src/config.ts";

/** The whole service as `npm start` composes it (embedded mode), scraped once. */
async function scrape(env: Record<string, string>): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), "mm-auth-compose-"));
  const service = await startAuthService(
    loadAuthConfig({ PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "silent", ...env }),
    {
      logger: createLogger("auth-test", "silent"),
    },
  );
  try {
    return (await service.app.inject({ url: "/metrics" })).body;
  } finally {
    await service.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe("the composed auth service's metrics", () => {
  it("exposes when housekeeping last finished (its start, before the first pass) and its interval only while housekeeping runs", async () => {
    const startedAt = Date.now() / 1000;
    const on = await scrape({ HOUSEKEEPING_INTERVAL: "600" });
    assert.match(on, /^auth_housekeeping_interval_seconds 600$/m, "the stall alert's threshold follows it");
    const value = Number(/^auth_housekeeping_last_pass_timestamp_seconds (\S+)$/m.exec(on)?.[1]);
    assert.ok(value >= Math.floor(startedAt) && value <= Date.now() / 1000, on);
    assert.match(on, /^auth_password_hashes\{state="waiting"\} 0$/m);
    const off = await scrape({ HOUSEKEEPING_INTERVAL: "0" });
    assert.doesNotMatch(
      off,
      /auth_housekeeping_last_pass_timestamp_seconds|auth_housekeeping_interval_seconds/,
      "no stale timestamp for the alert",
    );
    assert.match(off, /^auth_housekeeping_deleted_total\{table="sessions"\} 0$/m);
  });
});
