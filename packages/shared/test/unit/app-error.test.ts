import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError, commonProblems, defineProblems } from "../../src/errors.ts";

const problems = defineProblems({ INVALID_TOKEN: { status: 401, title: "Invalid token" } });

describe("AppError, an expected refusal", () => {
  it("carry their code, status, detail and headers, and no stack frames", () => {
    const error = problems.error("RATE_LIMITED", "Too many requests; retry later.", {
      headers: { "retry-after": "3" },
    });
    assert.ok(error instanceof AppError && error instanceof Error);
    assert.deepEqual(
      { code: error.code, status: error.status, message: error.message, headers: error.headers },
      {
        code: "RATE_LIMITED",
        status: 429,
        message: "Too many requests; retry later.",
        headers: { "retry-after": "3" },
      },
    );
    assert.equal(error.stack, "AppError: Too many requests; retry later.");
  });

  it("leave stack traces of every other error as they were", () => {
    const before = Error.stackTraceLimit;
    new AppError("NOT_FOUND", commonProblems.NOT_FOUND);
    problems.error("INVALID_TOKEN");
    assert.equal(Error.stackTraceLimit, before);
    const fault = new Error("a real fault");
    assert.match(fault.stack ?? "", /\n\s+at .*app-error\.test\.ts/);
  });
});
