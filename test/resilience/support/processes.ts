import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { freePort } from "@mimascota/shared/testing/ports";
export { freePort };

export const run = promisify(execFile);

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitForExit(pid: number, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`${what} (pid ${pid}) did not exit within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Polls `check` until it is true; fails with `what` after `timeoutMs`. */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(100);
  }
}

/**
 * Servers started detached (pg_ctl, kafka.sh) outlive the test process if it dies before its `after` hooks
 * run; this last-resort hook kills them when the process exits, whatever the cause.
 */
const leftovers = new Map<number, NodeJS.Signals>();
let hooked = false;

export function killOnExit(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  leftovers.set(pid, signal);
  if (hooked) return;
  hooked = true;
  process.once("exit", () => {
    for (const [leftover, how] of leftovers) {
      try {
        process.kill(leftover, how);
      } catch {
        // already gone
      }
    }
  });
}

export function forget(pid: number): void {
  leftovers.delete(pid);
}
