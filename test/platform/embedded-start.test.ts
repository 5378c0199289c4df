import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { freePort } from "@mimascota/shared/testing/ports";

/** `npm start`'s entry point, run as a real process: embedded mode, graceful SIGTERM, data reused on restart. */
const root = join(import.meta.dirname, "..", "..");
const dataDir = mkdtempSync(join(tmpdir(), "mm-embedded-"));
const windows = process.platform === "win32";
type Ports = { auth: number; gateway: number; profiles: number };

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

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

/**
 * Stopped by SIGTERM the way the platform can: on Unix a graceful shutdown that exits 0; Windows has no SIGTERM
 * (Node's kill() ends the process at once, and reports the signal), so there only that it ended is asserted.
 */
function assertStoppedBySigterm(exit: Exit, stderr: string): void {
  if (windows) assert.equal(exit.signal, "SIGTERM", stderr);
  else assert.equal(exit.code, 0, stderr);
}

/** The platform through its entry point (`node`), or through `npm start` with the project's Node first on PATH. */
async function startPlatform(ports: Ports, via: "node" | "npm" = "node") {
  const env = {
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
    DATA_DIR: dataDir,
    AUTH_PORT: String(ports.auth),
    GATEWAY_PORT: String(ports.gateway),
    PROFILES_PORT: String(ports.profiles),
    LOG_LEVEL: "warn",
  };
  const child =
    via === "node"
      ? spawn(process.execPath, ["scripts/start-embedded.ts"], {
          cwd: root,
          env,
          stdio: ["ignore", "ignore", "pipe"],
        })
      : // npm finds its cache and config from the home folder. Its own process group, so a test that fails can
        // still stop what npm started.
        spawn("npm", ["start"], {
          cwd: root,
          env: {
            ...env,
            HOME: process.env.HOME,
            USERPROFILE: process.env.USERPROFILE,
            APPDATA: process.env.APPDATA,
          },
          stdio: ["ignore", "ignore", "pipe"],
          detached: true,
        });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = exitOf(child);
  // Generous: a cold PGlite initdb on a busy 2-core CI machine takes several seconds.
  await waitForHealth(`http://127.0.0.1:${ports.gateway}/health`, child, 60_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${stderr}`);
  });
  await waitForHealth(`http://127.0.0.1:${ports.auth}/health`, child, 5_000);
  await waitForHealth(`http://127.0.0.1:${ports.profiles}/health`, child, 5_000);
  return { child, exited, stderr: () => stderr };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function waitForFreePorts(ports: Ports, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const held = [];
    for (const [name, port] of Object.entries(ports))
      if (!(await portIsFree(port))) held.push(`${name} ${port}`);
    if (held.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`still held ${timeoutMs} ms after SIGTERM: ${held.join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Verifies the address from the dev mailbox (through the gateway) and signs in; the access token. */
async function signIn(gateway: string, email: string, password: string): Promise<string> {
  let link: string | undefined;
  for (let i = 0; i < 50 && !link; i++) {
    const { mails } = (await (await fetch(`${gateway}/_dev/mail?format=json`)).json()) as {
      mails: { to: string; text: string }[];
    };
    link = mails.find((mail) => mail.to.includes(email))?.text.match(/https?:\/\/\S*verify-email\S*/)?.[0];
    if (!link) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(link, "a verification mail arrived");
  const token = new URL(link).searchParams.get("token");
  const verify = await fetch(`${gateway}/api/v1/auth/verify-email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  assert.equal(verify.status, 200);
  const login = await fetch(`${gateway}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(login.status, 200);
  return ((await login.json()) as { accessToken: string }).accessToken;
}

async function jwksKids(authPort: number): Promise<string[]> {
  const response = await fetch(`http://127.0.0.1:${authPort}/.well-known/jwks.json`);
  const body = (await response.json()) as { keys: { kid: string }[] };
  return body.keys.map((key) => key.kid).sort();
}

describe("npm start (embedded platform)", () => {
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("serves the three services, exits 0 within 10 s of SIGTERM, and reuses its data on the next start", async () => {
    const ports = { auth: await freePort(), gateway: await freePort(), profiles: await freePort() };
    const first = await startPlatform(ports);
    const gateway = `http://127.0.0.1:${ports.gateway}`;
    const password = "paseo largo por la playa de otoño";
    // The original front end's nested registration: its profile fields travel in process to the profile service.
    const register = await fetch(`${gateway}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        baseUser: {
          name: "Lucía",
          secondName: "Fernández",
          email: "embedded@example.com",
          password,
          documentType: "CI",
          document: "45678901",
          ubication: {
            department: "Canelones",
            city: "Pando",
            postalCode: "91000",
            street: "Rivera",
            number: "55",
          },
        },
        client: { birthDate: "03/04/1995" },
      }),
    });
    assert.equal(register.status, 202);
    const signedIn = await signIn(gateway, "embedded@example.com", password);
    const me = await fetch(`${gateway}/api/v1/profiles/me`, {
      headers: { authorization: `Bearer ${signedIn}` },
    });
    assert.equal(me.status, 200);
    const profile = (await me.json()) as Record<string, unknown>;
    assert.equal(profile.name, "Lucía");
    assert.equal(profile.second_name, "Fernández");
    assert.equal(profile.document, "45678901");
    assert.equal(profile.birth_date, "1995-04-03");
    assert.equal(profile.city, "Pando");
    const kidsBefore = await jwksKids(ports.auth);
    assert.equal(kidsBefore.length, 1);

    const stopAt = Date.now();
    first.child.kill("SIGTERM");
    assertStoppedBySigterm(await first.exited, first.stderr());
    assert.ok(Date.now() - stopAt < 10_000, "stopped within 10 s");

    const second = await startPlatform(ports);
    try {
      // The same signing key means the same PGlite data folder was reopened, not recreated.
      assert.deepEqual(await jwksKids(ports.auth), kidsBefore);
    } finally {
      second.child.kill("SIGTERM");
      assertStoppedBySigterm(await second.exited, second.stderr());
    }
  });

  it(
    "stops with `npm start`: SIGTERM to npm frees the three ports within 10 s",
    // Killing npm.cmd's shell there leaves npm itself running; a console's Ctrl+C reaches every process in it.
    { skip: windows && "Windows has no SIGTERM to send to npm" },
    async () => {
      const ports = { auth: await freePort(), gateway: await freePort(), profiles: await freePort() };
      const npm = await startPlatform(ports, "npm");
      try {
        npm.child.kill("SIGTERM");
        await waitForFreePorts(ports, 10_000);
      } finally {
        // Whatever npm left behind, so a failure here does not hold the ports for the next test.
        if (npm.child.pid) {
          try {
            process.kill(-npm.child.pid, "SIGKILL");
          } catch {
            // the group is gone: nothing was left
          }
        }
        await npm.exited;
      }
    },
  );
});
