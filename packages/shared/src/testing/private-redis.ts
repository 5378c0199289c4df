import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./ports.ts";

/**
 * A redis-server of this test's own on a free port, so that a test can stop and restart it without touching
 * the shared server other suites use. Guard its suites with `skipUnlessPrograms(["redis-server", "--version"])`.
 */
export class PrivateRedis {
  port = 0;
  #process: ChildProcess | undefined;
  /** With a data folder, every write is on disk before it is answered and a restart loads it back. */
  readonly #dataDir: string | undefined;

  constructor(options: { persistent?: boolean } = {}) {
    this.#dataDir = options.persistent ? mkdtempSync(join(tmpdir(), "mm-redis-")) : undefined;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    this.#process = spawn(
      "redis-server",
      [
        ...["--port", String(this.port), "--bind", "127.0.0.1", "--save", ""],
        ...(this.#dataDir
          ? ["--dir", this.#dataDir, "--appendonly", "yes", "--appendfsync", "always"]
          : ["--appendonly", "no"]),
      ],
      { stdio: "ignore" },
    );
    for (let i = 0; i < 50; i++) {
      if (await answers(this.port)) return this;
      await sleep(100);
    }
    throw new Error("private redis-server did not start");
  }

  /** SIGSTOP/SIGCONT: the server keeps its connections but answers nothing, like a hung host. */
  freeze(frozen: boolean): void {
    this.#process?.kill(frozen ? "SIGSTOP" : "SIGCONT");
  }

  async stop(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    this.#process = undefined;
  }

  /** Stops the server and deletes its data folder, if it has one. */
  async remove(): Promise<void> {
    await this.stop();
    if (this.#dataDir) rmSync(this.#dataDir, { recursive: true, force: true });
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.end("PING\r\n");
      socket.once("data", (data) => {
        socket.destroy();
        resolve(data.toString().startsWith("+PONG"));
      });
    });
    socket.once("error", () => resolve(false));
  });
}
