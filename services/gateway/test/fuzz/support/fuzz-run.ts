import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import fc from "fast-check";
import type { FuzzPlatform } from "./fuzz-platform.ts";
import { fuzzParameters } from "./fuzz-settings.ts";
import { sendRaw } from "./raw-http.ts";
import type { FuzzCase } from "./request-arbitraries.ts";
import { checkResponse } from "./response-checks.ts";

/** Answers seen, by status and problem code: printed so a reader sees how deep the inputs got. */
export class Outcomes {
  readonly #counts = new Map<string, number>();

  add(status: number, body: string): void {
    let code = "";
    if (status >= 400) {
      try {
        code = ` ${String((JSON.parse(body) as { code?: unknown }).code)}`;
      } catch {
        code = " (no body)";
      }
    }
    const key = `${status}${code}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  summary(): string {
    return [...this.#counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([key, n]) => `${key}: ${n}`)
      .join(", ");
  }
}

/**
 * Runs a property over generated requests through the gateway: each answer must pass `checkResponse`, and a
 * rejected request (any 4xx) must leave the database exactly as it was. Accepted requests (e.g. a valid
 * registration the generator happened to build) may change state; the next comparison starts from there.
 */
export async function fuzzRequests(
  t: TestContext,
  platform: FuzzPlatform,
  cases: fc.Arbitrary<FuzzCase & { guarded: boolean }>,
  share = 1,
): Promise<void> {
  const outcomes = new Outcomes();
  let state = await platform.fingerprint();
  await fc.assert(
    fc.asyncProperty(cases, async ({ request, validBearer, guarded }) => {
      const response = await sendRaw(platform.port, request);
      outcomes.add(response.status, response.body);
      checkResponse(request, response, { validBearer, guarded });
      const after = await platform.fingerprint();
      if (response.status >= 400) {
        assert.equal(after, state, `a rejected request changed state: ${request.method} ${request.target}`);
      }
      state = after;
    }),
    fuzzParameters(t, share),
  );
  t.diagnostic(`answers: ${outcomes.summary()}`);
}
