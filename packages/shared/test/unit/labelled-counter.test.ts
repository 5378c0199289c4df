import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { LabelledCounter } from "../../src/metrics/labelled-counter.ts";

describe("a labelled counter", () => {
  it("exports every known value at 0 from the start, and counts each apart", async () => {
    const registry = new Registry();
    const counter = new LabelledCounter({
      name: "test_results_total",
      help: "Results",
      label: "result",
      values: ["ok", "failed"] as const,
      registers: [registry],
    });
    counter.inc("ok");
    counter.inc("ok");
    const text = await registry.metrics();
    assert.match(text, /^test_results_total\{result="ok"\} 2$/m);
    assert.match(text, /^test_results_total\{result="failed"\} 0$/m);
  });
});
