import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openDatabase } from "@mimascota/shared/db/database";
import { migrateInfra } from "@mimascota/shared/db/infra-migrations";
import { createLogger } from "@mimascota/shared/logger";
import { startAuthService, type RunningAuthService } from "../../../services/auth/src/compose.ts";
import { loadAuthConfig, type AuthConfig } from "../../../services/auth/src/config.ts";
import { migrateAuth } from "../../../services/auth/src/db/migrations.ts";
import { killOnExit, forget, until } from "./processes.ts";

/** Settings every resilience test wants: quiet, no artificial response floor, plain-http cookies. */
const baseEnv = {
  NODE_ENV: "test",
  LOG_LEVEL: "silent",
  ACCOUNT_RESPONSE_FLOOR_MS: "0",
  COOKIE_SECURE: "false",
};

/** Applies the infra and auth migrations, as `npm run migrate` does before a real deployment. */
export async function migrateDatabase(url: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "mm-resilience-migrate-"));
  const handle = await openDatabase({ url, dataDir });
  try {
    await migrateInfra(handle);
    await migrateAuth(handle);
  } finally {
    await handle.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export interface InProcessAuth {
  url: string;
  config: AuthConfig;
  service: RunningAuthService;
  close(): Promise<void>;
}

/** The auth service as production composes it (`startAuthService`), in this process, on a free port. */
export async function startInProcessAuth(env: Record<string, string>): Promise<InProcessAuth> {
  const dataDir = mkdtempSync(join(tmpdir(), "mm-resilience-auth-"));
  const config = loadAuthConfig({ ...baseEnv, PORT: "0", DATA_DIR: dataDir, ...env });
  const service = await startAuthService(config, { logger: createLogger("auth-resilience", "silent") });
  const address = service.app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    service,
    close: async () => {
      await service.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A service as its own process (its `src/main.ts`), so a test can kill it with SIGKILL and start it again on
 * the same port and data folder.
 */
export class ServiceProcess {
  readonly #entry: string;
  readonly #env: Record<string, string>;
  /** Its DATA_DIR, kept across restarts (the dev mailbox is under it). */
  readonly dataDir = mkdtempSync(join(tmpdir(), "mm-resilience-process-"));
  #child: ChildProcess | undefined;

  constructor(service: "auth" | "profiles", port: number, env: Record<string, string>) {
    this.#entry = resolve(import.meta.dirname, `../../../services/${service}/src/main.ts`);
    this.#env = { ...baseEnv, PORT: String(port), HOST: "127.0.0.1", DATA_DIR: this.dataDir, ...env };
    this.url = `http://127.0.0.1:${port}`;
  }

  readonly url: string;

  async start(): Promise<void> {
    const child = spawn(process.execPath, [this.#entry], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...this.#env },
      stdio: ["ignore", "ignore", "inherit"],
    });
    this.#child = child;
    if (child.pid) killOnExit(child.pid);
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`${this.#entry} exited with ${child.exitCode}`);
      return (await fetch(`${this.url}/health`).catch(() => undefined))?.ok === true;
    }, `${this.#entry} answers /health`);
  }

  /** SIGKILL: no graceful shutdown, connections reset, as in a crash or an OOM kill. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGKILL");
    await exited;
    if (child.pid) forget(child.pid);
    this.#child = undefined;
  }

  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The auth service as its own process. */
export class AuthProcess extends ServiceProcess {
  constructor(port: number, env: Record<string, string>) {
    super("auth", port, env);
  }
}
