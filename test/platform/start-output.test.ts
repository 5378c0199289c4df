import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FRONT_END_ORIGIN,
  runningSummary,
  StartProgress,
  startProgressFor,
  type RunningPlatform,
} from "../../scripts/start-output.ts";

function terminal(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) };
}

const platform: RunningPlatform = {
  gateway: "http://localhost:8080",
  docs: "http://localhost:8080/docs",
  mailbox: "http://localhost:8080/_dev/mail",
  publicAppUrl: "http://localhost:3000",
  corsOrigins: ["http://localhost:3000", FRONT_END_ORIGIN],
  allowedOrigins: ["http://localhost:3000", FRONT_END_ORIGIN, "http://localhost:8080"],
};

describe("npm start's output", () => {
  it("is for people on a terminal in development, and JSON only for a pipe or in production", () => {
    assert.ok(startProgressFor(terminal(true), "development"));
    assert.equal(startProgressFor(terminal(false), "development"), undefined);
    assert.equal(startProgressFor(terminal(true), "production"), undefined);
  });

  it("says what it is doing, then how long it took", () => {
    const out = terminal(true);
    let now = 1_000;
    const progress = new StartProgress(out, () => now);
    progress.step("auth service: opening its embedded database");
    now += 12_340;
    progress.done("auth service on http://localhost:8006");
    assert.deepEqual(out.written, [
      "… auth service: opening its embedded database\n",
      "✓ auth service on http://localhost:8006 (12.3 s)\n",
    ]);
  });

  it("ends with the URLs and the front end's settings", () => {
    const text = runningSummary(platform);
    assert.match(text, /gateway +http:\/\/localhost:8080\n/);
    assert.match(text, /API docs +http:\/\/localhost:8080\/docs\n/);
    assert.match(text, /dev mailbox +http:\/\/localhost:8080\/_dev\/mail\n/);
    assert.match(text, /VITE_API_URL=http:\/\/localhost:8080/);
    assert.match(text, /CORS_ORIGINS allows it, ALLOWED_ORIGINS allows it/);
    assert.match(text, /PUBLIC_APP_URL=http:\/\/localhost:3000/);
  });

  it("says which setting to change when the front end's origin is not allowed, and leaves out a mailbox that is off", () => {
    const text = runningSummary({ ...platform, mailbox: undefined, corsOrigins: [], allowedOrigins: [] });
    assert.match(text, /add it to CORS_ORIGINS, add it to ALLOWED_ORIGINS/);
    assert.doesNotMatch(text, /dev mailbox/);
  });
});
