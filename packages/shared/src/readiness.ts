import { withDeadline } from "./deadline.ts";

export type CheckOutcome = "ok" | "unavailable";

/** A dependency check: it is down when it rejects, resolves `false`, or does not answer within the timeout. */
export type ReadinessCheck = () => Promise<unknown>;

export interface Readiness {
  /** `unavailable` when a required check failed; `degraded` when only a degradable one did. */
  status: "ready" | "degraded" | "unavailable";
  checks: Record<string, CheckOutcome>;
  /** The required checks that failed, by name. */
  failed: string[];
}

/**
 * One readiness design for every service: required dependencies (without them nothing works: /ready is a
 * 503) and degradable ones (the service is built to outlive them: reported, still 200, so an orchestrator does
 * not take every replica out during, say, a broker outage), all run at once, each bounded by `timeoutMs` so
 * /ready answers quickly itself.
 */
export async function checkReadiness(options: {
  required?: Record<string, ReadinessCheck>;
  degradable?: Record<string, ReadinessCheck>;
  timeoutMs?: number;
}): Promise<Readiness> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const run = async (checks: Record<string, ReadinessCheck>) => {
    const names = Object.keys(checks);
    const results = await Promise.allSettled(
      names.map((name) =>
        withDeadline(checks[name]!(), timeoutMs, () => {
          throw new Error("timed out");
        }),
      ),
    );
    return Object.fromEntries(
      names.map((name, i) => {
        const result = results[i]!;
        return [name, result.status === "fulfilled" && result.value !== false ? "ok" : "unavailable"];
      }),
    ) as Record<string, CheckOutcome>;
  };
  const [required, degradable] = await Promise.all([
    run(options.required ?? {}),
    run(options.degradable ?? {}),
  ]);
  const failed = Object.keys(required).filter((name) => required[name] === "unavailable");
  const status =
    failed.length > 0
      ? "unavailable"
      : Object.values(degradable).includes("unavailable")
        ? "degraded"
        : "ready";
  return { status, checks: { ...required, ...degradable }, failed };
}
