import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import {
  comparableHeaders,
  post,
  register,
  STRONG_PASSWORD,
  verifiedUser,
} from "../support/account-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import { median, sameTiming, timeAlternately } from "../support/timing.ts";

const ROUNDS = 30;

/**
 * Known and unknown emails must be indistinguishable on register, resend-verification and forgot-password:
 * same status, body and headers, and response times whose distributions do not differ beyond noise. Runs
 * with the default response floor (ACCOUNT_RESPONSE_FLOOR_MS), which is what hides the different work.
 */
describe("account enumeration", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext();
    await verifiedUser(ctx, "known@example.com");
    await register(ctx, "unverified@example.com");
  });
  after(() => ctx.close());

  function assertSameTiming(label: string, known: number[], unknown: number[]) {
    const verdict = sameTiming(known, unknown);
    const detail = `${label}: known median ${median(known).toFixed(2)} ms, unknown ${median(unknown).toFixed(2)} ms, gap ${verdict.gap.toFixed(2)} ms, tolerance ${verdict.tolerance.toFixed(2)} ms`;
    assert.ok(verdict.ok, detail);
  }

  it("register: the same status, body and headers for an existing and a new email", async () => {
    const existing = await post(ctx, "register", { email: "known@example.com", password: STRONG_PASSWORD });
    const fresh = await post(ctx, "register", { email: "brand-new@example.com", password: STRONG_PASSWORD });
    assert.equal(existing.statusCode, 202);
    assert.equal(existing.statusCode, fresh.statusCode);
    assert.equal(existing.body, fresh.body);
    assert.deepEqual(comparableHeaders(existing), comparableHeaders(fresh));
  });

  it("register: response times for existing and new emails do not differ beyond noise", async () => {
    const times = await timeAlternately(
      ROUNDS,
      () => post(ctx, "register", { email: "known@example.com", password: STRONG_PASSWORD }),
      (round) => post(ctx, "register", { email: `timing-${round}@example.com`, password: STRONG_PASSWORD }),
    );
    assertSameTiming("register", times.a, times.b);
  });

  it("resend-verification: response times for unverified and unknown emails do not differ beyond noise", async () => {
    const times = await timeAlternately(
      ROUNDS,
      () => {
        // Past the cooldown every time, so the known side really issues a token and queues a mail.
        ctx.clock.advance(61_000);
        return post(ctx, "resend-verification", { email: "unverified@example.com" });
      },
      (round) => post(ctx, "resend-verification", { email: `nobody-${round}@example.com` }),
    );
    const sent = (await ctx.mails()).filter((m) => m.toAddress === "unverified@example.com");
    assert.equal(sent.length, ROUNDS + 1, "the known side did its full work each time");
    assertSameTiming("resend-verification", times.a, times.b);
  });
  it("forgot-password: response times for known and unknown emails do not differ beyond noise", async () => {
    const times = await timeAlternately(
      ROUNDS,
      () => {
        ctx.clock.advance(61_000);
        return post(ctx, "forgot-password", { email: "known@example.com" });
      },
      (round) => post(ctx, "forgot-password", { email: `stranger-${round}@example.com` }),
    );
    const sent = (await ctx.mails()).filter(
      (m) => m.toAddress === "known@example.com" && m.template === "reset-password",
    );
    assert.equal(sent.length, ROUNDS, "the known side did its full work each time");
    assertSameTiming("forgot-password", times.a, times.b);
  });
});
