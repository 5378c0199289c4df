import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freePort } from "@mimascota/shared/testing/ports";

/** `npm start`'s entry point, run as a real process: embedded mode, graceful SIGTERM, data reused on restart. */
const root = join(import.meta.dirname, "..", "..");
const dataDir = mkdtempSync(join(tmpdir(), "mm-embedded-"));

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited early with ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

async function startPlatform(ports: { auth: number; gateway: number }) {
  const child = spawn(process.execPath, ["scripts/start-embedded.ts"], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      DATA_DIR: dataDir,
      AUTH_PORT: String(ports.auth),
      GATEWAY_PORT: String(ports.gateway),
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = exitOf(child);
  // Generous: a cold PGlite initdb on a busy 2-core CI machine takes several seconds.
  await waitForHealth(`http://127.0.0.1:${ports.gateway}/health`, child, 60_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${stderr}`);
  });
  await waitForHealth(`http://127.0.0.1:${ports.auth}/health`, child, 5_000);
  return { child, exited, stderr: () => stderr };
}

async function jwksKids(authPort: number): Promise<string[]> {
  const response = await fetch(`http://127.0.0.1:${authPort}/.well-known/jwks.json`);
  const body = (await response.json()) as { keys: { kid: string }[] };
  return body.keys.map((key) => key.kid).sort();
}

describe("npm start (embedded platform)", () => {
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("serves both services, exits 0 within 10 s of SIGTERM, and reuses its data on the next start", async () => {
    const ports = { auth: await freePort(), gateway: await freePort() };
    const first = await startPlatform(ports);
    const register = await fetch(`http://127.0.0.1:${ports.gateway}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "embedded@example.com", password: "paseo largo por la playa de otoño" }),
    });
    assert.equal(register.status, 202);
    const kidsBefore = await jwksKids(ports.auth);
    assert.equal(kidsBefore.length, 1);

    const stopAt = Date.now();
    first.child.kill("SIGTERM");
    assert.equal(await first.exited, 0, first.stderr());
    assert.ok(Date.now() - stopAt < 10_000, "stopped within 10 s");

    const second = await startPlatform(ports);
    try {
      // The same signing key means the same PGlite data folder was reopened, not recreated.
      assert.deepEqual(await jwksKids(ports.auth), kidsBefore);
    } finally {
      second.child.kill("SIGTERM");
      assert.equal(await second.exited, 0, second.stderr());
    }
  });
});
