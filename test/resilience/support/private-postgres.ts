import { chownSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { userInfo } from "node:os";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { forget, freePort, isAlive, killOnExit, run, waitForExit } from "./processes.ts";

const BIN = process.env.PG_BIN_DIR ?? "/usr/lib/postgresql/15/bin";
const runsAsRoot = process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: as root, its programs run as the `postgres` system user. */
function asServerUser(program: string, args: string[]): [string, string[]] {
  const path = join(BIN, program);
  return runsAsRoot ? ["runuser", ["-u", "postgres", "--", path, ...args]] : [path, args];
}

/** The programs the private cluster needs, for `skipUnlessPrograms`. */
export const postgresBinaries: [string, ...string[]][] = [
  [join(BIN, "initdb"), "--version"],
  [join(BIN, "pg_ctl"), "--version"],
  ...(runsAsRoot ? [["runuser", "-u", "postgres", "--", "true"] as [string, ...string[]]] : []),
];

/**
 * A PostgreSQL cluster of this test's own (initdb in a temp folder, a free port, trust auth on loopback), so
 * the test can crash and restart it without touching the shared server other suites use.
 */
export class PrivatePostgres {
  port = 0;
  readonly #dir = mkdtempSync(join(tmpdir(), "mm-resilience-pg-"));
  readonly #data = join(this.#dir, "data");
  #initialised = false;

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Creates the cluster on first call; starts (or restarts after `crash`) the server and waits for it. */
  async start(): Promise<this> {
    if (!this.#initialised) {
      if (runsAsRoot) chownSync(this.#dir, uidOf("postgres"), gidOf("postgres"));
      this.port = await freePort();
      await run(
        ...asServerUser("initdb", [
          "-D",
          this.#data,
          "-U",
          "postgres",
          "-A",
          "trust",
          "--no-sync",
          "-E",
          "UTF8",
        ]),
        { timeout: 60_000 },
      );
      this.#initialised = true;
    }
    const options = [
      `-p ${this.port}`,
      `-k ${this.#dir}`,
      "-c listen_addresses=127.0.0.1",
      // Only a server crash is simulated, never a host crash: the WAL in the page cache survives it.
      "-c fsync=off",
      "-c max_connections=50",
    ].join(" ");
    await run(
      ...asServerUser("pg_ctl", [
        "-D",
        this.#data,
        "-l",
        join(this.#dir, "server.log"),
        "-o",
        options,
        "-w",
        "-t",
        "60",
        "start",
      ]),
      { timeout: 70_000 },
    );
    killOnExit(this.pid(), "SIGQUIT");
    return this;
  }

  /** The postmaster's pid, from the first line of postmaster.pid. */
  pid(): number {
    return Number(readFileSync(join(this.#data, "postmaster.pid"), "utf8").split("\n")[0]);
  }

  /**
   * SIGQUIT to the postmaster: PostgreSQL's immediate shutdown, which drops every connection at once and
   * leaves the cluster to crash recovery on the next start, as after a crash.
   */
  async crash(): Promise<void> {
    const pid = this.pid();
    process.kill(pid, "SIGQUIT");
    await waitForExit(pid, "the private postmaster");
    forget(pid);
  }

  async close(): Promise<void> {
    try {
      const pid = this.pid();
      if (isAlive(pid)) {
        // Smart shutdown first: pg's Pool.end() resolves before its sockets have closed, and terminating
        // those sessions would surface as an unhandled "Connection terminated" in the test process.
        process.kill(pid, "SIGTERM");
        await waitForExit(pid, "the private postmaster", 5_000).catch(async () => {
          process.kill(pid, "SIGQUIT");
          await waitForExit(pid, "the private postmaster");
        });
      }
      forget(pid);
    } catch {
      // never started, or already stopped
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

function uidOf(user: string): number {
  return idField(user, 2);
}

function gidOf(user: string): number {
  return idField(user, 3);
}

function idField(user: string, field: number): number {
  if (userInfo().username === user) return field === 2 ? userInfo().uid : userInfo().gid;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith(`${user}:`));
  const value = Number(line?.split(":")[field]);
  if (!Number.isInteger(value)) throw new Error(`no system user ${user}`);
  return value;
}
