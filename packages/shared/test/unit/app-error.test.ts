import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError, commonError, defineProblems, problemBody } from "../../src/errors.ts";

const problems = defineProblems(
  { INVALID_TOKEN: { status: 401 } },
  {
    es: { INVALID_TOKEN: { title: "Token inválido", detail: "El token {which} no vale." } },
    en: { INVALID_TOKEN: { title: "Invalid token", detail: "The {which} token is no good." } },
  },
);

describe("AppError, an expected refusal", () => {
  it("carry their code, status, English detail and headers, and no stack frames", () => {
    const error = problems.error("RATE_LIMITED", { headers: { "retry-after": "3" } });
    assert.ok(error instanceof AppError && error instanceof Error);
    assert.deepEqual(
      { code: error.code, status: error.status, message: error.message, headers: error.headers },
      {
        code: "RATE_LIMITED",
        status: 429,
        message: "Too many requests; wait a moment and retry.",
        headers: { "retry-after": "3" },
      },
    );
    assert.equal(error.stack, "AppError: Too many requests; wait a moment and retry.");
  });

  it("render title and detail in the asked language, Spanish by default, with parameters filled", () => {
    const error = problems.error("INVALID_TOKEN", { params: { which: "X" } });
    assert.deepEqual(
      { title: problemBody(error, "r").title, detail: problemBody(error, "r").detail },
      { title: "Token inválido", detail: "El token X no vale." },
    );
    assert.equal(problemBody(error, "r", "en").detail, "The X token is no good.");
    assert.equal(problemBody(error, "r", "en").code, "INVALID_TOKEN");
  });

  it("leave stack traces of every other error as they were", () => {
    const before = Error.stackTraceLimit;
    commonError("NOT_FOUND");
    problems.error("INVALID_TOKEN");
    assert.equal(Error.stackTraceLimit, before);
    const fault = new Error("a real fault");
    assert.match(fault.stack ?? "", /\n\s+at .*app-error\.test\.ts/);
  });
});
