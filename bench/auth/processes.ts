import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { freePort } from "@mimascota/shared/testing/ports";
export { freePort };

/**
 * Services run on CPU 0 and the load generators on CPU 1 (when there are two or more), so "per core" means
 * one core for the service process and all its threads (event loop, libuv pool running argon2, GC).
 * PostgreSQL and Redis are not pinned: they are the platform's other tiers, not the service measured.
 */
export const pinned = cpus().length >= 2;
export const SERVICE_CPU = "0";

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  log: () => string;
  stop(): Promise<void>;
}

/** Starts `node <entry>` (or any command) on the service core, with its output kept for error reports. */
export function startPinned(name: string, command: string[], env: NodeJS.ProcessEnv): ServiceProcess {
  const argv = pinned ? ["taskset", "-c", SERVICE_CPU, ...command] : command;
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  return {
    name,
    child,
    pid: child.pid,
    log: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

/** Polls a URL until it answers 200, failing with the process log if it exits or takes too long. */
export async function waitHealthy(url: string, service: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) throw new Error(`${service.name} exited:\n${service.log()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${service.name} not healthy at ${url} after ${timeoutMs} ms:\n${service.log()}`);
}

/** Peak resident set (VmHWM) and current RSS in MiB, from the kernel's accounting. */
export function memoryOf(pid: number): { peakMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  return { peakMiB: kib("VmHWM") / 1024, rssMiB: kib("VmRSS") / 1024 };
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system, every thread) the process has used so far. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the whole line.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
