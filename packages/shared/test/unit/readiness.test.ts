import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkReadiness } from "../../src/readiness.ts";

const ok = async () => undefined;
const down = async () => {
  throw new Error("refused");
};

describe("readiness", () => {
  it("is ready when every check answers", async () => {
    assert.deepEqual(await checkReadiness({ required: { database: ok }, degradable: { kv: ok } }), {
      status: "ready",
      checks: { database: "ok", kv: "ok" },
      failed: [],
    });
  });

  it("is degraded when only a degradable check fails (a rejection or a false answer)", async () => {
    const readiness = await checkReadiness({
      required: { database: ok },
      degradable: { kafka: down, redis: async () => false },
    });
    assert.equal(readiness.status, "degraded");
    assert.deepEqual(readiness.checks, { database: "ok", kafka: "unavailable", redis: "unavailable" });
  });

  it("is unavailable, naming them, when a required check fails or does not answer in time", async () => {
    const readiness = await checkReadiness({
      required: { database: () => new Promise(() => undefined), keys: down },
      timeoutMs: 20,
    });
    assert.equal(readiness.status, "unavailable");
    assert.deepEqual(readiness.failed, ["database", "keys"]);
  });
});
