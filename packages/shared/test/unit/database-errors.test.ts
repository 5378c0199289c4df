import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isDatabaseUnavailable } from "../../src/db/database-errors.ts";

describe("database unavailability", () => {
  it("recognises refused and terminated connections, also wrapped as a cause or in an AggregateError", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    assert.ok(isDatabaseUnavailable(refused));
    assert.ok(isDatabaseUnavailable(new Error("Failed query: select 1", { cause: refused })));
    assert.ok(isDatabaseUnavailable(new AggregateError([refused], "")));
    assert.ok(isDatabaseUnavailable(new Error("Connection terminated unexpectedly")));
    assert.ok(isDatabaseUnavailable(Object.assign(new Error("terminating connection"), { code: "57P01" })));
    assert.ok(isDatabaseUnavailable(Object.assign(new Error("connection failure"), { code: "08006" })));
    assert.ok(isDatabaseUnavailable(new Error("PGlite is closed")));
  });

  it("leaves query errors (constraint violations, syntax) alone", () => {
    assert.ok(!isDatabaseUnavailable(Object.assign(new Error("duplicate key"), { code: "23505" })));
    assert.ok(!isDatabaseUnavailable(Object.assign(new Error("syntax error"), { code: "42601" })));
    assert.ok(!isDatabaseUnavailable(new TypeError("x is undefined")));
    assert.ok(!isDatabaseUnavailable(undefined));
  });
});
