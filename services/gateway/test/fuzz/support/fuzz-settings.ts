import type { TestContext } from "node:test";
import type fc from "fast-check";

/** Fixed unless FUZZ_SEED says otherwise, so a failure seen in CI replays locally with the same inputs. */
const DEFAULT_SEED = 20_261_124;
/** Inputs per property at scale 1; FUZZ_RUNS sets it (e.g. 5000 for a long local run). */
const DEFAULT_RUNS = 800;

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(value)}`);
  return n;
}

export const fuzzSeed = positiveInt(process.env.FUZZ_SEED, DEFAULT_SEED, "FUZZ_SEED");
export const fuzzRuns = Math.max(1, positiveInt(process.env.FUZZ_RUNS, DEFAULT_RUNS, "FUZZ_RUNS"));

/**
 * fast-check parameters for one property, `share` of the base runs, and the replay line printed with the
 * test (fast-check's own failure report adds the counterexample's `path`).
 */
export function fuzzParameters(t: TestContext, share = 1): fc.Parameters<unknown> {
  const numRuns = Math.max(1, Math.round(fuzzRuns * share));
  // Each test draws its own stream from the one base seed, so endpoints do not all get the same shapes.
  const seed = (fuzzSeed + stableHash(t.fullName)) | 0;
  t.diagnostic(
    `fast-check seed ${seed} (FUZZ_SEED=${fuzzSeed} + test name), ${numRuns} runs (FUZZ_RUNS=${fuzzRuns})`,
  );
  return { seed, numRuns, endOnFailure: true, reporter: compactReport };
}

/**
 * fast-check's default report prints the whole counterexample, megabytes for an oversized body: keep the
 * assertion (which names the request) and the replay coordinates, and cut the counterexample short.
 */
function compactReport(details: fc.RunDetails<unknown>): void {
  if (!details.failed) return;
  const cut = (text: string, max: number) =>
    text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
  const example = cut(JSON.stringify(details.counterexample, bufferAsText) ?? "", 3_000);
  const error =
    details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `property failed after ${details.numRuns} runs (seed ${details.seed}, path "${details.counterexamplePath}")\n` +
      `${cut(error, 4_000)}\ncounterexample: ${example}`,
    { cause: details.errorInstance },
  );
}

function bufferAsText(_key: string, value: unknown): unknown {
  const buffer = value as { type?: string; data?: number[] };
  return buffer?.type === "Buffer" && Array.isArray(buffer.data)
    ? Buffer.from(buffer.data).toString("latin1")
    : value;
}

function stableHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}
